//! Schedules in the engine: durable entities, one row each, driven by a
//! deadline at their next action time.
//!
//! A schedule's row holds its spec, state and policies, and its
//! bookkeeping: the last time processed, starts waiting in its buffer, the
//! workflows it watches, its recent actions. Every step that changes a
//! schedule writes its row into the batch that holds the rest of the step
//! (the workflow it started, the run whose close it noted), so after a
//! crash the two agree: a time is either processed with its workflow
//! started, or neither. On restart the rows come back and the deadlines are
//! armed again; times missed while the process was down are taken if they
//! are within the catch-up window, else counted as missed.
//!
//! Where the rest lives: calls from clients in `calls`, taking actions
//! (due times, triggers, backfills, overlap policies, closed runs) in
//! `actions`, the stored row in `record`, a row read without an engine
//! (tools that inspect a file) in `stored`. Times come from
//! `crate::schedule::spec`.

mod actions;
mod calls;
mod record;
mod stored;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::SystemTime;

use crate::backend::BackendError;
use crate::schedule::spec::{CompiledSpec, seed};
use crate::schedule::{Backfill, OverlapPolicy, Schedule, ScheduleDescription, ScheduleListEntry};

use super::deadlines::Deadline;
use super::engine_task::{EngineTask, FastMap};
use super::requests::Tx;
use super::store::ScheduleRow;

use self::record::ScheduleRecord;

pub(crate) use self::stored::{StoredSchedule, wall_clock};

/// Identifies a schedule inside the engine.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct ScheduleKey {
    pub namespace: Arc<str>,
    pub id: Arc<str>,
}

impl ScheduleKey {
    fn new(namespace: &str, id: &str) -> ScheduleKey {
        ScheduleKey {
            namespace: namespace.into(),
            id: id.into(),
        }
    }
}

/// A schedule in memory.
struct Entry {
    record: ScheduleRecord,
    /// The spec compiled, or why it does not compile (a time zone the
    /// database no longer has): such a schedule takes no scheduled action
    /// until it is updated, and says why in `describe`.
    spec: Result<CompiledSpec, String>,
    /// The jitter's seed.
    seed: u64,
    /// Tells the armed deadline from stale ones.
    generation: u64,
}

impl Entry {
    /// The record with its spec compiled and its jitter's seed.
    fn new(record: ScheduleRecord) -> Entry {
        Entry {
            spec: CompiledSpec::new(&record.schedule.spec),
            seed: seed(&record.schedule_id),
            record,
            generation: 0,
        }
    }
}

/// The engine's schedules, and which schedule watches which workflow.
#[derive(Default)]
pub(crate) struct Schedules {
    map: BTreeMap<ScheduleKey, Entry>,
    /// Workflow id -> the schedules watching a workflow of that id (in
    /// any namespace). Looked up at every run's close, without allocating.
    watching: FastMap<String, Vec<ScheduleKey>>,
    next_generation: u64,
}

impl Schedules {
    fn watch(&mut self, key: &ScheduleKey, workflow_id: &str) {
        let keys = self.watching.entry(workflow_id.to_string()).or_default();
        if !keys.contains(key) {
            keys.push(key.clone());
        }
    }

    fn unwatch(&mut self, key: &ScheduleKey, workflow_id: &str) {
        if let Some(keys) = self.watching.get_mut(workflow_id) {
            keys.retain(|k| k != key);
            if keys.is_empty() {
                self.watching.remove(workflow_id);
            }
        }
    }

    /// The schedule of `namespace` watching workflow `workflow_id`. Asked
    /// at every run's close: with no schedule watching anything, it does
    /// not even hash the id.
    fn watcher(&self, namespace: &str, workflow_id: &str) -> Option<ScheduleKey> {
        if self.watching.is_empty() {
            return None;
        }
        self.watching
            .get(workflow_id)?
            .iter()
            .find(|k| &*k.namespace == namespace)
            .cloned()
    }
}

/// A client's call about a schedule, with the channel its answer goes back on.
pub(crate) enum ScheduleCall {
    Create {
        namespace: String,
        id: String,
        schedule: Box<Schedule>,
        tx: Tx<()>,
    },
    Describe {
        namespace: String,
        id: String,
        tx: Tx<ScheduleDescription>,
    },
    Update {
        namespace: String,
        id: String,
        schedule: Box<Schedule>,
        conflict_token: Option<u64>,
        tx: Tx<()>,
    },
    Delete {
        namespace: String,
        id: String,
        tx: Tx<()>,
    },
    List {
        namespace: String,
        tx: Tx<Vec<ScheduleListEntry>>,
    },
    Trigger {
        namespace: String,
        id: String,
        overlap: Option<OverlapPolicy>,
        tx: Tx<()>,
    },
    Backfill {
        namespace: String,
        id: String,
        backfills: Vec<Backfill>,
        tx: Tx<()>,
    },
    Pause {
        namespace: String,
        id: String,
        paused: bool,
        note: Option<String>,
        tx: Tx<()>,
    },
}

impl ScheduleCall {
    /// Answers the call with `error` (the engine has stopped).
    pub(crate) fn reject(self, error: BackendError) {
        match self {
            ScheduleCall::Create { tx, .. }
            | ScheduleCall::Update { tx, .. }
            | ScheduleCall::Delete { tx, .. }
            | ScheduleCall::Trigger { tx, .. }
            | ScheduleCall::Backfill { tx, .. }
            | ScheduleCall::Pause { tx, .. } => drop(tx.send(Err(error))),
            ScheduleCall::Describe { tx, .. } => drop(tx.send(Err(error))),
            ScheduleCall::List { tx, .. } => drop(tx.send(Err(error))),
        }
    }
}

fn not_found(id: &str) -> BackendError {
    BackendError::ScheduleNotFound {
        schedule_id: id.to_string(),
    }
}

impl EngineTask {
    /// Carries out a client's call; the answer waits for the commit of
    /// what it changed.
    pub(super) fn schedule_call(&mut self, call: ScheduleCall) {
        match call {
            ScheduleCall::Create {
                namespace,
                id,
                schedule,
                tx,
            } => {
                let result = self.create_schedule(&namespace, &id, *schedule);
                self.reply(tx, result);
            }
            ScheduleCall::Describe { namespace, id, tx } => {
                let result = self.describe_schedule(&namespace, &id);
                self.reply(tx, result);
            }
            ScheduleCall::Update {
                namespace,
                id,
                schedule,
                conflict_token,
                tx,
            } => {
                let result = self.update_schedule(&namespace, &id, *schedule, conflict_token);
                self.reply(tx, result);
            }
            ScheduleCall::Delete { namespace, id, tx } => {
                let result = self.delete_schedule(&namespace, &id);
                self.reply(tx, result);
            }
            ScheduleCall::List { namespace, tx } => {
                let result = Ok(self.list_schedules(&namespace));
                self.reply(tx, result);
            }
            other => self.schedule_action_call(other),
        }
    }

    /// The calls that take actions.
    fn schedule_action_call(&mut self, call: ScheduleCall) {
        match call {
            ScheduleCall::Trigger {
                namespace,
                id,
                overlap,
                tx,
            } => {
                let result = self.trigger_schedule(&namespace, &id, overlap);
                self.reply(tx, result);
            }
            ScheduleCall::Backfill {
                namespace,
                id,
                backfills,
                tx,
            } => {
                let result = self.backfill_schedule(&namespace, &id, &backfills);
                self.reply(tx, result);
            }
            ScheduleCall::Pause {
                namespace,
                id,
                paused,
                note,
                tx,
            } => {
                let result = self.pause_schedule(&namespace, &id, paused, note);
                self.reply(tx, result);
            }
            other => self.schedule_call(other),
        }
    }

    /// Puts a schedule in memory (created, or restored) and arms its
    /// deadline.
    fn insert_schedule(&mut self, record: ScheduleRecord) -> ScheduleKey {
        let key = ScheduleKey::new(&record.namespace, &record.schedule_id);
        let entry = Entry::new(record);
        if let Err(e) = &entry.spec {
            tracing::warn!(schedule_id = %key.id, error = %e,
                "the schedule's spec does not compile; it takes no action until it is updated");
        }
        for running in &entry.record.running {
            self.schedules.watch(&key, &running.run.workflow_id);
        }
        self.schedules.map.insert(key.clone(), entry);
        self.arm_schedule(&key);
        key
    }

    /// Writes the schedule's row into the batch.
    fn write_schedule(&mut self, key: &ScheduleKey) {
        let Some(entry) = self.schedules.map.get(key) else {
            return;
        };
        match entry.record.to_op() {
            Ok(op) => self.batch.ops.push(op),
            Err(e) => {
                self.batch.fatal.get_or_insert(e);
            }
        }
    }

    /// Arms the deadline of the schedule's next action (none while it is
    /// paused, out of actions, or its spec has no more times).
    fn arm_schedule(&mut self, key: &ScheduleKey) {
        self.schedules.next_generation += 1;
        let generation = self.schedules.next_generation;
        let Some(entry) = self.schedules.map.get_mut(key) else {
            return;
        };
        entry.generation = generation;
        let Some(at) = next_due(entry) else {
            return;
        };
        self.deadlines.arm(
            at,
            Deadline::Schedule {
                key: key.clone(),
                generation,
            },
        );
    }

    /// Whether a schedule's deadline is the one armed last.
    pub(super) fn schedule_deadline_is_live(&self, key: &ScheduleKey, generation: u64) -> bool {
        self.schedules
            .map
            .get(key)
            .is_some_and(|e| e.generation == generation)
    }

    /// Brings back the schedules a store holds. A row that does not decode
    /// stops the start: the file is damaged.
    pub(super) fn restore_schedules(&mut self, rows: &[ScheduleRow]) -> Result<(), BackendError> {
        for row in rows {
            let mut record = ScheduleRecord::from_row(row)?;
            let latest = &self.latest;
            let namespace = record.namespace.clone();
            record.forget_closed(|workflow_id| {
                latest
                    .get(&(namespace.clone(), workflow_id.to_string()))
                    .is_some_and(|l| l.status.is_closed())
            });
            self.insert_schedule(record);
        }
        Ok(())
    }
}

/// When the schedule's next action is due: its next time after the last
/// processed one, plus jitter.
fn next_due(entry: &Entry) -> Option<SystemTime> {
    let record = &entry.record;
    let spec = entry.spec.as_ref().ok()?;
    if record.schedule.state.paused || record.schedule.state.remaining_actions == Some(0) {
        return None;
    }
    let nominal = spec.next_after(record.last_processed)?;
    Some(later_by(nominal, spec.jitter(entry.seed, nominal)))
}

fn later_by(t: SystemTime, d: std::time::Duration) -> SystemTime {
    t.checked_add(d).unwrap_or(t)
}
