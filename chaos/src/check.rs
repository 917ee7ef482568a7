//! What the kill program checks, read from the store (without an engine)
//! and from the ledger.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use weft::engine::SqliteStore;
use weft::engine::store::ExecutionSummary;
use weft::history::{Event, EventAttributes, LOCAL_ACTIVITY_MARKER};

use crate::workload::Step;

/// One run and its history.
#[derive(Debug)]
pub struct RunHistory {
    /// The run's row.
    pub summary: ExecutionSummary,
    /// Its events.
    pub events: Vec<Event>,
}

/// Every run in the file, oldest first, with its history. A file a killed
/// process left in need of recovery is read through a copy that a writable
/// open recovers (the original is left for the next generation).
pub fn histories(db: &Path) -> Result<Vec<RunHistory>, String> {
    match SqliteStore::open_read_only(db) {
        Ok(store) => read_all(&store),
        Err(_) => {
            let dir = std::env::temp_dir().join(format!("weft-chaos-read-{}", std::process::id()));
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
            let copy = dir.join("copy.db");
            for suffix in ["", "-wal"] {
                let from = with_suffix(db, suffix);
                if from.exists() {
                    std::fs::copy(&from, with_suffix(&copy, suffix))
                        .map_err(|e| format!("copying {}: {e}", from.display()))?;
                }
            }
            let store = SqliteStore::open(&copy).map_err(|e| format!("{}: {e}", db.display()))?;
            let out = read_all(&store);
            drop(store);
            let _ = std::fs::remove_dir_all(&dir);
            out
        }
    }
}

/// `path` with `suffix` appended to its file name.
pub fn with_suffix(path: &Path, suffix: &str) -> std::path::PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    name.into()
}

fn read_all(store: &SqliteStore) -> Result<Vec<RunHistory>, String> {
    let runs = store.list_executions().map_err(|e| e.to_string())?;
    runs.into_iter()
        .map(|summary| {
            let events = store
                .history(&summary.namespace, &summary.run_id)
                .map_err(|e| e.to_string())?;
            Ok(RunHistory { summary, events })
        })
        .collect()
}

fn step_input(payloads: &[weft::Payload]) -> Option<String> {
    let first = payloads.first()?;
    weft::converter::decode::<Step>(first).ok().map(|s| s.tag)
}

/// Tags of the activity and local activity executions whose completion
/// history holds: none of them may run again.
pub fn committed_steps(runs: &[RunHistory]) -> BTreeSet<String> {
    let mut done = BTreeSet::new();
    for run in runs {
        let mut scheduled: BTreeMap<i64, String> = BTreeMap::new();
        for e in &run.events {
            match &e.attributes {
                EventAttributes::ActivityTaskScheduled { input, .. } => {
                    if let Some(tag) = step_input(input) {
                        scheduled.insert(e.event_id, tag);
                    }
                }
                EventAttributes::ActivityTaskCompleted {
                    scheduled_event_id, ..
                } => {
                    if let Some(tag) = scheduled.get(scheduled_event_id) {
                        done.insert(tag.clone());
                    }
                }
                EventAttributes::MarkerRecorded {
                    marker_name,
                    details,
                    failure: None,
                    ..
                } if marker_name == LOCAL_ACTIVITY_MARKER => {
                    if let Some(tag) = details.get("input").and_then(|i| step_input(i)) {
                        done.insert(tag);
                    }
                }
                _ => {}
            }
        }
    }
    done
}

/// Problems found, each a sentence naming the workflow or step.
pub type Problems = Vec<String>;

/// Event ids run 1..=n; no activity id, timer id, local activity, update
/// or close appears twice; no timer fires twice or without being started.
pub fn well_formed(run: &RunHistory, problems: &mut Problems) {
    let wf = &run.summary.workflow_id;
    for (i, e) in run.events.iter().enumerate() {
        if e.event_id != i as i64 + 1 {
            problems.push(format!("{wf}: event {} at position {}", e.event_id, i + 1));
            return;
        }
    }
    let mut keys = BTreeSet::new();
    let mut timers = BTreeSet::new();
    for e in &run.events {
        let key = match &e.attributes {
            EventAttributes::ActivityTaskScheduled { activity_id, .. } => {
                Some(format!("activity {activity_id}"))
            }
            EventAttributes::ActivityTaskCompleted {
                scheduled_event_id, ..
            } => Some(format!("completion of {scheduled_event_id}")),
            EventAttributes::TimerStarted { timer_id, .. } => {
                timers.insert(e.event_id);
                Some(format!("timer {timer_id}"))
            }
            EventAttributes::TimerFired {
                started_event_id, ..
            } => {
                if !timers.contains(started_event_id) {
                    problems.push(format!("{wf}: timer {started_event_id} fired unstarted"));
                }
                Some(format!("fired {started_event_id}"))
            }
            EventAttributes::MarkerRecorded { details, .. } => {
                Some(format!("marker {:?}", details.get("seq")))
            }
            EventAttributes::WorkflowExecutionUpdateAccepted { update_id, .. } => {
                Some(format!("accepted {update_id}"))
            }
            EventAttributes::WorkflowExecutionUpdateCompleted { update_id, .. } => {
                Some(format!("completed {update_id}"))
            }
            EventAttributes::WorkflowExecutionCancelRequested { .. } => {
                Some("cancel request".into())
            }
            a if a.name().starts_with("WorkflowExecution")
                && !matches!(a, EventAttributes::WorkflowExecutionSignaled { .. })
                && a.name() != "WorkflowExecutionStarted" =>
            {
                Some(format!("close {}", a.name()))
            }
            _ => None,
        };
        if let Some(key) = key
            && !keys.insert(key.clone())
        {
            problems.push(format!("{wf}: {key} twice in run {}", run.summary.run_id));
        }
    }
}

/// A workflow id's runs: how they ended and its result.
#[derive(Debug, Default)]
pub struct Outcome {
    /// Runs of the id.
    pub runs: usize,
    /// `WorkflowExecutionCompleted` events over its runs.
    pub completions: usize,
    /// Runs closed by continue-as-new.
    pub continued: usize,
    /// The result of its (one) completion.
    pub result: Option<i64>,
    /// Update ids accepted, with how many times each.
    pub accepted: BTreeMap<String, usize>,
    /// Signals received.
    pub signals: usize,
    /// Timers fired.
    pub timers_fired: usize,
    /// Cancel requests recorded.
    pub cancel_requests: usize,
}

/// Outcomes by workflow id.
pub fn outcomes(runs: &[RunHistory]) -> BTreeMap<String, Outcome> {
    let mut out: BTreeMap<String, Outcome> = BTreeMap::new();
    for run in runs {
        let o = out.entry(run.summary.workflow_id.clone()).or_default();
        o.runs += 1;
        for e in &run.events {
            match &e.attributes {
                EventAttributes::WorkflowExecutionCompleted { result, .. } => {
                    o.completions += 1;
                    o.result = weft::converter::decode::<i64>(result).ok();
                }
                EventAttributes::WorkflowExecutionContinuedAsNew { .. } => o.continued += 1,
                EventAttributes::WorkflowExecutionUpdateAccepted { update_id, .. } => {
                    *o.accepted.entry(update_id.clone()).or_default() += 1;
                }
                EventAttributes::WorkflowExecutionSignaled { .. } => o.signals += 1,
                EventAttributes::TimerFired { .. } => o.timers_fired += 1,
                EventAttributes::WorkflowExecutionCancelRequested { .. } => {
                    o.cancel_requests += 1;
                }
                _ => {}
            }
        }
    }
    out
}

/// What the store holds that a client may have been told: `start:<id>`
/// for a workflow id with a run, `update:<id>` for a completed update,
/// `cancel:<id>` for a recorded cancel request, and `signal:<id>#<n>` for
/// the first `n` signals of a workflow id.
pub fn facts(runs: &[RunHistory]) -> BTreeSet<String> {
    let mut facts = BTreeSet::new();
    let mut signals: BTreeMap<&str, usize> = BTreeMap::new();
    for run in runs {
        let wf = run.summary.workflow_id.as_str();
        facts.insert(format!("start:{wf}"));
        for e in &run.events {
            match &e.attributes {
                EventAttributes::WorkflowExecutionUpdateCompleted { update_id, .. } => {
                    facts.insert(format!("update:{update_id}"));
                }
                EventAttributes::WorkflowExecutionCancelRequested { .. } => {
                    facts.insert(format!("cancel:{wf}"));
                }
                EventAttributes::WorkflowExecutionSignaled { .. } => {
                    *signals.entry(wf).or_default() += 1;
                }
                _ => {}
            }
        }
    }
    for (wf, n) in signals {
        facts.extend((1..=n).map(|i| format!("signal:{wf}#{i}")));
    }
    facts
}
