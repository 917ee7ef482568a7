//! Event history: what a run did, one event per fact, in Temporal's event
//! types and fields.
//!
//! History is append-only. Workflow task boundaries are in it
//! (scheduled/started/completed), so replay rebuilds exactly the activations
//! the code first saw. `sdk_flags` on a completed workflow task leave room to
//! version internal behaviour later.

pub(crate) mod commands;
pub(crate) mod describe;
pub(crate) mod markers;

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};

use crate::converter::Payload;
use crate::failure::{Failure, RetryState};
use crate::retry::RetryPolicy;
use crate::search_attributes::{SearchAttributeUpdate, SearchAttributes};

/// Marker name used for local activity results (Temporal core's name).
pub const LOCAL_ACTIVITY_MARKER: &str = "core_local_activity";

/// Marker name used for side effect values (details `seq`, `data`).
pub const SIDE_EFFECT_MARKER: &str = "core_side_effect";

/// Marker name used for patches (details `patch_id`, `deprecated`).
pub const PATCH_MARKER: &str = "core_patch";

/// One entry of a run's history.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// 1-based, contiguous within a run.
    pub event_id: i64,
    /// When the engine recorded it.
    #[serde(with = "time_ms")]
    pub event_time: SystemTime,
    /// What happened.
    #[serde(flatten)]
    pub attributes: EventAttributes,
}

/// Why a workflow task failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum WorkflowTaskFailedCause {
    /// Workflow code panicked or could not be run.
    WorkflowWorkerUnhandledFailure,
    /// Replay produced commands that do not match history.
    NonDeterministicError,
    /// A command was refused (too large, invalid).
    BadCommand,
    /// The task closed the run while events it had not seen waited; a new
    /// task carries them.
    UnhandledCommand,
    /// The task would leave more activities pending than the engine allows.
    PendingActivitiesLimitExceeded,
    /// ... more child workflows pending.
    PendingChildWorkflowsLimitExceeded,
    /// ... more signals to other workflows pending.
    PendingSignalsLimitExceeded,
    /// ... more cancellation requests to other workflows pending.
    PendingRequestCancelLimitExceeded,
    /// The run was closed from outside (terminated, timed out) while the
    /// task ran.
    ForceCloseCommand,
}

/// The facts, by event type.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event_type", content = "attributes")]
#[non_exhaustive]
pub enum EventAttributes {
    WorkflowExecutionStarted {
        workflow_type: String,
        task_queue: String,
        input: Vec<Payload>,
        attempt: u32,
        original_execution_run_id: String,
        first_execution_run_id: String,
        randomness_seed: u64,
        request_id: String,
        /// The run this one continues (continue-as-new), if any.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        continued_execution_run_id: Option<String>,
        /// The parent, when this run is a child workflow.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        parent: Option<ParentExecution>,
        /// Limit on the whole chain of runs.
        #[serde(
            default,
            skip_serializing_if = "Option::is_none",
            with = "opt_duration_ms"
        )]
        workflow_execution_timeout: Option<Duration>,
        /// Limit on this run.
        #[serde(
            default,
            skip_serializing_if = "Option::is_none",
            with = "opt_duration_ms"
        )]
        workflow_run_timeout: Option<Duration>,
        /// Limit on each workflow task.
        #[serde(
            default,
            skip_serializing_if = "Option::is_none",
            with = "opt_duration_ms"
        )]
        workflow_task_timeout: Option<Duration>,
        /// How a failed or timed-out run is retried.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        retry_policy: Option<RetryPolicy>,
        /// The run's memo.
        #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
        memo: BTreeMap<String, Payload>,
        /// The run's search attributes at its start.
        #[serde(default, skip_serializing_if = "SearchAttributes::is_empty")]
        search_attributes: SearchAttributes,
        /// What started this run of the chain, when not a client.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        initiator: Option<RunInitiator>,
        /// How long the run waited before its first workflow task (a retry's
        /// backoff).
        #[serde(
            default,
            skip_serializing_if = "Option::is_none",
            with = "opt_duration_ms"
        )]
        first_workflow_task_backoff: Option<Duration>,
    },
    WorkflowTaskScheduled {
        task_queue: String,
        #[serde(with = "duration_ms")]
        start_to_close_timeout: Duration,
        attempt: u32,
    },
    WorkflowTaskStarted {
        scheduled_event_id: i64,
        identity: String,
        /// What `is_continue_as_new_suggested()` read in this task.
        #[serde(default)]
        suggest_continue_as_new: bool,
        /// History size in bytes when the task started (what the workflow saw).
        #[serde(default)]
        history_size_bytes: u64,
    },
    WorkflowTaskCompleted {
        scheduled_event_id: i64,
        started_event_id: i64,
        identity: String,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        sdk_flags: Vec<u32>,
    },
    WorkflowTaskFailed {
        scheduled_event_id: i64,
        started_event_id: i64,
        cause: WorkflowTaskFailedCause,
        failure: Failure,
        identity: String,
    },
    WorkflowTaskTimedOut {
        scheduled_event_id: i64,
        started_event_id: i64,
    },
    ActivityTaskScheduled {
        activity_id: String,
        activity_type: String,
        task_queue: String,
        input: Vec<Payload>,
        #[serde(default, with = "opt_duration_ms")]
        schedule_to_close_timeout: Option<Duration>,
        #[serde(default, with = "opt_duration_ms")]
        schedule_to_start_timeout: Option<Duration>,
        #[serde(default, with = "opt_duration_ms")]
        start_to_close_timeout: Option<Duration>,
        #[serde(default, with = "opt_duration_ms")]
        heartbeat_timeout: Option<Duration>,
        retry_policy: RetryPolicy,
        workflow_task_completed_event_id: i64,
    },
    ActivityTaskStarted {
        scheduled_event_id: i64,
        attempt: u32,
        identity: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        last_failure: Option<Failure>,
    },
    ActivityTaskCompleted {
        scheduled_event_id: i64,
        started_event_id: i64,
        result: Payload,
        identity: String,
    },
    ActivityTaskFailed {
        scheduled_event_id: i64,
        started_event_id: i64,
        failure: Failure,
        retry_state: RetryState,
        identity: String,
    },
    ActivityTaskTimedOut {
        scheduled_event_id: i64,
        started_event_id: i64,
        failure: Failure,
        retry_state: RetryState,
    },
    TimerStarted {
        timer_id: String,
        #[serde(with = "duration_ms")]
        start_to_fire_timeout: Duration,
        workflow_task_completed_event_id: i64,
    },
    TimerFired {
        timer_id: String,
        started_event_id: i64,
    },
    /// A timer the workflow stopped waiting for (a command event).
    TimerCanceled {
        timer_id: String,
        started_event_id: i64,
        workflow_task_completed_event_id: i64,
    },
    /// The workflow asked for an activity to be cancelled (a command event).
    ActivityTaskCancelRequested {
        scheduled_event_id: i64,
        workflow_task_completed_event_id: i64,
    },
    /// An activity stopped on a cancellation request: at once when no
    /// worker had it, or when its worker reported the cancellation.
    ActivityTaskCanceled {
        scheduled_event_id: i64,
        /// 0 when no attempt was running.
        started_event_id: i64,
        latest_cancel_requested_event_id: i64,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        details: Vec<Payload>,
        #[serde(default)]
        identity: String,
    },
    MarkerRecorded {
        marker_name: String,
        details: BTreeMap<String, Vec<Payload>>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        failure: Option<Failure>,
        workflow_task_completed_event_id: i64,
    },
    /// A signal reached the run (incoming: written at once, or buffered
    /// while a workflow task is started and written after its completion).
    WorkflowExecutionSignaled {
        signal_name: String,
        input: Vec<Payload>,
        #[serde(default)]
        identity: String,
        /// The workflow that sent it, when workflow code did.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        external_workflow_execution: Option<WorkflowExecution>,
    },
    /// Cancellation of the run was requested (`handle.cancel()`); the
    /// workflow decides what it means.
    WorkflowExecutionCancelRequested {
        cause: String,
        #[serde(default)]
        identity: String,
        /// The workflow that asked, when workflow code (or a parent's
        /// close policy) did.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        external_workflow_execution: Option<WorkflowExecution>,
    },
    /// An update passed its validator in a workflow task (a command event).
    WorkflowExecutionUpdateAccepted {
        update_id: String,
        name: String,
        input: Vec<Payload>,
        workflow_task_completed_event_id: i64,
        /// The last event of history when the update arrived (Temporal's
        /// sequencing event id): replay delivers the update right after
        /// that event's job, so updates and signals keep their arrival
        /// order. Histories without it deliver the update after the
        /// task's signals ([`UNSEQUENCED`]).
        #[serde(default = "unsequenced")]
        accepted_request_sequencing_event_id: i64,
    },
    /// An update's handler finished (a command event).
    WorkflowExecutionUpdateCompleted {
        update_id: String,
        /// The handler's result (serialized as `{"Ok": ..}` / `{"Err": ..}`).
        outcome: Result<Payload, Failure>,
        workflow_task_completed_event_id: i64,
    },
    WorkflowExecutionCompleted {
        result: Payload,
        workflow_task_completed_event_id: i64,
    },
    WorkflowExecutionFailed {
        failure: Failure,
        retry_state: RetryState,
        workflow_task_completed_event_id: i64,
        /// The run that retries this one, when the retry policy does.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        new_execution_run_id: Option<String>,
    },
    /// The run passed its run timeout or its chain's execution timeout.
    WorkflowExecutionTimedOut {
        retry_state: RetryState,
        /// The run that retries this one, when the retry policy does.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        new_execution_run_id: Option<String>,
    },
    /// The workflow returned its cancellation error after a cancel request.
    WorkflowExecutionCanceled {
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        details: Vec<Payload>,
        workflow_task_completed_event_id: i64,
    },
    /// The workflow asked for a child to start (a command event).
    StartChildWorkflowExecutionInitiated {
        workflow_id: String,
        workflow_type: String,
        task_queue: String,
        input: Vec<Payload>,
        parent_close_policy: crate::protocol::ParentClosePolicy,
        workflow_id_reuse_policy: crate::protocol::IdReusePolicy,
        workflow_task_completed_event_id: i64,
    },
    /// The child could not start.
    StartChildWorkflowExecutionFailed {
        workflow_id: String,
        workflow_type: String,
        cause: ExternalFailureCause,
        initiated_event_id: i64,
    },
    ChildWorkflowExecutionStarted {
        workflow_id: String,
        run_id: String,
        workflow_type: String,
        initiated_event_id: i64,
    },
    ChildWorkflowExecutionCompleted {
        workflow_id: String,
        run_id: String,
        workflow_type: String,
        result: Payload,
        initiated_event_id: i64,
        started_event_id: i64,
    },
    ChildWorkflowExecutionFailed {
        workflow_id: String,
        run_id: String,
        workflow_type: String,
        failure: Failure,
        retry_state: RetryState,
        initiated_event_id: i64,
        started_event_id: i64,
    },
    ChildWorkflowExecutionCanceled {
        workflow_id: String,
        run_id: String,
        workflow_type: String,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        details: Vec<Payload>,
        initiated_event_id: i64,
        started_event_id: i64,
    },
    ChildWorkflowExecutionTerminated {
        workflow_id: String,
        run_id: String,
        workflow_type: String,
        initiated_event_id: i64,
        started_event_id: i64,
    },
    ChildWorkflowExecutionTimedOut {
        workflow_id: String,
        run_id: String,
        workflow_type: String,
        retry_state: RetryState,
        initiated_event_id: i64,
        started_event_id: i64,
    },
    /// The workflow signaled another one (a command event).
    SignalExternalWorkflowExecutionInitiated {
        workflow_id: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        run_id: Option<String>,
        signal_name: String,
        input: Vec<Payload>,
        #[serde(default)]
        child_workflow_only: bool,
        workflow_task_completed_event_id: i64,
    },
    SignalExternalWorkflowExecutionFailed {
        workflow_id: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        run_id: Option<String>,
        cause: ExternalFailureCause,
        initiated_event_id: i64,
    },
    ExternalWorkflowExecutionSignaled {
        workflow_id: String,
        run_id: String,
        initiated_event_id: i64,
    },
    /// The workflow asked another one, or a child, to cancel (a command
    /// event).
    RequestCancelExternalWorkflowExecutionInitiated {
        workflow_id: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        run_id: Option<String>,
        #[serde(default)]
        child_workflow_only: bool,
        workflow_task_completed_event_id: i64,
    },
    RequestCancelExternalWorkflowExecutionFailed {
        workflow_id: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        run_id: Option<String>,
        cause: ExternalFailureCause,
        initiated_event_id: i64,
    },
    ExternalWorkflowExecutionCancelRequested {
        workflow_id: String,
        run_id: String,
        initiated_event_id: i64,
    },
    /// The run was terminated (`handle.terminate(reason)`): closed at once,
    /// its code not consulted.
    WorkflowExecutionTerminated {
        reason: String,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        details: Vec<Payload>,
        #[serde(default)]
        identity: String,
    },
    /// Workflow code set or unset search attributes (`None`: removed).
    UpsertWorkflowSearchAttributes {
        search_attributes: Vec<SearchAttributeUpdate>,
        workflow_task_completed_event_id: i64,
    },
    /// The run closed by continuing as new: a new run of the same workflow
    /// id (`new_execution_run_id`) started with `input`, in the same commit.
    WorkflowExecutionContinuedAsNew {
        new_execution_run_id: String,
        workflow_type: String,
        task_queue: String,
        input: Vec<Payload>,
        workflow_task_completed_event_id: i64,
    },
}

/// A workflow run, as events name another one.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkflowExecution {
    pub workflow_id: String,
    pub run_id: String,
}

/// A child run's parent, on the child's `WorkflowExecutionStarted`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ParentExecution {
    pub workflow_id: String,
    pub run_id: String,
    /// The parent's `StartChildWorkflowExecutionInitiated` event.
    pub initiated_event_id: i64,
}

/// What started a run of a chain other than a client's start.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum RunInitiator {
    /// The previous run continued as new.
    ContinueAsNew,
    /// The previous run failed or timed out and its retry policy retried it.
    Retry,
}

/// Why a child could not be started, or another workflow not reached.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ExternalFailureCause {
    /// A run with the child's id is open, or the reuse policy refused it.
    WorkflowAlreadyExists,
    /// No such workflow (or it is closed, or not this workflow's child).
    ExternalWorkflowExecutionNotFound,
}

/// The sequencing event id of an update accepted before updates recorded
/// one: after every event of its workflow task.
pub const UNSEQUENCED: i64 = i64::MAX;

fn unsequenced() -> i64 {
    UNSEQUENCED
}

impl EventAttributes {
    /// The event type's name, as Temporal spells it without the prefix.
    pub fn name(&self) -> &'static str {
        match self {
            EventAttributes::WorkflowExecutionStarted { .. } => "WorkflowExecutionStarted",
            EventAttributes::WorkflowTaskScheduled { .. } => "WorkflowTaskScheduled",
            EventAttributes::WorkflowTaskStarted { .. } => "WorkflowTaskStarted",
            EventAttributes::WorkflowTaskCompleted { .. } => "WorkflowTaskCompleted",
            EventAttributes::WorkflowTaskFailed { .. } => "WorkflowTaskFailed",
            EventAttributes::WorkflowTaskTimedOut { .. } => "WorkflowTaskTimedOut",
            EventAttributes::ActivityTaskScheduled { .. } => "ActivityTaskScheduled",
            EventAttributes::ActivityTaskStarted { .. } => "ActivityTaskStarted",
            EventAttributes::ActivityTaskCompleted { .. } => "ActivityTaskCompleted",
            EventAttributes::ActivityTaskFailed { .. } => "ActivityTaskFailed",
            EventAttributes::ActivityTaskTimedOut { .. } => "ActivityTaskTimedOut",
            EventAttributes::TimerStarted { .. } => "TimerStarted",
            EventAttributes::TimerFired { .. } => "TimerFired",
            EventAttributes::TimerCanceled { .. } => "TimerCanceled",
            EventAttributes::ActivityTaskCancelRequested { .. } => "ActivityTaskCancelRequested",
            EventAttributes::ActivityTaskCanceled { .. } => "ActivityTaskCanceled",
            EventAttributes::WorkflowExecutionCancelRequested { .. } => {
                "WorkflowExecutionCancelRequested"
            }
            EventAttributes::WorkflowExecutionCanceled { .. } => "WorkflowExecutionCanceled",
            EventAttributes::WorkflowExecutionTerminated { .. } => "WorkflowExecutionTerminated",
            EventAttributes::MarkerRecorded { .. } => "MarkerRecorded",
            Self::UpsertWorkflowSearchAttributes { .. } => "UpsertWorkflowSearchAttributes",
            EventAttributes::WorkflowExecutionSignaled { .. } => "WorkflowExecutionSignaled",
            EventAttributes::WorkflowExecutionUpdateAccepted { .. } => {
                "WorkflowExecutionUpdateAccepted"
            }
            EventAttributes::WorkflowExecutionUpdateCompleted { .. } => {
                "WorkflowExecutionUpdateCompleted"
            }
            EventAttributes::WorkflowExecutionCompleted { .. } => "WorkflowExecutionCompleted",
            EventAttributes::WorkflowExecutionFailed { .. } => "WorkflowExecutionFailed",
            EventAttributes::WorkflowExecutionTimedOut { .. } => "WorkflowExecutionTimedOut",
            EventAttributes::WorkflowExecutionContinuedAsNew { .. } => {
                "WorkflowExecutionContinuedAsNew"
            }
            EventAttributes::StartChildWorkflowExecutionInitiated { .. } => {
                "StartChildWorkflowExecutionInitiated"
            }
            EventAttributes::StartChildWorkflowExecutionFailed { .. } => {
                "StartChildWorkflowExecutionFailed"
            }
            EventAttributes::ChildWorkflowExecutionStarted { .. } => {
                "ChildWorkflowExecutionStarted"
            }
            EventAttributes::ChildWorkflowExecutionCompleted { .. } => {
                "ChildWorkflowExecutionCompleted"
            }
            EventAttributes::ChildWorkflowExecutionFailed { .. } => "ChildWorkflowExecutionFailed",
            EventAttributes::ChildWorkflowExecutionCanceled { .. } => {
                "ChildWorkflowExecutionCanceled"
            }
            EventAttributes::ChildWorkflowExecutionTerminated { .. } => {
                "ChildWorkflowExecutionTerminated"
            }
            EventAttributes::ChildWorkflowExecutionTimedOut { .. } => {
                "ChildWorkflowExecutionTimedOut"
            }
            EventAttributes::SignalExternalWorkflowExecutionInitiated { .. } => {
                "SignalExternalWorkflowExecutionInitiated"
            }
            EventAttributes::SignalExternalWorkflowExecutionFailed { .. } => {
                "SignalExternalWorkflowExecutionFailed"
            }
            EventAttributes::ExternalWorkflowExecutionSignaled { .. } => {
                "ExternalWorkflowExecutionSignaled"
            }
            EventAttributes::RequestCancelExternalWorkflowExecutionInitiated { .. } => {
                "RequestCancelExternalWorkflowExecutionInitiated"
            }
            EventAttributes::RequestCancelExternalWorkflowExecutionFailed { .. } => {
                "RequestCancelExternalWorkflowExecutionFailed"
            }
            EventAttributes::ExternalWorkflowExecutionCancelRequested { .. } => {
                "ExternalWorkflowExecutionCancelRequested"
            }
        }
    }

    /// For events a workflow task's commands produce: the id of the
    /// `WorkflowTaskCompleted` event they belong to.
    pub fn command_of(&self) -> Option<i64> {
        match self {
            EventAttributes::ActivityTaskScheduled {
                workflow_task_completed_event_id: id,
                ..
            }
            | EventAttributes::TimerStarted {
                workflow_task_completed_event_id: id,
                ..
            }
            | EventAttributes::MarkerRecorded {
                workflow_task_completed_event_id: id,
                ..
            }
            | EventAttributes::UpsertWorkflowSearchAttributes {
                workflow_task_completed_event_id: id,
                ..
            }
            | EventAttributes::TimerCanceled {
                workflow_task_completed_event_id: id,
                ..
            }
            | EventAttributes::ActivityTaskCancelRequested {
                workflow_task_completed_event_id: id,
                ..
            }
            | EventAttributes::WorkflowExecutionCanceled {
                workflow_task_completed_event_id: id,
                ..
            }
            | EventAttributes::WorkflowExecutionUpdateAccepted {
                workflow_task_completed_event_id: id,
                ..
            }
            | EventAttributes::WorkflowExecutionUpdateCompleted {
                workflow_task_completed_event_id: id,
                ..
            }
            | EventAttributes::WorkflowExecutionCompleted {
                workflow_task_completed_event_id: id,
                ..
            }
            | EventAttributes::WorkflowExecutionFailed {
                workflow_task_completed_event_id: id,
                ..
            }
            | EventAttributes::WorkflowExecutionContinuedAsNew {
                workflow_task_completed_event_id: id,
                ..
            }
            | EventAttributes::StartChildWorkflowExecutionInitiated {
                workflow_task_completed_event_id: id,
                ..
            }
            | EventAttributes::SignalExternalWorkflowExecutionInitiated {
                workflow_task_completed_event_id: id,
                ..
            }
            | EventAttributes::RequestCancelExternalWorkflowExecutionInitiated {
                workflow_task_completed_event_id: id,
                ..
            } => Some(*id),
            _ => None,
        }
    }
}

/// Serializes a history as pretty JSON (the export format `Replayer` reads).
pub fn to_json(events: &[Event]) -> Result<String, serde_json::Error> {
    serde_json::to_string_pretty(events)
}

/// Reads a history exported by [`to_json`] (an array of events), or by
/// `weft history export` (an object whose `events` hold them, beside the
/// run's ids and the format's version, which the command line checks).
pub fn from_json(text: &str) -> Result<Vec<Event>, serde_json::Error> {
    if text.trim_start().starts_with('{') {
        #[derive(Deserialize)]
        struct Exported {
            events: Vec<Event>,
        }
        return serde_json::from_str::<Exported>(text).map(|exported| exported.events);
    }
    serde_json::from_str(text)
}

pub(crate) mod time_ms {
    use std::time::{Duration, SystemTime, UNIX_EPOCH};

    use serde::{Deserialize, Deserializer, Serializer};

    pub fn to_ms(t: SystemTime) -> u64 {
        t.duration_since(UNIX_EPOCH)
            .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
            .unwrap_or(0)
    }

    pub fn from_ms(ms: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_millis(ms)
    }

    pub fn serialize<S: Serializer>(t: &SystemTime, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(to_ms(*t))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<SystemTime, D::Error> {
        Ok(from_ms(u64::deserialize(d)?))
    }
}

mod duration_ms {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        Ok(Duration::from_millis(u64::deserialize(d)?))
    }
}

mod opt_duration_ms {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(d: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
        match d {
            Some(d) => s.serialize_some(&u64::try_from(d.as_millis()).unwrap_or(u64::MAX)),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
        Ok(Option::<u64>::deserialize(d)?.map(Duration::from_millis))
    }
}
