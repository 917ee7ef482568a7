//! The boundary between the workflow executor and whatever drives it.
//!
//! It has the shape of Temporal's core SDK protocol: an [`Activation`] carries
//! [`Job`]s into a workflow, and the workflow answers with [`Command`]s, each
//! numbered per command type (`seq`). The executor sees only these types, never
//! history, stores or the engine; that is what lets another backend drive it.
//!
//! Applications do not need this module (workflows see it through
//! [`WorkflowContext`](crate::WorkflowContext)); it is public because the
//! [`Backend`](crate::backend::Backend) trait, the seam another backend
//! implements, carries its commands.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};

use crate::converter::Payload;
use crate::failure::Failure;
use crate::retry::RetryPolicy;
use crate::search_attributes::{SearchAttributeUpdate, SearchAttributes};

/// The namespace used when none is given.
pub const DEFAULT_NAMESPACE: &str = "default";

/// One batch of work for a workflow run.
#[derive(Clone, Debug)]
pub struct Activation {
    /// Workflow time during this activation (the workflow task's start time).
    pub timestamp: SystemTime,
    /// True while history is being replayed.
    pub is_replaying: bool,
    /// Number of events in history when the activation was made.
    pub history_length: u64,
    /// Size of history in bytes when the workflow task started.
    pub history_size_bytes: u64,
    /// Whether the engine suggests continuing as new (history long or
    /// large); recorded on `WorkflowTaskStarted`, so replay reads the same.
    pub continue_as_new_suggested: bool,
    /// The jobs, in the order they must be applied.
    pub jobs: Vec<Job>,
}

/// Facts about a run, given with its start job.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WorkflowInfo {
    /// Namespace of the run.
    pub namespace: String,
    /// The workflow id.
    pub workflow_id: String,
    /// This run's id.
    pub run_id: String,
    /// The workflow type name.
    pub workflow_type: String,
    /// The task queue the run's tasks go to.
    pub task_queue: String,
    /// Attempt of the run (1 unless a workflow retry policy restarted it).
    pub attempt: u32,
    /// When the run started.
    pub start_time: SystemTime,
    /// The run's search attributes at its start (a continued or retried
    /// run's carry the previous run's as they stood).
    #[serde(default)]
    pub search_attributes: SearchAttributes,
}

/// Something for a workflow to apply.
#[derive(Clone, Debug)]
pub enum Job {
    /// Start the workflow.
    Start {
        /// Facts about the run.
        info: WorkflowInfo,
        /// The workflow's input.
        input: Vec<Payload>,
        /// Seed for the workflow's deterministic randomness.
        randomness_seed: u64,
    },
    /// A signal arrived: run the workflow's handler for `name`. Signals are
    /// applied in the order history received them, interleaved with updates
    /// and cancel requests by arrival, after the start job and patch
    /// notifications and before resolutions.
    Signal {
        /// The signal's name.
        name: String,
        /// Its encoded arguments.
        input: Vec<Payload>,
    },
    /// An update arrived: validate it (when `run_validator`), then accept
    /// and run its handler, or reject it. On replay the update is
    /// delivered with `run_validator: false` in the task whose commands
    /// accepted it: validators do not run again. Updates come among the
    /// signals of the same activation in exact arrival order (see
    /// [`Job::rank`]).
    Update {
        /// The update's id.
        id: String,
        /// Name of the update.
        name: String,
        /// Its encoded arguments.
        input: Vec<Payload>,
        /// Whether to run the validator (false on replay).
        run_validator: bool,
    },
    /// An activity finished.
    ResolveActivity {
        /// The activity's `seq`.
        seq: u32,
        /// Its outcome.
        result: Resolution,
    },
    /// A local activity finished.
    ResolveLocalActivity {
        /// The local activity's `seq`.
        seq: u32,
        /// Its outcome.
        result: Resolution,
    },
    /// A child workflow's start ended.
    ResolveChildStart {
        /// The child's `seq`.
        seq: u32,
        /// How.
        result: ChildStart,
    },
    /// A child workflow closed: its result, or a `ChildWorkflowError`
    /// naming it with the cause.
    ResolveChild {
        /// The child's `seq`.
        seq: u32,
        /// Its outcome.
        result: Resolution,
    },
    /// A signal to another workflow was delivered (`None`) or failed.
    ResolveSignalExternal {
        /// The signal's `seq`.
        seq: u32,
        /// Why it failed.
        failure: Option<Failure>,
    },
    /// A cancel request to another workflow (or a child) was recorded
    /// (`None`) or failed.
    ResolveRequestCancelExternal {
        /// The request's `seq` (a child's `seq` for a child's cancellation).
        seq: u32,
        /// Whether it named a child (`CancelChildWorkflow`).
        child: bool,
        /// Why it failed.
        failure: Option<Failure>,
    },
    /// A timer fired.
    FireTimer {
        /// The timer's `seq`.
        seq: u32,
    },
    /// On replay: the value a side effect recorded in the workflow task
    /// being replayed. Delivered before the code runs, so the side effect's
    /// future reads it instead of running its closure. `None` when the marker
    /// holds no value (the side effect then fails the workflow task).
    ///
    /// On Temporal's core, which records side effects as local activities
    /// and learns a replayed value only once the code asks for it, the
    /// value comes after the `RecordSideEffect` command instead, live and on
    /// replay, and the side effect waits for it.
    ResolveSideEffect {
        /// The side effect's `seq`.
        seq: u32,
        /// The recorded value.
        value: Option<Payload>,
    },
    /// Cancellation of the workflow was requested (`handle.cancel()`): the
    /// workflow futures pending at this moment resolve with a `Canceled`
    /// error, once; futures created afterwards run normally. Applied in
    /// arrival order with signals and updates.
    CancelWorkflow {
        /// Why, as the requester said.
        reason: String,
    },
    /// On replay: the workflow task being replayed holds a patch marker for
    /// `patch_id`, so `ctx.patched(patch_id)` returns true in it. Delivered
    /// first, as Temporal core does.
    NotifyHasPatch {
        /// The patch's id.
        patch_id: String,
    },
}

impl Job {
    /// Where the job goes in an activation, as Temporal core orders jobs:
    /// start, then patch notifications, then signals, updates and cancel
    /// requests (one rank, in exact arrival order), then resolutions
    /// (activities, timers, side effect values), then local activity
    /// resolutions. Jobs of one rank keep their order.
    ///
    /// The arrival order of rank 2 is the same live and on replay: a signal
    /// arrives at its event id; an update arrives right after its
    /// sequencing event id, the last history event when the engine
    /// received it, which the worker gets with the update and replay reads
    /// from `WorkflowExecutionUpdateAccepted` (the driver in `translate`
    /// places the jobs; [`order_jobs`] alone sorts by rank only).
    pub fn rank(&self) -> u8 {
        match self {
            Job::Start { .. } => 0,
            Job::NotifyHasPatch { .. } => 1,
            Job::Signal { .. } | Job::Update { .. } | Job::CancelWorkflow { .. } => 2,
            Job::ResolveActivity { .. }
            | Job::FireTimer { .. }
            | Job::ResolveSideEffect { .. }
            | Job::ResolveChildStart { .. }
            | Job::ResolveChild { .. }
            | Job::ResolveSignalExternal { .. }
            | Job::ResolveRequestCancelExternal { .. } => 3,
            Job::ResolveLocalActivity { .. } => 4,
        }
    }
}

/// Puts an activation's jobs in rank order (a stable sort by
/// [`Job::rank`]), keeping the order of jobs within a rank: give it jobs of
/// one rank in arrival order.
pub fn order_jobs(jobs: &mut [Job]) {
    jobs.sort_by_key(Job::rank);
}

/// How an activity ended, as the workflow sees it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Resolution {
    /// It returned a value.
    Completed(Payload),
    /// It failed for good; the failure is an `ActivityError` with the cause.
    Failed(Failure),
}

/// Options shared by activities and local activities.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ActivityOptions {
    /// Limit on one attempt.
    pub start_to_close_timeout: Option<Duration>,
    /// Limit on all attempts together.
    pub schedule_to_close_timeout: Option<Duration>,
    /// Limit on the time spent waiting in the queue.
    pub schedule_to_start_timeout: Option<Duration>,
    /// Longest gap between heartbeats.
    pub heartbeat_timeout: Option<Duration>,
    /// How failures are retried; `None` means the default policy.
    pub retry_policy: Option<RetryPolicy>,
    /// What cancelling the activity waits for (workflow side only).
    #[serde(default)]
    pub cancellation_type: ActivityCancellationType,
}

/// What cancelling an activity (dropping its future, or a workflow
/// cancellation reaching it) does, as in Temporal's SDKs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum ActivityCancellationType {
    /// Ask for cancellation and resolve the activity's future with a
    /// `Canceled` error at once, without waiting for the activity to stop.
    #[default]
    TryCancel,
    /// Ask for cancellation and resolve once the activity has stopped
    /// (it acknowledged the cancellation, finished, or failed).
    WaitCancellationCompleted,
    /// Ask for nothing: the activity runs on, its result is ignored.
    Abandon,
}

/// Ask for an activity to run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ScheduleActivity {
    /// Number of this activity among the run's activities.
    pub seq: u32,
    /// The activity's id in the run.
    pub activity_id: String,
    /// The registered activity type.
    pub activity_type: String,
    /// Task queue to schedule it on.
    pub task_queue: String,
    /// Arguments.
    pub input: Vec<Payload>,
    /// Timeouts and retries.
    pub options: ActivityOptions,
}

/// What to do when a closed run with the same workflow id exists.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum IdReusePolicy {
    /// Start a new run whatever the last one's outcome.
    #[default]
    AllowDuplicate,
    /// Start a new run only if the last one did not complete successfully.
    AllowDuplicateFailedOnly,
    /// Never reuse the id.
    RejectDuplicate,
    /// Terminate an open run with the id, then start (a closed one is
    /// reused as by `AllowDuplicate`). Cannot be combined with a conflict
    /// policy other than `Fail`.
    TerminateIfRunning,
}

/// What to do when a run with the same workflow id is still open.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum IdConflictPolicy {
    /// Refuse the start (`WorkflowAlreadyStarted`).
    #[default]
    Fail,
    /// Return the open run instead of starting one.
    UseExisting,
    /// Terminate the open run, then start a new one.
    TerminateExisting,
}

/// How a run is bounded and retried, and the memo it carries: what a start
/// (or a child's start) holds besides its input. Timeouts as Temporal's:
/// the execution timeout bounds the whole chain (continue-as-new and
/// retries included), the run timeout one run, the task timeout each
/// workflow task (at most 2 minutes).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RunOptions {
    /// Limit on the whole chain of runs (none by default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub execution_timeout: Option<Duration>,
    /// Limit on one run (none by default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_timeout: Option<Duration>,
    /// Limit on a workflow task (default: the engine's, 10 s).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task_timeout: Option<Duration>,
    /// How a failed or timed-out run is retried as a new run (none by
    /// default: a workflow is not retried unless it says so).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_policy: Option<RetryPolicy>,
    /// Values kept with the run, shown by `describe`, never read by the
    /// engine.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub memo: BTreeMap<String, Payload>,
    /// Indexed values that list filters query (see
    /// [`crate::search_attributes`]); never encoded by a codec. A run
    /// keeps them as upserts change them, and its continue-as-new or
    /// retry carries them on.
    #[serde(default, skip_serializing_if = "SearchAttributes::is_empty")]
    pub search_attributes: SearchAttributes,
}

/// What happens to a running child when its parent closes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum ParentClosePolicy {
    /// The child is terminated (Temporal's default).
    #[default]
    Terminate,
    /// The child is asked to cancel; its code decides.
    RequestCancel,
    /// The child runs on, on its own.
    Abandon,
}

/// What cancelling a child (dropping its result future, or the parent's
/// cancellation reaching it) does, as in Temporal's SDKs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum ChildCancellationType {
    /// Ask the child to cancel and resolve once it has closed (the default).
    #[default]
    WaitCancellationCompleted,
    /// Ask the child to cancel and resolve once the request is recorded.
    WaitCancellationRequested,
    /// Ask the child to cancel and resolve at once.
    TryCancel,
    /// Ask nothing: the child runs on (its parent close policy still applies).
    Abandon,
}

/// Start a child workflow.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StartChild {
    /// Number of this child among the run's children.
    pub seq: u32,
    /// The child's workflow id.
    pub workflow_id: String,
    /// The child's registered workflow type.
    pub workflow_type: String,
    /// Task queue of the child's tasks (empty: the parent's).
    pub task_queue: String,
    /// The child's input.
    pub input: Vec<Payload>,
    /// What happens to the child when the parent closes.
    pub parent_close_policy: ParentClosePolicy,
    /// Whether a closed run of the same id may be followed by the child.
    pub id_reuse_policy: IdReusePolicy,
    /// What cancelling the child waits for (workflow side only).
    pub cancellation_type: ChildCancellationType,
    /// The child's timeouts, retries and memo.
    pub run_options: RunOptions,
}

/// Signal another workflow, or ask it to cancel, from workflow code.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ExternalTarget {
    /// The target's workflow id.
    pub workflow_id: String,
    /// The target run (`None`: the workflow id's current run).
    pub run_id: Option<String>,
    /// Whether the target must be a child of this workflow.
    pub child_workflow_only: bool,
}

/// How a child workflow's start ended, as the parent sees it.
#[derive(Clone, Debug, PartialEq)]
pub enum ChildStart {
    /// The child run started.
    Started {
        /// The child's run id.
        run_id: String,
    },
    /// A run with the child's id is open (or the reuse policy refused it).
    AlreadyExists,
}

/// A workflow's answer to an update.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum UpdateResponse {
    /// The validator passed: the handler runs (`WorkflowExecutionUpdateAccepted`).
    Accepted,
    /// Unknown update, undecodable input or validator error: nothing is
    /// recorded and the caller gets the failure.
    Rejected(Failure),
    /// The handler finished (`WorkflowExecutionUpdateCompleted`).
    Completed(Result<Payload, Failure>),
}

/// What a workflow asks for.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Command {
    /// Run an activity on a worker.
    ScheduleActivity(ScheduleActivity),
    /// Run an activity inside this worker and record its result as a marker.
    ScheduleLocalActivity(ScheduleActivity),
    /// Record a local activity's result. The worker adds this command when a
    /// local activity resolves; the workflow never emits it.
    RecordLocalActivityMarker {
        /// The local activity's `seq`.
        seq: u32,
        /// Its type.
        activity_type: String,
        /// Its input, recorded so that replay can tell a call with other
        /// arguments in the same slot.
        input: Vec<Payload>,
        /// The attempt that ended it.
        attempt: u32,
        /// Its outcome.
        result: Resolution,
    },
    /// Record a side effect's value as a marker (`core_side_effect`; a
    /// local activity of type `weft.SideEffect` on Temporal).
    RecordSideEffect {
        /// Number of this side effect among the run's side effects.
        seq: u32,
        /// The value the closure returned (empty when a side effect that
        /// waits for its value is replayed: its closure does not run).
        value: Payload,
    },
    /// Record that the code took a patch's new branch (`core_patch` marker).
    SetPatchMarker {
        /// The patch's id.
        patch_id: String,
        /// True when recorded by `deprecate_patch`: replay then accepts
        /// history with or without the marker.
        deprecated: bool,
    },
    /// Start a durable timer.
    StartTimer {
        /// Number of this timer among the run's timers.
        seq: u32,
        /// How long until it fires.
        duration: Duration,
    },
    /// Cancel a timer the workflow no longer waits for (`TimerCanceled`).
    CancelTimer {
        /// The timer's `seq`.
        seq: u32,
    },
    /// Ask for an activity to be cancelled (`ActivityTaskCancelRequested`).
    /// An activity not yet handed to a worker is cancelled at once
    /// (`ActivityTaskCanceled`); a running one learns it when it heartbeats.
    RequestCancelActivity {
        /// The activity's `seq`.
        seq: u32,
    },
    /// Start a child workflow (`StartChildWorkflowExecutionInitiated`).
    StartChildWorkflow(StartChild),
    /// Ask a child to cancel (`RequestCancelExternalWorkflowExecutionInitiated`
    /// naming the child).
    CancelChildWorkflow {
        /// The child's `seq`.
        seq: u32,
    },
    /// Signal another workflow (`SignalExternalWorkflowExecutionInitiated`).
    SignalExternalWorkflow {
        /// Number of this signal among the run's external signals.
        seq: u32,
        /// Which workflow.
        target: ExternalTarget,
        /// The signal's name.
        signal_name: String,
        /// Its arguments.
        input: Vec<Payload>,
    },
    /// Ask another workflow to cancel
    /// (`RequestCancelExternalWorkflowExecutionInitiated`).
    RequestCancelExternalWorkflow {
        /// Number of this request among the run's external cancel requests.
        seq: u32,
        /// Which workflow.
        target: ExternalTarget,
    },
    /// Answer an update.
    UpdateResponse {
        /// The update's id.
        id: String,
        /// The answer.
        response: UpdateResponse,
    },
    /// The workflow returned a value.
    CompleteWorkflow {
        /// The value.
        result: Payload,
    },
    /// The workflow returned an error.
    FailWorkflow {
        /// The error.
        failure: Failure,
    },
    /// The workflow returned its cancellation error after a cancel request:
    /// the run closes as canceled (`WorkflowExecutionCanceled`).
    CancelWorkflow {
        /// Details for the caller.
        details: Vec<Payload>,
    },
    /// Set or unset search attributes of the run
    /// (`UpsertWorkflowSearchAttributes`).
    UpsertSearchAttributes {
        /// The changes, applied in order.
        updates: Vec<SearchAttributeUpdate>,
    },
    /// The workflow continues as new: this run closes and a new run of the
    /// same workflow id starts with `input`.
    ContinueAsNew {
        /// The new run's input.
        input: Vec<Payload>,
    },
}

impl Command {
    /// Whether this command closes the run.
    pub fn is_terminal(&self) -> bool {
        matches!(
            self,
            Command::CompleteWorkflow { .. }
                | Command::FailWorkflow { .. }
                | Command::CancelWorkflow { .. }
                | Command::ContinueAsNew { .. }
        )
    }
}
