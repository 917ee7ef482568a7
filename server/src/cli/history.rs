//! `weft history export` and `weft history replay`.
//!
//! An export is a JSON object: `format` ("weft-history"), `version` (1),
//! the run's `namespace`, `workflow_id` and `run_id`, and its `events`,
//! one a line. `weft::history::from_json` (so `Replayer::replay_json`)
//! reads it, and the bare event array `WorkflowHandle::history_json`
//! writes.

use std::io::Write;

use clap::ArgMatches;
use serde::Serialize;
use serde_json::Value;
use weft::history::{Event, EventAttributes};
use weft::replay::Replayer;

use super::CliError;
use super::output::{self, Format};
use super::progress::Progress;
use super::source::Source;
use super::workflow::{arg, ids};

/// The `format` of an export.
pub(crate) const FORMAT: &str = "weft-history";
/// The export's version this weft writes and reads.
pub(crate) const VERSION: u64 = 1;

/// `weft history <command>`.
pub(crate) async fn run(m: &ArgMatches, replayer: Option<&Replayer>) -> Result<(), CliError> {
    match m.subcommand() {
        Some(("export", sub)) => export(sub).await,
        Some(("replay", sub)) => replay(sub, replayer).await,
        _ => Err(CliError::Usage(
            "weft history needs a command: export or replay".into(),
        )),
    }
}

async fn export(m: &ArgMatches) -> Result<(), CliError> {
    let source = Source::open(m).await?;
    let (id, run) = ids(m)?;
    eprintln!(
        "reading the history of {id:?} from the {}",
        source.describe_where()
    );
    let run_id = source.describe(&id, run.as_deref()).await?.run_id;
    let events = source.history(&id, Some(&run_id)).await?;
    let header = Header {
        namespace: source.namespace(),
        workflow_id: &id,
        run_id: &run_id,
    };
    let mut progress = Progress::new("events written", events.len(), m.get_flag("progress"));
    match arg(m, "file") {
        None => {
            let mut out = std::io::BufWriter::new(std::io::stdout().lock());
            write_export(&mut out, &header, &events, &mut progress).map_err(|e| {
                if e.kind() == std::io::ErrorKind::BrokenPipe {
                    CliError::Closed
                } else {
                    CliError::Other(format!("cannot write to standard output: {e}"))
                }
            })?;
        }
        Some(path) => {
            let fail = |e: std::io::Error| CliError::Other(format!("cannot write {path}: {e}"));
            let file = std::fs::File::create(path).map_err(fail)?;
            let mut out = std::io::BufWriter::new(file);
            write_export(&mut out, &header, &events, &mut progress).map_err(fail)?;
            let file = out.into_inner().map_err(|e| fail(e.into_error()))?;
            file.sync_all().map_err(fail)?;
        }
    }
    progress.finish();
    eprintln!("exported {} events", events.len());
    Ok(())
}

struct Header<'a> {
    namespace: &'a str,
    workflow_id: &'a str,
    run_id: &'a str,
}

fn quoted(text: &str) -> std::io::Result<String> {
    serde_json::to_string(text).map_err(std::io::Error::other)
}

/// Writes the export an event at a time, so a long history shows progress
/// and is never held twice in memory.
fn write_export(
    out: &mut impl Write,
    header: &Header<'_>,
    events: &[Event],
    progress: &mut Progress,
) -> std::io::Result<()> {
    writeln!(out, "{{")?;
    writeln!(out, "  \"format\": {},", quoted(FORMAT)?)?;
    writeln!(out, "  \"version\": {VERSION},")?;
    writeln!(out, "  \"namespace\": {},", quoted(header.namespace)?)?;
    writeln!(out, "  \"workflow_id\": {},", quoted(header.workflow_id)?)?;
    writeln!(out, "  \"run_id\": {},", quoted(header.run_id)?)?;
    write!(out, "  \"events\": [")?;
    for (i, event) in events.iter().enumerate() {
        write!(out, "{}\n    ", if i == 0 { "" } else { "," })?;
        serde_json::to_writer(&mut *out, event).map_err(|e| match e.io_error_kind() {
            Some(kind) => std::io::Error::from(kind),
            None => std::io::Error::other(e),
        })?;
        progress.advance(1);
    }
    writeln!(out, "{}]", if events.is_empty() { "" } else { "\n  " })?;
    writeln!(out, "}}")?;
    out.flush()
}

/// A history as read for replay: where from, its format, its events.
struct Loaded {
    from: String,
    format: String,
    workflow_id: Option<String>,
    events: Vec<Event>,
}

/// What `weft history replay` found.
#[derive(Serialize)]
struct Checked {
    from: String,
    format: String,
    workflow_id: Option<String>,
    workflow_type: String,
    events: usize,
    closed_by: Option<&'static str>,
    replayed: bool,
}

async fn replay(m: &ArgMatches, replayer: Option<&Replayer>) -> Result<(), CliError> {
    let loaded = match arg(m, "file") {
        Some(path) => read_file(path)?,
        None => read_run(m).await?,
    };
    let checked = check(&loaded)?;
    if let Some(replayer) = replayer {
        let id = loaded.workflow_id.as_deref().unwrap_or("replay");
        replayer.replay_workflow(id, &loaded.events).map_err(|e| {
            let e = CliError::Other(format!("replaying {} failed: {e}", loaded.from));
            tracing::warn!(error = %e, "replay failed");
            e
        })?;
    }
    let checked = Checked {
        replayed: replayer.is_some(),
        ..checked
    };
    if Format::of(m) == Format::Json {
        return output::json(&checked);
    }
    print_checked(&checked)
}

fn print_checked(c: &Checked) -> Result<(), CliError> {
    let replay = if c.replayed {
        "replayed against the registered workflow code: no nondeterminism".to_string()
    } else {
        "not replayed: this binary has no workflow code; replay runs in a binary with your \
         workflows registered (weft_server::cli::Cli::replayer, see `weft history replay --help`)"
            .to_string()
    };
    output::pairs(&[
        ("History", c.from.clone()),
        ("Format", c.format.clone()),
        (
            "Workflow id",
            c.workflow_id.clone().unwrap_or_else(|| "-".into()),
        ),
        ("Workflow type", c.workflow_type.clone()),
        (
            "Events",
            format!("{} (ids 1 to {0}, none missing)", c.events),
        ),
        ("Closed by", c.closed_by.unwrap_or("- (still open)").into()),
        ("Replay", replay),
    ])
}

async fn read_run(m: &ArgMatches) -> Result<Loaded, CliError> {
    let source = Source::open(m).await?;
    let id = arg(m, "workflow-id")
        .ok_or_else(|| CliError::Usage("give --file FILE or --workflow-id ID".into()))?;
    let run = arg(m, "run-id");
    let run_id = source.describe(id, run).await?.run_id;
    let events = source.history(id, Some(&run_id)).await?;
    Ok(Loaded {
        from: format!("run {run_id} of {id:?} on the {}", source.describe_where()),
        format: "read from the store".into(),
        workflow_id: Some(id.to_string()),
        events,
    })
}

fn read_file(path: &str) -> Result<Loaded, CliError> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        CliError::Other(format!(
            "cannot read the history file {path}: {e}{}",
            if e.kind() == std::io::ErrorKind::NotFound {
                " (write one with `weft history export -w ID -f FILE`)"
            } else {
                ""
            }
        ))
    })?;
    let invalid =
        |why: String| CliError::Other(format!("{path} is not a history weft reads: {why}"));
    // The head first, its events skipped over: a version this weft does
    // not know is named as such, not as an event it cannot read.
    let object = text.trim_start().starts_with('{');
    let (format, workflow_id) = match text.trim_start().chars().next() {
        Some('[') => (
            "event array (WorkflowHandle::history_json)".to_string(),
            None,
        ),
        Some('{') => {
            let head: Head = serde_json::from_str(&text)
                .map_err(|e| invalid(format!("it is not JSON as weft writes it: {e}")))?;
            (head.format().map_err(&invalid)?, head.workflow_id)
        }
        _ => {
            serde_json::from_str::<serde::de::IgnoredAny>(&text)
                .map_err(|e| invalid(format!("it is not JSON: {e}")))?;
            return Err(invalid(
                "expected an object (weft history export) or an array of events".into(),
            ));
        }
    };
    let mut json = serde_json::Deserializer::from_str(&text);
    let events = if object {
        serde_path_to_error::deserialize::<_, Exported>(&mut json).map(|e| e.events)
    } else {
        serde_path_to_error::deserialize::<_, Vec<Event>>(&mut json)
    };
    let events = events.map_err(|e| {
        let at = e.path().to_string();
        match at.as_str() {
            "." | "" => invalid(e.inner().to_string()),
            _ if at.starts_with('[') => invalid(format!("at events{at}: {}", e.inner())),
            _ => invalid(format!("at {at}: {}", e.inner())),
        }
    })?;
    Ok(Loaded {
        from: path.to_string(),
        format,
        workflow_id,
        events,
    })
}

/// An export's head: what it is, and whose.
#[derive(serde::Deserialize)]
struct Head {
    format: Option<Value>,
    version: Option<Value>,
    workflow_id: Option<String>,
    #[serde(default, rename = "events")]
    _events: Option<serde::de::IgnoredAny>,
}

/// An export's events.
#[derive(serde::Deserialize)]
struct Exported {
    events: Vec<Event>,
}

impl Head {
    /// The format, if weft knows it.
    fn format(&self) -> Result<String, String> {
        match self.format.as_ref().and_then(Value::as_str) {
            Some(FORMAT) => {}
            Some(other) => return Err(format!("its format is {other:?}, not {FORMAT:?}")),
            None => {
                return Err(format!(
                    "it has no \"format\": expected {FORMAT:?}, as `weft history export` writes"
                ));
            }
        }
        match self.version.as_ref().and_then(Value::as_u64) {
            Some(VERSION) => Ok(format!("{FORMAT} version {VERSION}")),
            Some(v) if v > VERSION => Err(format!(
                "it is {FORMAT} version {v}, newer than this weft reads (version {VERSION}): \
                 use the weft that wrote it, or a newer one"
            )),
            Some(v) => Err(format!("{FORMAT} version {v} is not a version weft wrote")),
            None => Err(format!(
                "it has no \"version\" (this weft reads version {VERSION})"
            )),
        }
    }
}

/// The checks every history must pass, whoever replays it.
fn check(loaded: &Loaded) -> Result<Checked, CliError> {
    let invalid =
        |why: String| CliError::Other(format!("{} is not a valid history: {why}", loaded.from));
    let events = &loaded.events;
    let Some(first) = events.first() else {
        return Err(invalid("it has no events".into()));
    };
    let EventAttributes::WorkflowExecutionStarted { workflow_type, .. } = &first.attributes else {
        return Err(invalid(format!(
            "its first event is {}, not WorkflowExecutionStarted",
            first.attributes.name()
        )));
    };
    for (expected, event) in (1i64..).zip(events) {
        if event.event_id != expected {
            return Err(invalid(format!(
                "event {} comes where event {expected} should: event ids must run 1, 2, 3... \
                 with none missing or out of order",
                event.event_id
            )));
        }
    }
    let closed_by = events
        .last()
        .map(|e| e.attributes.name())
        .filter(|name| is_close(name));
    Ok(Checked {
        from: loaded.from.clone(),
        format: loaded.format.clone(),
        workflow_id: loaded.workflow_id.clone(),
        workflow_type: workflow_type.clone(),
        events: events.len(),
        closed_by,
        replayed: false,
    })
}

fn is_close(name: &str) -> bool {
    matches!(
        name,
        "WorkflowExecutionCompleted"
            | "WorkflowExecutionFailed"
            | "WorkflowExecutionCanceled"
            | "WorkflowExecutionTerminated"
            | "WorkflowExecutionTimedOut"
            | "WorkflowExecutionContinuedAsNew"
    )
}
