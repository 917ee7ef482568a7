//! How results are printed: aligned tables for people, JSON for scripts.

use std::io::Write;
use std::time::SystemTime;

use serde::Serialize;
use weft::Payload;

use super::CliError;

/// Tables or JSON.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Format {
    Table,
    Json,
}

impl Format {
    pub(crate) fn of(matches: &clap::ArgMatches) -> Format {
        match matches.get_one::<String>("output").map(String::as_str) {
            Some("json") => Format::Json,
            _ => Format::Table,
        }
    }
}

/// Writes a line to standard output. A reader that stopped reading (`|
/// head`) ends the command quietly ([`CliError::Closed`]) instead of
/// failing it.
pub(crate) fn line(text: impl std::fmt::Display) -> Result<(), CliError> {
    let mut out = std::io::stdout().lock();
    writeln!(out, "{text}").map_err(|e| {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            CliError::Closed
        } else {
            CliError::Other(format!("cannot write to standard output: {e}"))
        }
    })
}

/// Prints `value` as pretty JSON.
pub(crate) fn json<T: Serialize + ?Sized>(value: &T) -> Result<(), CliError> {
    let text = serde_json::to_string_pretty(value)
        .map_err(|e| CliError::Other(format!("cannot print as JSON: {e}")))?;
    line(text)
}

/// A time as UTC, to the second.
pub(crate) fn time(t: SystemTime) -> String {
    let utc: chrono::DateTime<chrono::Utc> = t.into();
    utc.format("%Y-%m-%d %H:%M:%SZ").to_string()
}

/// A time, or `-`.
pub(crate) fn maybe_time(t: Option<SystemTime>) -> String {
    t.map(time).unwrap_or_else(|| "-".into())
}

/// A payload as its JSON text when it is JSON, else its encoding and size.
pub(crate) fn payload(p: &Payload) -> String {
    match p.encoding() {
        Some(weft::converter::ENCODING_JSON) => match std::str::from_utf8(&p.data) {
            Ok(text) => text.to_string(),
            Err(_) => format!("<json/plain, {} bytes, not UTF-8>", p.data.len()),
        },
        Some(weft::converter::ENCODING_NULL) => "null".into(),
        Some(other) => format!("<{other}, {} bytes>", p.data.len()),
        None => format!("<no encoding, {} bytes>", p.data.len()),
    }
}

/// A payload as a JSON value, for `--output json`.
pub(crate) fn payload_value(p: &Payload) -> serde_json::Value {
    match p.encoding() {
        Some(weft::converter::ENCODING_JSON) => serde_json::from_slice(&p.data)
            .unwrap_or_else(|_| serde_json::Value::String(payload(p))),
        Some(weft::converter::ENCODING_NULL) => serde_json::Value::Null,
        _ => serde_json::Value::String(payload(p)),
    }
}

/// Prints rows under a header, each column as wide as its widest cell.
pub(crate) fn table(header: &[&str], rows: &[Vec<String>]) -> Result<(), CliError> {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            if let Some(w) = widths.get_mut(i) {
                *w = (*w).max(cell.chars().count());
            }
        }
    }
    let row_line = |cells: Vec<&str>| {
        let mut out = String::new();
        for (i, cell) in cells.iter().enumerate() {
            if i + 1 == cells.len() {
                out.push_str(cell);
            } else {
                let pad = widths[i].saturating_sub(cell.chars().count());
                out.push_str(cell);
                out.push_str(&" ".repeat(pad + 2));
            }
        }
        line(out.trim_end())
    };
    row_line(header.to_vec())?;
    for row in rows {
        row_line(row.iter().map(String::as_str).collect())?;
    }
    Ok(())
}

/// Prints `label: value` pairs, labels aligned.
pub(crate) fn pairs(pairs: &[(&str, String)]) -> Result<(), CliError> {
    let width = pairs.iter().map(|(l, _)| l.len()).max().unwrap_or(0);
    for (label, value) in pairs {
        line(format_args!("{label:<width$}  {value}"))?;
    }
    Ok(())
}
