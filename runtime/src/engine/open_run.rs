//! An open run in memory: its state, the events of its next workflow
//! task, who waits for its result, and how its changes become store ops
//! (only the activity and update rows that changed are written).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;
use std::time::SystemTime;

use serde::Serialize;

use crate::backend::{RunOutcome, RunStatus};
use crate::history::{Event, EventAttributes};
use crate::search_attributes::SearchAttributes;

use super::requests::{Lookup, QueueKey, Tx};
use super::state::{PendingActivity, RunKey, RunState};
use super::store::StoreOp;
use super::updates::UpdateRecord;

/// Store ops and dirty runs gathered while handling requests.
#[derive(Default)]
pub(crate) struct Batch {
    pub ops: Vec<StoreOp>,
    pub dirty: BTreeSet<RunKey>,
    /// Set when something could not be serialized: the engine must stop.
    pub fatal: Option<String>,
}

/// An open run in memory.
pub(crate) struct Run {
    /// The run's key, made once: every copy of it is a cheap clone.
    pub key: RunKey,
    /// The queue its workflow tasks go to, made once likewise.
    pub wft_queue: QueueKey,
    pub state: RunState,
    /// Events with id >= `state.events_since`: the next workflow task's events.
    pub recent: Vec<Event>,
    pub waiters: Vec<Tx<Lookup<RunOutcome>>>,
    /// The pending activities as last sent to the store: a write sends only
    /// the ones that differ.
    pub stored_activities: BTreeMap<i64, PendingActivity>,
    /// The updates as last sent to the store, likewise.
    pub stored_updates: BTreeMap<String, UpdateRecord>,
    /// The status and close time of the run's row as last sent to the
    /// store (`None`: no row yet), so a step that changes neither writes
    /// only the row's state, not what indexes it.
    pub stored_listing: Option<(RunStatus, Option<SystemTime>)>,
    /// The search attributes as last sent to the store, so a step that
    /// changes none writes none.
    pub stored_search_attributes: SearchAttributes,
    /// When its workflow task now out reached the worker (machine time),
    /// to time the task's turnaround (`pacing`).
    pub handed_out: Option<std::time::Instant>,
}

impl Run {
    pub fn new(state: RunState, recent: Vec<Event>) -> Run {
        Run {
            key: RunKey::new(&state.namespace, &state.run_id),
            wft_queue: (
                state.namespace.as_str().into(),
                state.task_queue.as_str().into(),
            ),
            state,
            recent,
            waiters: Vec::new(),
            stored_activities: BTreeMap::new(),
            stored_updates: BTreeMap::new(),
            stored_listing: None,
            stored_search_attributes: SearchAttributes::new(),
            handed_out: None,
        }
    }

    /// Marks the run's row, its status and search attributes as the store
    /// holds them (a run read back from it).
    pub fn stored_as_is(&mut self) {
        self.stored_listing = Some((self.state.status, self.state.close_time));
        self.stored_search_attributes = self.state.run_options.search_attributes.clone();
    }

    /// The run's row, and the activity and update writes that bring the
    /// store up to date with memory.
    pub fn writes(&mut self, ops: &mut Vec<StoreOp>) -> Result<(), String> {
        let row = self.state.to_row(&self.key)?;
        let listing = Some((row.status, row.close_time));
        if self.stored_listing == listing {
            ops.push(StoreOp::PutExecutionState(row));
        } else {
            self.stored_listing = listing;
            ops.push(StoreOp::PutExecution(row));
        }
        self.sync_search_attributes(ops);
        let namespace = &self.key.namespace;
        let run_id = &self.key.run_id;
        sync_rows(
            &mut self.stored_activities,
            &self.state.activities,
            PendingActivity::same_when_stored,
            |id, data| StoreOp::PutActivity {
                namespace: namespace.clone(),
                run_id: run_id.clone(),
                id: *id,
                data,
            },
            |id| StoreOp::DeleteActivity {
                namespace: namespace.clone(),
                run_id: run_id.clone(),
                id: *id,
            },
            ops,
        )
        .map_err(|e| format!("cannot serialize an activity of run {run_id}: {e}"))?;
        sync_rows(
            &mut self.stored_updates,
            &self.state.updates,
            UpdateRecord::eq,
            |update_id, data| StoreOp::PutUpdate {
                namespace: namespace.clone(),
                run_id: run_id.clone(),
                update_id: update_id.clone(),
                data,
            },
            |update_id| StoreOp::DeleteUpdate {
                namespace: namespace.clone(),
                run_id: run_id.clone(),
                update_id: update_id.clone(),
            },
            ops,
        )
        .map_err(|e| format!("cannot serialize an update of run {run_id}: {e}"))
    }
}

impl Run {
    /// Sends the run's search attributes when they changed.
    fn sync_search_attributes(&mut self, ops: &mut Vec<StoreOp>) {
        let current = &self.state.run_options.search_attributes;
        if *current == self.stored_search_attributes {
            return;
        }
        self.stored_search_attributes = current.clone();
        ops.push(StoreOp::PutSearchAttributes {
            namespace: self.key.namespace.clone(),
            run_id: self.key.run_id.clone(),
            attributes: Box::new(current.clone()),
        });
    }
}

/// The open runs, by run id. Run ids are made by the engine and unique
/// across namespaces; a lookup checks the namespace as well, so a key of
/// another namespace finds nothing.
#[derive(Default)]
pub(crate) struct Runs {
    map: HashMap<Arc<str>, Run, foldhash::fast::RandomState>,
}

impl Runs {
    pub fn get(&self, key: &RunKey) -> Option<&Run> {
        self.find(&key.namespace, &key.run_id)
    }

    pub fn get_mut(&mut self, key: &RunKey) -> Option<&mut Run> {
        self.find_mut(&key.namespace, &key.run_id)
    }

    /// The open run `run_id` of `namespace`.
    pub fn find(&self, namespace: &str, run_id: &str) -> Option<&Run> {
        self.map
            .get(run_id)
            .filter(|r| &*r.key.namespace == namespace)
    }

    pub fn find_mut(&mut self, namespace: &str, run_id: &str) -> Option<&mut Run> {
        self.map
            .get_mut(run_id)
            .filter(|r| &*r.key.namespace == namespace)
    }

    pub fn contains_key(&self, key: &RunKey) -> bool {
        self.get(key).is_some()
    }

    pub fn insert(&mut self, run: Run) {
        self.map.insert(run.key.run_id.clone(), run);
    }

    pub fn remove(&mut self, key: &RunKey) -> Option<Run> {
        self.get(key)?;
        self.map.remove(&*key.run_id)
    }

    pub fn values(&self) -> impl Iterator<Item = &Run> {
        self.map.values()
    }

    pub fn values_mut(&mut self) -> impl Iterator<Item = &mut Run> {
        self.map.values_mut()
    }

    pub fn drain(&mut self) -> impl Iterator<Item = Run> + '_ {
        self.map.drain().map(|(_, run)| run)
    }
}

/// Brings `stored` (what the store holds) to `current`: a put for each
/// entry that is new or not `same` as its stored one, a delete for each
/// entry gone.
fn sync_rows<K: Ord + Clone, V: Clone + Serialize>(
    stored: &mut BTreeMap<K, V>,
    current: &BTreeMap<K, V>,
    same: impl Fn(&V, &V) -> bool,
    put: impl Fn(&K, Vec<u8>) -> StoreOp,
    delete: impl Fn(&K) -> StoreOp,
    ops: &mut Vec<StoreOp>,
) -> Result<(), String> {
    stored.retain(|key, _| {
        let kept = current.contains_key(key);
        if !kept {
            ops.push(delete(key));
        }
        kept
    });
    for (key, value) in current {
        if stored.get(key).is_some_and(|old| same(value, old)) {
            continue;
        }
        ops.push(put(key, super::encoding::to_bytes(value)?));
        stored.insert(key.clone(), value.clone());
    }
    Ok(())
}

/// Adds a serialized event to the batch: to the batch's last op when that
/// holds the run's events up to this one (the events a step appends to a
/// run are one row), else as an op of its own.
fn push_event(batch: &mut Batch, key: &RunKey, event_id: i64, data: Vec<u8>) {
    if let Some(StoreOp::AppendEvents {
        run_id,
        namespace,
        last_event_id,
        data: events,
        ..
    }) = batch.ops.last_mut()
        && *run_id == key.run_id
        && *namespace == key.namespace
        && *last_event_id + 1 == event_id
    {
        *last_event_id = event_id;
        events.extend_from_slice(&data);
        return;
    }
    batch.ops.push(StoreOp::AppendEvents {
        namespace: key.namespace.clone(),
        run_id: key.run_id.clone(),
        first_event_id: event_id,
        last_event_id: event_id,
        data,
    });
}

/// Appends an event to a run's history (in the batch and in memory).
pub(crate) fn append(
    run: &mut Run,
    batch: &mut Batch,
    time: SystemTime,
    attributes: EventAttributes,
) -> i64 {
    let event_id = run.state.next_event_id;
    let event = Event {
        event_id,
        event_time: time,
        attributes,
    };
    match super::encoding::event_to_bytes(&event) {
        Ok((data, size)) => {
            run.state.history_size_bytes = run
                .state
                .history_size_bytes
                .saturating_add(u64::try_from(size).unwrap_or(u64::MAX));
            push_event(batch, &run.key, event_id, data)
        }
        Err(e) => {
            batch
                .fatal
                .get_or_insert(format!("cannot serialize event {event_id}: {e}"));
        }
    }
    run.state.next_event_id += 1;
    run.recent.push(event);
    batch.dirty.insert(run.key.clone());
    event_id
}
