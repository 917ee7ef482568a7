//! The ledger: side effects written outside the store, one line each, so
//! the checks can tell what ran and in which process (generation).
//!
//! A line is `<kind> <tag> <attempt> <generation>`: `act` for an activity
//! execution, `local` for a local activity's, `beat` for one heartbeat
//! step, `ack` for a client call the engine acknowledged (its tag names
//! the fact that must then be durable: `update:<id>`). A step's tag names
//! it uniquely in the workload (`e3-chain-1/r2`).
//! Each line goes out in one `write` on a file opened for appending, which
//! a kill -9 cannot tear; the page cache keeps it, which is all a kill
//! needs (power loss is the power test's business, not the ledger's).

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::Path;
use std::sync::Mutex;

static LEDGER: Mutex<Option<(File, u32)>> = Mutex::new(None);

/// Opens the ledger for this process, as generation `generation` (a test
/// that restarts an engine in one process opens it again with the next).
pub fn open(path: &Path, generation: u32) -> std::io::Result<()> {
    let file = OpenOptions::new().create(true).append(true).open(path)?;
    let mut ledger = LEDGER
        .lock()
        .map_err(|_| std::io::Error::other("the ledger's lock is poisoned"))?;
    *ledger = Some((file, generation));
    Ok(())
}

/// Appends one line; fails when no ledger is open (a workload run outside
/// the chaos program has nowhere to record and must not pretend).
pub fn record(kind: &str, tag: &str, attempt: u32) -> std::io::Result<()> {
    let mut ledger = LEDGER
        .lock()
        .map_err(|_| std::io::Error::other("the ledger's lock is poisoned"))?;
    let (file, generation) = ledger
        .as_mut()
        .ok_or_else(|| std::io::Error::other("the chaos ledger is not open"))?;
    let line = format!("{kind} {tag} {attempt} {generation}\n");
    file.write_all(line.as_bytes())
}

/// One line of the ledger.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// `act`, `local`, `beat` or `ack`.
    pub kind: String,
    /// The step.
    pub tag: String,
    /// The attempt that ran.
    pub attempt: u32,
    /// The process that ran it.
    pub generation: u32,
}

/// Reads a ledger; a line that does not parse is an error (the ledger is
/// written only by this crate).
pub fn read(path: &Path) -> Result<Vec<Entry>, String> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(format!("reading {}: {e}", path.display())),
    };
    text.lines()
        .map(|line| {
            let parts: Vec<&str> = line.split(' ').collect();
            let parse = |s: &str| s.parse::<u32>().map_err(|e| format!("{line:?}: {e}"));
            match parts.as_slice() {
                [kind, tag, attempt, generation] => Ok(Entry {
                    kind: (*kind).to_string(),
                    tag: (*tag).to_string(),
                    attempt: parse(attempt)?,
                    generation: parse(generation)?,
                }),
                _ => Err(format!("a ledger line that does not parse: {line:?}")),
            }
        })
        .collect()
}

/// The generations each step of `kind` ran in, in ledger order.
pub fn runs_by_tag(entries: &[Entry], kind: &str) -> BTreeMap<String, Vec<u32>> {
    let mut out: BTreeMap<String, Vec<u32>> = BTreeMap::new();
    for e in entries.iter().filter(|e| e.kind == kind) {
        out.entry(e.tag.clone()).or_default().push(e.generation);
    }
    out
}
