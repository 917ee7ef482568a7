//! The engine's per-run state: what a run's row stores (serialized) so the
//! engine can resume it after a restart, and how it reads as a description.

use std::collections::{BTreeMap, HashSet, VecDeque};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};

use crate::backend::{BackendError, Description, RunOutcome, RunStatus};
use crate::converter::Payload;
use crate::failure::{Failure, RetryState};
use crate::history::{ParentExecution, WorkflowExecution};
use crate::protocol::{ParentClosePolicy, RunOptions};
use crate::retry::RetryPolicy;

use super::store::ExecutionRow;
use super::writer::StoredRun;

/// Identifies a run inside the engine: every key carries the namespace.
/// Shared strings, so the many copies the engine keeps (queues, deadlines,
/// effects, store ops) cost no allocation.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct RunKey {
    pub namespace: Arc<str>,
    pub run_id: Arc<str>,
}

impl RunKey {
    pub fn new(namespace: &str, run_id: &str) -> RunKey {
        RunKey {
            namespace: namespace.into(),
            run_id: run_id.into(),
        }
    }
}

/// Where a run's workflow task stands.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) enum WftState {
    /// Nothing for the workflow to do.
    Idle,
    /// Waiting for a poller.
    Ready { scheduled_time: SystemTime },
    /// Waiting out the backoff after a failure.
    Backoff { until: SystemTime },
    /// Handed to a worker (memory only: a restart turns it back into Ready).
    Started {
        task_id: i64,
        attempt: u32,
        scheduled_time: SystemTime,
        started_time: SystemTime,
    },
}

/// Where the current attempt of an activity stands.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) enum ActivityPhase {
    /// Waiting for a poller.
    Scheduled,
    /// Waiting out a retry backoff.
    Backoff { until: SystemTime },
    /// Handed to a worker (memory only: a restart re-dispatches it).
    Started { started_time: SystemTime },
}

/// An activity scheduled and not yet closed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct PendingActivity {
    pub activity_id: String,
    pub activity_type: String,
    pub task_queue: String,
    pub input: Vec<Payload>,
    pub schedule_to_close: Option<Duration>,
    pub schedule_to_start: Option<Duration>,
    pub start_to_close: Option<Duration>,
    pub heartbeat: Option<Duration>,
    pub retry_policy: RetryPolicy,
    /// When the activity was scheduled (schedule-to-close counts from here).
    pub scheduled_time: SystemTime,
    pub attempt: u32,
    /// When the current attempt became ready (schedule-to-start counts from here).
    pub attempt_scheduled_time: SystemTime,
    /// The previous attempt's failure.
    pub last_failure: Option<Failure>,
    pub phase: ActivityPhase,
    /// The command's `seq` (what `RequestCancelActivity` names).
    #[serde(default)]
    pub seq: u32,
    /// The `ActivityTaskCancelRequested` event, once the workflow asked.
    #[serde(default)]
    pub cancel_requested: Option<i64>,
    /// The latest heartbeat's details (kept across attempts).
    #[serde(default)]
    pub heartbeat_details: Vec<Payload>,
    /// When the current attempt last heartbeated (memory only).
    #[serde(skip)]
    pub last_heartbeat: Option<SystemTime>,
}

impl PendingActivity {
    pub fn describe(&self) -> crate::backend::PendingActivityDescription {
        use crate::backend::PendingActivityState as State;
        crate::backend::PendingActivityDescription {
            activity_id: self.activity_id.clone(),
            activity_type: self.activity_type.clone(),
            task_queue: self.task_queue.clone(),
            state: match self.phase {
                ActivityPhase::Scheduled => State::Scheduled,
                ActivityPhase::Backoff { until } => State::Backoff(until),
                ActivityPhase::Started { started_time } => State::Started(started_time),
            },
            attempt: self.attempt,
            last_failure: self.last_failure.as_ref().map(|f| format!("{f:#}")),
            last_heartbeat: self.last_heartbeat,
        }
    }

    /// Whether writing `self` would store nothing new over `stored`: the
    /// same but for what is never stored (the time of the last heartbeat).
    pub fn same_when_stored(&self, stored: &PendingActivity) -> bool {
        // Spelled out field by field, so a new field must be placed here.
        let PendingActivity {
            activity_id,
            activity_type,
            task_queue,
            input,
            schedule_to_close,
            schedule_to_start,
            start_to_close,
            heartbeat,
            retry_policy,
            scheduled_time,
            attempt,
            attempt_scheduled_time,
            last_failure,
            phase,
            seq,
            cancel_requested,
            heartbeat_details,
            last_heartbeat: _,
        } = self;
        *activity_id == stored.activity_id
            && *activity_type == stored.activity_type
            && *task_queue == stored.task_queue
            && *input == stored.input
            && *schedule_to_close == stored.schedule_to_close
            && *schedule_to_start == stored.schedule_to_start
            && *start_to_close == stored.start_to_close
            && *heartbeat == stored.heartbeat
            && *retry_policy == stored.retry_policy
            && *scheduled_time == stored.scheduled_time
            && *attempt == stored.attempt
            && *attempt_scheduled_time == stored.attempt_scheduled_time
            && *last_failure == stored.last_failure
            && *phase == stored.phase
            && *seq == stored.seq
            && *cancel_requested == stored.cancel_requested
            && *heartbeat_details == stored.heartbeat_details
    }
}

/// A timer waiting to fire.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct PendingTimer {
    pub timer_id: String,
    pub fire_at: SystemTime,
}

/// How an activity closed for good.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) enum ActivityOutcome {
    Completed(Payload),
    Failed {
        failure: Failure,
        retry_state: RetryState,
    },
    TimedOut {
        failure: Failure,
        retry_state: RetryState,
    },
    /// Stopped on the workflow's cancellation request.
    Canceled {
        details: Vec<Payload>,
        latest_cancel_requested_event_id: i64,
        identity: String,
    },
}

/// A fact for the workflow that arrived from outside its workflow task.
/// Event ids are given when it is appended, so it can wait in the buffer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) enum Incoming {
    ActivityClosed {
        scheduled_event_id: i64,
        attempt: u32,
        /// Whether an `ActivityTaskStarted` event precedes the close.
        started: bool,
        last_failure: Option<Failure>,
        outcome: ActivityOutcome,
    },
    TimerFired {
        timer_id: String,
        started_event_id: i64,
    },
    Signaled {
        signal_name: String,
        input: Vec<Payload>,
        identity: String,
        /// The workflow that sent it, when workflow code did.
        #[serde(default)]
        external: Option<WorkflowExecution>,
    },
    CancelRequested {
        cause: String,
        identity: String,
        /// The workflow that asked, when workflow code or a parent's close
        /// policy did.
        #[serde(default)]
        external: Option<WorkflowExecution>,
    },
    /// About a child this run started: its start, or its close.
    Child(ChildFact),
    /// How a signal or cancel request this run sent ended.
    External(ExternalFact),
}

/// What became of a child workflow, for its parent's history.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) enum ChildFact {
    Started {
        initiated_event_id: i64,
        workflow_id: String,
        run_id: String,
        workflow_type: String,
    },
    StartFailed {
        initiated_event_id: i64,
        workflow_id: String,
        workflow_type: String,
    },
    Closed {
        initiated_event_id: i64,
        started_event_id: i64,
        workflow_id: String,
        run_id: String,
        workflow_type: String,
        outcome: ChildOutcome,
    },
}

/// How a child's chain closed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) enum ChildOutcome {
    Completed(Payload),
    Failed(Failure),
    Canceled(Vec<Payload>),
    Terminated,
    TimedOut,
}

impl ChildOutcome {
    /// What a run's outcome means to its parent; `None` for a run that
    /// continued as new (its chain goes on).
    pub fn of(outcome: &RunOutcome) -> Option<ChildOutcome> {
        Some(match outcome {
            RunOutcome::Completed(p) => ChildOutcome::Completed(p.clone()),
            RunOutcome::Failed(f) => ChildOutcome::Failed(f.clone()),
            RunOutcome::Canceled(Failure::Canceled(c)) => ChildOutcome::Canceled(c.details.clone()),
            RunOutcome::Canceled(_) => ChildOutcome::Canceled(Vec::new()),
            RunOutcome::Terminated(_) => ChildOutcome::Terminated,
            RunOutcome::TimedOut(_) => ChildOutcome::TimedOut,
            RunOutcome::ContinuedAsNew { .. } | RunOutcome::Retried { .. } => return None,
        })
    }
}

/// How a signal or cancel request to another workflow ended.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct ExternalFact {
    pub initiated_event_id: i64,
    pub workflow_id: String,
    /// The run reached; `None` when none was.
    pub run_id: Option<String>,
    /// Whether it was a signal (else a cancel request).
    pub signal: bool,
}

/// A child this run started that has not closed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct PendingChild {
    pub seq: u32,
    pub workflow_id: String,
    pub workflow_type: String,
    /// The child's first run.
    pub run_id: String,
    pub started_event_id: i64,
    pub parent_close_policy: ParentClosePolicy,
}

/// Everything needed to resume a run; stored in its row (MessagePack with
/// field names). A field at its default (none, empty, zero, false) is left
/// out of the row, and reads back as that default: the state is written
/// at every step, so what it leaves out is work and bytes saved each time.
/// The run's identity, status and times are columns of the row
/// ([`ExecutionRow`]), so the state leaves them out too and takes them
/// from the row when it is read ([`RunState::from_row`]); a state written
/// before format version 7 holds them, the same values.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct RunState {
    #[serde(default, skip_serializing)]
    pub namespace: String,
    #[serde(default, skip_serializing)]
    pub workflow_id: String,
    #[serde(default, skip_serializing)]
    pub run_id: String,
    #[serde(default, skip_serializing)]
    pub workflow_type: String,
    #[serde(default, skip_serializing)]
    pub task_queue: String,
    #[serde(default, skip_serializing)]
    pub request_id: String,
    #[serde(default = "running", skip_serializing)]
    pub status: RunStatus,
    #[serde(default = "epoch", skip_serializing)]
    pub start_time: SystemTime,
    #[serde(default, skip_serializing)]
    pub close_time: Option<SystemTime>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<RunOutcome>,
    /// Id the next appended event gets.
    pub next_event_id: i64,
    /// The next workflow task carries the events from this id on.
    pub events_since: i64,
    pub wft: WftState,
    /// Attempt of the current workflow task: failures in a row + 1.
    pub wft_attempt: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_wft_failure: Option<String>,
    /// Counts workflow task deliveries; the token's `task_id`.
    pub wft_seq: i64,
    /// Facts that arrived while a workflow task was started.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub buffered: Vec<Incoming>,
    /// By scheduled event id. Stored in rows of their own, not with the
    /// state (`StoreOp::PutActivity`); read here only from state written
    /// before that.
    #[serde(default, skip_serializing)]
    pub activities: BTreeMap<i64, PendingActivity>,
    /// By started event id.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub timers: BTreeMap<i64, PendingTimer>,
    /// Request ids of the latest signals applied to the run's chain
    /// (buffered ones included), so a retried signal is applied once; at
    /// most `EngineOptions::signal_request_ids_kept`, oldest dropped first.
    #[serde(default, skip_serializing_if = "IdWindow::is_empty")]
    pub signal_request_ids: IdWindow,
    /// Updates by update id: waiting, accepted, or completed. Completed
    /// outcomes are kept (closed runs included) so a retried update id gets
    /// the first one, the latest `EngineOptions::update_outcomes_kept` of
    /// them; the oldest completed are dropped first. Stored in rows of
    /// their own (`StoreOp::PutUpdate`); read here only from state written
    /// before that.
    #[serde(default, skip_serializing)]
    pub updates: BTreeMap<String, super::updates::UpdateRecord>,
    /// Counts updates admitted (their arrival order).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub update_seq: u64,
    /// Counts updates completed (their completion order, which decides
    /// which outcomes are dropped first).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub update_completions: u64,
    /// Whether events the workflow has not seen arrived since its last
    /// completed workflow task (a task with nothing new whose only
    /// commands reject updates writes nothing).
    #[serde(default = "yes")]
    pub new_events: bool,
    /// The waiting workflow task's `WorkflowTaskScheduled` event, once
    /// written. A first attempt's is written when something else is
    /// written to the run while the task waits for a worker (so it
    /// precedes what arrived, as in Temporal, which writes it when it
    /// schedules the task), else with the task's outcome.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wft_scheduled_event: Option<i64>,
    /// The first run of this run's continue-as-new chain (empty: this run,
    /// for state written before continue-as-new existed).
    #[serde(default)]
    pub first_run_id: String,
    /// The runs of the chain before this one, oldest first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub previous_runs: Vec<String>,
    /// Bytes of serialized history events.
    #[serde(default)]
    pub history_size_bytes: u64,
    /// Whether cancellation was requested (asked once; later asks write nothing).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub cancel_requested: bool,
    /// The parent, when this run is a child workflow.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<ParentExecution>,
    /// Children started and not closed, by their initiated event id.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub children: BTreeMap<i64, PendingChild>,
    /// Timeouts, retry policy and memo, as the chain's start gave them.
    #[serde(default)]
    pub run_options: RunOptions,
    /// Attempt of the run: 1, or more for a retry's run.
    #[serde(default = "first_attempt")]
    pub attempt: u32,
    /// When the chain's execution timeout ends it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub execution_deadline: Option<SystemTime>,
    /// How long the run's first workflow task waited (a retry's backoff);
    /// its run timeout counts from the end of it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_task_backoff: Option<Duration>,
    /// The run's input, kept when a retry policy may need it for the next
    /// run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_input: Option<Vec<Payload>>,
}

fn running() -> RunStatus {
    RunStatus::Running
}

fn epoch() -> SystemTime {
    SystemTime::UNIX_EPOCH
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

fn yes() -> bool {
    true
}

fn first_attempt() -> u32 {
    1
}

/// Longest workflow task timeout (Temporal caps it the same).
const MAX_TASK_TIMEOUT: Duration = Duration::from_secs(120);

impl RunState {
    /// The delay before a retry of this run after `failure`, or why it is
    /// not retried.
    pub fn retry_delay(&self, failure: &Failure, now: SystemTime) -> Result<Duration, RetryState> {
        let Some(policy) = &self.run_options.retry_policy else {
            return Err(RetryState::RetryPolicyNotSet);
        };
        let delay = policy.next_delay(self.attempt, failure)?;
        if self
            .execution_deadline
            .is_some_and(|deadline| super::deadlines::later(now, delay) >= deadline)
        {
            return Err(RetryState::Timeout);
        }
        Ok(delay)
    }

    /// The run's workflow task timeout.
    pub fn task_timeout(&self, default: Duration) -> Duration {
        self.run_options
            .task_timeout
            .unwrap_or(default)
            .min(MAX_TASK_TIMEOUT)
    }

    /// When the run times out: its run timeout, or its chain's execution
    /// deadline, whichever first.
    pub fn timeout_at(&self) -> Option<SystemTime> {
        let begun =
            super::deadlines::later(self.start_time, self.first_task_backoff.unwrap_or_default());
        let run = self
            .run_options
            .run_timeout
            .map(|t| super::deadlines::later(begun, t));
        match (run, self.execution_deadline) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }
}

/// The latest ids seen, at most a given number, oldest dropped first.
/// Stored as a list, oldest first (state written when it was a set reads
/// as that set, in id order).
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(from = "Vec<String>")]
pub(crate) struct IdWindow {
    order: VecDeque<String>,
    known: HashSet<String>,
}

impl IdWindow {
    /// Adds `id` unless known, then drops the oldest ids past `limit`;
    /// false when `id` was known (nothing changes).
    pub fn insert(&mut self, id: &str, limit: usize) -> bool {
        if self.known.contains(id) {
            return false;
        }
        self.known.insert(id.to_string());
        self.order.push_back(id.to_string());
        self.trim(limit);
        true
    }

    /// Drops the oldest ids past `limit`.
    pub fn trim(&mut self, limit: usize) {
        while self.order.len() > limit {
            if let Some(old) = self.order.pop_front() {
                self.known.remove(&old);
            }
        }
    }

    pub fn clear(&mut self) {
        self.order.clear();
        self.known.clear();
    }

    pub fn is_empty(&self) -> bool {
        self.order.is_empty()
    }
}

impl From<Vec<String>> for IdWindow {
    fn from(ids: Vec<String>) -> Self {
        let mut window = IdWindow::default();
        for id in ids {
            window.insert(&id, usize::MAX);
        }
        window
    }
}

impl From<IdWindow> for Vec<String> {
    fn from(window: IdWindow) -> Self {
        window.order.into()
    }
}

/// Written as the list, oldest first, without copying it (the run's state,
/// this included, is written at every step).
impl Serialize for IdWindow {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.order.serialize(serializer)
    }
}

impl RunState {
    /// The first run of this run's continue-as-new chain.
    pub fn first_run_id(&self) -> &str {
        if self.first_run_id.is_empty() {
            &self.run_id
        } else {
            &self.first_run_id
        }
    }

    pub fn history_length(&self) -> u64 {
        u64::try_from(self.next_event_id - 1).unwrap_or(0)
    }

    pub fn describe(&self) -> Description {
        Description {
            workflow_id: self.workflow_id.clone(),
            run_id: self.run_id.clone(),
            workflow_type: self.workflow_type.clone(),
            task_queue: self.task_queue.clone(),
            status: self.status,
            history_length: self.history_length(),
            pending_activities: self.activities.len(),
            activities: self
                .activities
                .values()
                .map(PendingActivity::describe)
                .collect(),
            warnings: Vec::new(),
            workflow_task_attempt: self.wft_attempt,
            last_workflow_task_failure: self.last_wft_failure.clone(),
            run_chain: self
                .previous_runs
                .iter()
                .chain([&self.run_id])
                .cloned()
                .collect(),
            next_run_id: match &self.outcome {
                Some(
                    RunOutcome::ContinuedAsNew { new_run_id }
                    | RunOutcome::Retried { new_run_id, .. },
                ) => Some(new_run_id.clone()),
                _ => None,
            },
            start_time: self.start_time,
            close_time: self.close_time,
            attempt: self.attempt,
            pending_children: self.children.len(),
            children: self
                .children
                .values()
                .map(|c| crate::backend::PendingChildDescription {
                    workflow_id: c.workflow_id.clone(),
                    run_id: c.run_id.clone(),
                    workflow_type: c.workflow_type.clone(),
                    parent_close_policy: c.parent_close_policy,
                })
                .collect(),
            memo: self.run_options.memo.clone(),
            search_attributes: self.run_options.search_attributes.clone(),
        }
    }

    pub fn to_row(&self, key: &RunKey) -> Result<ExecutionRow, String> {
        let state = super::encoding::to_bytes(self)
            .map_err(|e| format!("cannot serialize the state of run {}: {e}", self.run_id))?;
        Ok(ExecutionRow {
            namespace: key.namespace.clone(),
            run_id: key.run_id.clone(),
            workflow_id: self.workflow_id.clone(),
            status: self.status,
            request_id: self.request_id.clone(),
            state,
            workflow_type: self.workflow_type.clone(),
            task_queue: self.task_queue.clone(),
            start_time: self.start_time,
            close_time: self.close_time,
        })
    }

    /// A run's state from its row: the state blob, with the identity,
    /// status and times the row's columns hold. A state written before
    /// format version 7 holds them itself (the same values, in a file
    /// that was upgraded; the only ones, in an older file read without
    /// upgrading it), and keeps its own.
    pub fn from_row(row: &ExecutionRow) -> Result<RunState, BackendError> {
        let mut state: RunState = super::encoding::from_bytes(&row.state).map_err(|e| {
            BackendError::Store(format!("undecodable state of run {}: {e}", row.run_id))
        })?;
        if !state.run_id.is_empty() {
            return Ok(state);
        }
        state.namespace = row.namespace.to_string();
        state.run_id = row.run_id.to_string();
        state.workflow_id.clone_from(&row.workflow_id);
        state.request_id.clone_from(&row.request_id);
        state.status = row.status;
        state.workflow_type.clone_from(&row.workflow_type);
        state.task_queue.clone_from(&row.task_queue);
        state.start_time = row.start_time;
        state.close_time = row.close_time;
        Ok(state)
    }

    /// A stored run's state with its updates' rows.
    pub fn from_stored(run: &StoredRun) -> Result<RunState, BackendError> {
        let mut state = RunState::from_row(&run.row)?;
        let rows = decode_rows(&run.updates, "update", &state.run_id)?;
        state.updates.extend(rows);
        Ok(state)
    }
}

/// Decodes a run's activity or update rows.
pub(crate) fn decode_rows<K: Ord + Clone + std::fmt::Display, V: serde::de::DeserializeOwned>(
    rows: &[(K, Vec<u8>)],
    what: &str,
    run_id: &str,
) -> Result<BTreeMap<K, V>, BackendError> {
    rows.iter()
        .map(|(key, data)| {
            let value = super::encoding::from_bytes(data).map_err(|e| {
                BackendError::Store(format!("undecodable {what} {key} of run {run_id}: {e}"))
            })?;
            Ok((key.clone(), value))
        })
        .collect()
}

/// Every payload inside a failure's cause chain, for the size limits.
pub(crate) fn failure_payloads(failure: &Failure) -> Vec<&Payload> {
    let mut out = Vec::new();
    let mut next = Some(failure);
    while let Some(f) = next {
        match f {
            Failure::Application(e) => out.extend(e.details.iter()),
            Failure::Timeout(e) => out.extend(e.last_heartbeat_details.iter()),
            Failure::Canceled(e) => out.extend(e.details.iter()),
            Failure::Activity(_)
            | Failure::ChildWorkflow(_)
            | Failure::Terminated(_)
            | Failure::Server(_) => {}
        }
        next = f.cause();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::{IdWindow, RunKey, RunState};
    use crate::backend::RunStatus;
    use crate::engine::store::ExecutionRow;

    /// A run's state as format version 6 wrote it: identity, status and
    /// times inside (JSON here, as files of version 2 held it).
    const OLD_STATE: &str = r#"{
        "namespace": "default", "workflow_id": "w", "run_id": "r",
        "workflow_type": "Greet", "task_queue": "q", "request_id": "req",
        "status": "Completed",
        "start_time": {"secs_since_epoch": 100, "nanos_since_epoch": 0},
        "close_time": {"secs_since_epoch": 160, "nanos_since_epoch": 5},
        "next_event_id": 4, "events_since": 1, "wft": "Idle",
        "wft_attempt": 1, "wft_seq": 2
    }"#;

    fn row(state: Vec<u8>) -> ExecutionRow {
        let at = |secs, nanos| std::time::UNIX_EPOCH + std::time::Duration::new(secs, nanos);
        ExecutionRow {
            namespace: "default".into(),
            run_id: "r".into(),
            workflow_id: "w".into(),
            status: RunStatus::Completed,
            request_id: "req".into(),
            state,
            workflow_type: "Greet".into(),
            task_queue: "q".into(),
            start_time: at(100, 0),
            close_time: Some(at(160, 5)),
        }
    }

    /// The state leaves out what the row's columns hold, and reads back
    /// whole from the row; a state that holds them (an older file's)
    /// reads the same.
    #[test]
    fn the_state_leaves_the_rows_columns_out_and_reads_them_back() {
        let old = RunState::from_row(&row(OLD_STATE.as_bytes().to_vec())).unwrap();
        let written = old.to_row(&RunKey::new("default", "r")).unwrap();
        assert_eq!(written, row(written.state.clone()), "the row's columns");
        // A MessagePack map key: its length, then its bytes.
        let plain = crate::engine::names::spell_out(&written.state).unwrap();
        let has_key = |name: &str| {
            let mut key = vec![0xa0 | name.len() as u8];
            key.extend_from_slice(name.as_bytes());
            plain.windows(key.len()).any(|w| w == key)
        };
        for name in [
            "namespace",
            "workflow_id",
            "run_id",
            "workflow_type",
            "task_queue",
            "request_id",
            "status",
            "start_time",
            "close_time",
        ] {
            assert!(!has_key(name), "{name} in the state");
        }
        assert!(has_key("next_event_id") && has_key("first_run_id"));
        assert_eq!(RunState::from_row(&written).unwrap(), old);
        assert_eq!(old.workflow_type, "Greet");
        assert_eq!(old.status, RunStatus::Completed);
    }

    #[test]
    fn an_id_window_keeps_the_latest_ids_and_forgets_the_oldest_first() {
        let mut w = IdWindow::default();
        assert!(w.insert("a", 2));
        assert!(w.insert("b", 2));
        assert!(!w.insert("a", 2), "a known id is not added twice");
        assert!(w.insert("c", 2));
        // "a" was the oldest: forgotten, so it counts as new again.
        assert!(!w.insert("b", 2));
        assert!(w.insert("a", 2));
        assert_eq!(Vec::<String>::from(w), ["c", "a"]);
    }

    /// State written when the ids were a set (a JSON list in id order)
    /// still reads.
    #[test]
    fn an_id_window_reads_the_old_set_format() {
        let w: IdWindow = serde_json::from_str(r#"["x","y"]"#).unwrap();
        assert_eq!(serde_json::to_string(&w).unwrap(), r#"["x","y"]"#);
        let mut w = w;
        assert!(!w.insert("y", 10));
    }
}
