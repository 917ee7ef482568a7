//! The storage interface the engine's writer thread uses, and the in-memory
//! store.
//!
//! A store keeps six things: one row per run (identity, status, what
//! list filters read of it, and the engine's serialized per-run state),
//! each run's history events, a row per pending activity of a run, a row
//! per update a run knows (in progress, or its kept outcome), a row per
//! schedule (its spec, state and bookkeeping), and each run's search
//! attributes. Activities and updates are kept apart from the run's row
//! so that a step rewrites only the ones it changed. A run's row and its
//! search attributes are its visibility record, which list filters
//! query and a store may index. It never sees user types or engine logic; it
//! only has to apply a batch of writes atomically and durably, and read
//! back.
//!
//! Applications do not need this module: [`Engine::sqlite`](super::Engine::sqlite)
//! and [`Engine::memory`](super::Engine::memory) pick a store. It is public
//! for implementing one (another database, or a store that injects faults
//! in tests), and its row types are opaque bytes plus identity: they say
//! nothing of how the engine encodes a run.

mod intercept;

pub use intercept::{InterceptCommits, OnCommit};

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::SystemTime;

use crate::backend::{BackendError, RunStatus};
use crate::search_attributes::SearchAttributes;
use crate::visibility::{Filter, WorkflowExecutionInfo};

/// One run's row: who it is, where it stands, and the engine's state blob.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExecutionRow {
    /// Namespace of the run.
    pub namespace: Arc<str>,
    /// The run's id.
    pub run_id: Arc<str>,
    /// The workflow id it belongs to.
    pub workflow_id: String,
    /// Where it stands.
    pub status: RunStatus,
    /// The start request id that created it.
    pub request_id: String,
    /// The engine's serialized per-run state (opaque to the store).
    pub state: Vec<u8>,
    /// The workflow's type (never changes).
    pub workflow_type: String,
    /// The task queue its workflow tasks go to (never changes).
    pub task_queue: String,
    /// When the run started (never changes).
    pub start_time: SystemTime,
    /// When it closed, once it has.
    pub close_time: Option<SystemTime>,
}

/// A run's row without its state blob, as listings return it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExecutionSummary {
    /// Namespace of the run.
    pub namespace: String,
    /// The run's id.
    pub run_id: String,
    /// The workflow id it belongs to.
    pub workflow_id: String,
    /// Where it stands.
    pub status: RunStatus,
    /// The start request id that created it.
    pub request_id: String,
}

impl ExecutionRow {
    /// The run's visibility record, with `search_attributes`.
    pub fn visibility(&self, search_attributes: SearchAttributes) -> WorkflowExecutionInfo {
        WorkflowExecutionInfo {
            namespace: self.namespace.to_string(),
            run_id: self.run_id.to_string(),
            workflow_id: self.workflow_id.clone(),
            workflow_type: self.workflow_type.clone(),
            task_queue: self.task_queue.clone(),
            status: self.status,
            start_time: self.start_time,
            close_time: self.close_time,
            search_attributes,
        }
    }

    /// The row without its state.
    pub fn summary(&self) -> ExecutionSummary {
        ExecutionSummary {
            namespace: self.namespace.to_string(),
            run_id: self.run_id.to_string(),
            workflow_id: self.workflow_id.clone(),
            status: self.status,
            request_id: self.request_id.clone(),
        }
    }
}

/// One write of a batch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StoreOp {
    /// Inserts or replaces a run's row. A replaced row keeps its insertion
    /// position, which is what tells the latest run of a workflow id.
    PutExecution(ExecutionRow),
    /// Replaces a run's row, of which only the state and the request id
    /// changed since it was last put (its status and close time are
    /// those stored): what a step writes that leaves the run's visibility
    /// as it was, so a store need not touch what indexes it. A store may
    /// apply it as [`StoreOp::PutExecution`].
    PutExecutionState(ExecutionRow),
    /// Appends consecutive history events of a run, stored as one row
    /// keyed by the first one's id.
    AppendEvents {
        /// Namespace of the run.
        namespace: Arc<str>,
        /// The run.
        run_id: Arc<str>,
        /// The first event's id.
        first_event_id: i64,
        /// The last event's id (`first_event_id` when there is one).
        last_event_id: i64,
        /// The serialized events, one after another.
        data: Vec<u8>,
    },
    /// Inserts or replaces one pending activity of a run.
    PutActivity {
        /// Namespace of the run.
        namespace: Arc<str>,
        /// The run.
        run_id: Arc<str>,
        /// The activity's scheduled event id.
        id: i64,
        /// The serialized activity.
        data: Vec<u8>,
    },
    /// Removes one pending activity of a run (it closed, or the run did).
    DeleteActivity {
        /// Namespace of the run.
        namespace: Arc<str>,
        /// The run.
        run_id: Arc<str>,
        /// The activity's scheduled event id.
        id: i64,
    },
    /// Inserts or replaces one update of a run.
    PutUpdate {
        /// Namespace of the run.
        namespace: Arc<str>,
        /// The run.
        run_id: Arc<str>,
        /// The update's id.
        update_id: String,
        /// The serialized update record.
        data: Vec<u8>,
    },
    /// Removes one update of a run (its outcome is no longer kept).
    DeleteUpdate {
        /// Namespace of the run.
        namespace: Arc<str>,
        /// The run.
        run_id: Arc<str>,
        /// The update's id.
        update_id: String,
    },
    /// Inserts or replaces a schedule's row.
    PutSchedule(ScheduleRow),
    /// Removes a schedule's row (it was deleted).
    DeleteSchedule {
        /// Namespace of the schedule.
        namespace: Arc<str>,
        /// The schedule's id.
        schedule_id: Arc<str>,
    },
    /// Replaces a run's search attributes (written when they change).
    PutSearchAttributes {
        /// Namespace of the run.
        namespace: Arc<str>,
        /// The run.
        run_id: Arc<str>,
        /// All of the run's search attributes.
        attributes: Box<SearchAttributes>,
    },
}

/// A stored row's bytes (a run's state, an events row, an activity,
/// update or schedule row) as plain MessagePack with field names, for a
/// tool that reads rows itself: the engine writes the names it uses most
/// as short codes, which this spells out. A row that holds none (JSON,
/// from a file of format version 2, included) comes back as it is.
pub fn spelled_out(row: &[u8]) -> Result<Vec<u8>, BackendError> {
    if row.first() == Some(&b'{') {
        return Ok(row.to_vec());
    }
    super::names::spell_out(row)
        .map(std::borrow::Cow::into_owned)
        .map_err(|e| BackendError::Store(format!("undecodable row: {e}")))
}

/// One schedule's row: who it is and the engine's serialized schedule
/// (spec, state and bookkeeping; opaque to the store).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScheduleRow {
    /// Namespace of the schedule.
    pub namespace: Arc<str>,
    /// The schedule's id.
    pub schedule_id: Arc<str>,
    /// The engine's serialized schedule.
    pub data: Vec<u8>,
}

/// What the engine needs to resume after a start.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Loaded {
    /// Every run that is still open, with its state.
    pub open: Vec<ExecutionRow>,
    /// The latest run of every workflow id (open or closed).
    pub latest: Vec<ExecutionSummary>,
    /// Every schedule.
    pub schedules: Vec<ScheduleRow>,
}

/// Where the engine keeps its data. Synchronous: only the writer thread (and
/// the engine's start-up, before that thread exists) calls it.
pub trait Store: Send + 'static {
    /// Reads what the engine needs to resume.
    fn load(&mut self) -> Result<Loaded, BackendError>;

    /// A run's stored event rows that hold its events from `from` on, in
    /// order. A row holds one or more consecutive serialized events (as
    /// `StoreOp::AppendEvents` wrote them); the first row returned may
    /// begin before `from`.
    fn events(
        &mut self,
        namespace: &str,
        run_id: &str,
        from: i64,
    ) -> Result<Vec<Vec<u8>>, BackendError>;

    /// A run's pending activities: (scheduled event id, serialized
    /// activity), by id.
    fn activities(
        &mut self,
        namespace: &str,
        run_id: &str,
    ) -> Result<Vec<(i64, Vec<u8>)>, BackendError>;

    /// A run's updates: (update id, serialized record), by id.
    fn updates(
        &mut self,
        namespace: &str,
        run_id: &str,
    ) -> Result<Vec<(String, Vec<u8>)>, BackendError>;

    /// One run's row.
    fn execution(
        &mut self,
        namespace: &str,
        run_id: &str,
    ) -> Result<Option<ExecutionRow>, BackendError>;

    /// Applies `ops` as one atomic write and returns only once it is
    /// durable. On `Err` nothing of `ops` may be visible later.
    fn commit(&mut self, ops: &[StoreOp]) -> Result<(), BackendError>;

    /// Visibility records of `namespace`: at least every one that matches
    /// `filter` (`None`: all), in any order. A store may return more (all
    /// of the namespace's, or what its indexes narrow to): the engine
    /// filters, orders and counts them with [`crate::visibility`], the
    /// one evaluator every store shares. The default answers
    /// `Unsupported`.
    fn visibility(
        &mut self,
        namespace: &str,
        filter: Option<&Filter>,
    ) -> Result<Vec<WorkflowExecutionInfo>, BackendError> {
        let _ = (namespace, filter);
        Err(BackendError::Unsupported(
            "this store keeps no visibility records".into(),
        ))
    }
}

/// (namespace, run id).
type RunIds = (Arc<str>, Arc<str>);

fn ids(namespace: &str, run_id: &str) -> RunIds {
    (namespace.into(), run_id.into())
}

/// A store that lives in memory and is lost with the process.
#[derive(Debug, Default)]
pub struct MemoryStore {
    /// Rows in insertion order; `index` maps a key to its position.
    rows: Vec<ExecutionRow>,
    index: HashMap<RunIds, usize>,
    /// Event rows by first event id: (last event id, the events).
    events: HashMap<RunIds, BTreeMap<i64, (i64, Vec<u8>)>>,
    activities: HashMap<RunIds, BTreeMap<i64, Vec<u8>>>,
    updates: HashMap<RunIds, BTreeMap<String, Vec<u8>>>,
    schedules: BTreeMap<RunIds, ScheduleRow>,
    search_attributes: HashMap<RunIds, SearchAttributes>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        MemoryStore::default()
    }
}

impl Store for MemoryStore {
    fn load(&mut self) -> Result<Loaded, BackendError> {
        let open = self
            .rows
            .iter()
            .filter(|r| !r.status.is_closed())
            .cloned()
            .collect();
        // Later rows overwrite earlier ones, so the map ends at the latest run.
        let mut latest: HashMap<(&str, &str), usize> = HashMap::new();
        for (i, r) in self.rows.iter().enumerate() {
            latest.insert((&*r.namespace, &r.workflow_id), i);
        }
        let mut positions: Vec<usize> = latest.into_values().collect();
        positions.sort_unstable();
        let latest = positions
            .into_iter()
            .filter_map(|i| self.rows.get(i).map(ExecutionRow::summary))
            .collect();
        let schedules = self.schedules.values().cloned().collect();
        Ok(Loaded {
            open,
            latest,
            schedules,
        })
    }

    fn events(
        &mut self,
        namespace: &str,
        run_id: &str,
        from: i64,
    ) -> Result<Vec<Vec<u8>>, BackendError> {
        Ok(self
            .events
            .get(&ids(namespace, run_id))
            .map(|rows| {
                // The row holding `from` may begin before it.
                let first = rows.range(..=from).next_back().map_or(from, |(&id, _)| id);
                rows.range(first..).map(|(_, (_, d))| d.clone()).collect()
            })
            .unwrap_or_default())
    }

    fn activities(
        &mut self,
        namespace: &str,
        run_id: &str,
    ) -> Result<Vec<(i64, Vec<u8>)>, BackendError> {
        Ok(self
            .activities
            .get(&ids(namespace, run_id))
            .map(|acts| acts.iter().map(|(id, d)| (*id, d.clone())).collect())
            .unwrap_or_default())
    }

    fn updates(
        &mut self,
        namespace: &str,
        run_id: &str,
    ) -> Result<Vec<(String, Vec<u8>)>, BackendError> {
        Ok(self
            .updates
            .get(&ids(namespace, run_id))
            .map(|ups| ups.iter().map(|(id, d)| (id.clone(), d.clone())).collect())
            .unwrap_or_default())
    }

    fn execution(
        &mut self,
        namespace: &str,
        run_id: &str,
    ) -> Result<Option<ExecutionRow>, BackendError> {
        Ok(self
            .index
            .get(&ids(namespace, run_id))
            .and_then(|&i| self.rows.get(i))
            .cloned())
    }

    fn visibility(
        &mut self,
        namespace: &str,
        _filter: Option<&Filter>,
    ) -> Result<Vec<WorkflowExecutionInfo>, BackendError> {
        // Every record of the namespace: the engine's evaluator filters.
        Ok(self
            .rows
            .iter()
            .filter(|row| &*row.namespace == namespace)
            .map(|row| {
                let key = (row.namespace.clone(), row.run_id.clone());
                let attributes = self.search_attributes.get(&key).cloned();
                row.visibility(attributes.unwrap_or_default())
            })
            .collect())
    }

    fn commit(&mut self, ops: &[StoreOp]) -> Result<(), BackendError> {
        // Check first so a refused batch leaves nothing behind.
        for op in ops {
            if let StoreOp::AppendEvents {
                namespace,
                run_id,
                first_event_id: first,
                last_event_id: last,
                ..
            } = op
                && self
                    .events
                    .get(&(namespace.clone(), run_id.clone()))
                    .and_then(|rows| rows.range(..=*last).next_back())
                    .is_some_and(|(_, (stored_last, _))| stored_last >= first)
            {
                return Err(BackendError::Store(format!(
                    "events {first} to {last} of run {run_id} overlap stored ones"
                )));
            }
        }
        for op in ops {
            self.apply(op);
        }
        Ok(())
    }
}

impl MemoryStore {
    fn apply_schedule(&mut self, op: &StoreOp) {
        match op {
            StoreOp::PutSchedule(row) => {
                let key = (row.namespace.clone(), row.schedule_id.clone());
                self.schedules.insert(key, row.clone());
            }
            StoreOp::DeleteSchedule {
                namespace,
                schedule_id,
            } => {
                self.schedules
                    .remove(&(namespace.clone(), schedule_id.clone()));
            }
            _ => {}
        }
    }

    /// Inserts or replaces a run's row (a replaced one keeps its place).
    fn put_row(&mut self, row: &ExecutionRow) {
        let key = (row.namespace.clone(), row.run_id.clone());
        match self.index.get(&key).and_then(|&i| self.rows.get_mut(i)) {
            Some(existing) => *existing = row.clone(),
            None => {
                self.index.insert(key, self.rows.len());
                self.rows.push(row.clone());
            }
        }
    }

    /// Replaces a run's row whose status and close time, the engine
    /// promises, are those stored (checked in debug builds).
    fn put_state_row(&mut self, row: &ExecutionRow) {
        debug_assert!(
            self.index
                .get(&(row.namespace.clone(), row.run_id.clone()))
                .and_then(|&i| self.rows.get(i))
                .is_some_and(|old| old.status == row.status && old.close_time == row.close_time),
            "a state-only write of run {} changes what indexes it",
            row.run_id
        );
        self.put_row(row);
    }

    /// Applies one op of a batch already checked.
    fn apply(&mut self, op: &StoreOp) {
        match op {
            StoreOp::PutExecution(row) => self.put_row(row),
            StoreOp::PutExecutionState(row) => self.put_state_row(row),
            StoreOp::AppendEvents {
                namespace,
                run_id,
                first_event_id,
                last_event_id,
                data,
            } => {
                self.events
                    .entry((namespace.clone(), run_id.clone()))
                    .or_default()
                    .insert(*first_event_id, (*last_event_id, data.clone()));
            }
            StoreOp::PutActivity {
                namespace,
                run_id,
                id,
                data,
            } => {
                self.activities
                    .entry((namespace.clone(), run_id.clone()))
                    .or_default()
                    .insert(*id, data.clone());
            }
            StoreOp::DeleteActivity {
                namespace,
                run_id,
                id,
            } => {
                let key = (namespace.clone(), run_id.clone());
                if let Some(acts) = self.activities.get_mut(&key) {
                    acts.remove(id);
                    if acts.is_empty() {
                        self.activities.remove(&key);
                    }
                }
            }
            StoreOp::PutUpdate {
                namespace,
                run_id,
                update_id,
                data,
            } => {
                self.updates
                    .entry((namespace.clone(), run_id.clone()))
                    .or_default()
                    .insert(update_id.clone(), data.clone());
            }
            StoreOp::DeleteUpdate {
                namespace,
                run_id,
                update_id,
            } => {
                let key = (namespace.clone(), run_id.clone());
                if let Some(ups) = self.updates.get_mut(&key) {
                    ups.remove(update_id);
                    if ups.is_empty() {
                        self.updates.remove(&key);
                    }
                }
            }
            StoreOp::PutSchedule(_) | StoreOp::DeleteSchedule { .. } => self.apply_schedule(op),
            StoreOp::PutSearchAttributes {
                namespace,
                run_id,
                attributes,
            } => {
                let key = (namespace.clone(), run_id.clone());
                self.search_attributes.insert(key, (**attributes).clone());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::SqliteStore;

    fn append(first: i64, last: i64, data: &[u8]) -> StoreOp {
        StoreOp::AppendEvents {
            namespace: "ns".into(),
            run_id: "r".into(),
            first_event_id: first,
            last_event_id: last,
            data: data.to_vec(),
        }
    }

    /// Rows of several events each: a read from an event inside a row
    /// begins with that row, on both stores.
    #[test]
    fn a_read_from_inside_a_row_begins_with_that_row() {
        let dir = tempfile::tempdir().unwrap();
        let sqlite = SqliteStore::open(dir.path().join("weft.db")).unwrap();
        let stores: [Box<dyn Store>; 2] = [Box::new(MemoryStore::default()), Box::new(sqlite)];
        for mut store in stores {
            store
                .commit(&[append(1, 3, b"one"), append(4, 6, b"two")])
                .unwrap();
            let read = |store: &mut Box<dyn Store>, from| store.events("ns", "r", from).unwrap();
            let both = [b"one".to_vec(), b"two".to_vec()];
            assert_eq!(read(&mut store, 1), both);
            assert_eq!(read(&mut store, 3), both);
            assert_eq!(read(&mut store, 4), both[1..]);
            assert_eq!(read(&mut store, 6), both[1..]);
            assert!(store.events("ns", "other", 1).unwrap().is_empty());
            assert!(store.events("other", "r", 1).unwrap().is_empty());
        }
    }

    /// The memory store refuses a batch whose events overlap stored ones,
    /// and keeps nothing of it.
    #[test]
    fn overlapping_events_are_refused_whole() {
        let mut store = MemoryStore::default();
        store.commit(&[append(1, 3, b"one")]).unwrap();
        for overlapping in [append(3, 4, b"x"), append(1, 1, b"x"), append(2, 9, b"x")] {
            let err = store
                .commit(&[append(4, 4, b"kept?"), overlapping])
                .unwrap_err();
            assert!(err.to_string().contains("overlap stored ones"), "{err}");
        }
        assert_eq!(store.events("ns", "r", 1).unwrap(), [b"one".to_vec()]);
        store.commit(&[append(4, 5, b"two")]).unwrap();
    }
}
