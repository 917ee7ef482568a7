//! The interface workers and clients talk to: poll and complete tasks; start,
//! describe, read history and wait for results.
//!
//! The embedded [`crate::engine`] implements it. Workers and clients use only
//! this trait, never the engine, so another backend can take its place.
//! Schedules are reached through it too; their calls have default bodies
//! that answer `Unsupported`, so a backend without schedules needs none.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use futures::future::BoxFuture;
use serde::{Deserialize, Serialize};

use crate::converter::{CodecError, DataConverter, Payload, PayloadTooLarge};
use crate::failure::Failure;
use crate::history::Event;
use crate::protocol::Command;
use crate::schedule::{Backfill, OverlapPolicy, Schedule, ScheduleDescription, ScheduleListEntry};
use crate::telemetry::{ClientInterceptor, Metrics};

pub use crate::protocol::DEFAULT_NAMESPACE;
pub use encoded::PAYLOAD_CODEC_ERROR;
pub use payloads::ENCODED_FAILURE_MESSAGE;

mod encoded;
mod forward;
mod intercepted;
mod payloads;

#[cfg(feature = "temporal")]
pub(crate) use payloads::Coder as PayloadCoder;

/// `inner` seen through client interceptors, the first outermost.
pub(crate) fn intercept(
    inner: Arc<dyn Backend>,
    interceptors: &[Arc<dyn ClientInterceptor>],
) -> Arc<dyn Backend> {
    intercepted::wrap(inner, interceptors)
}

/// Decodes every payload of `events` with `converter`'s codecs (what a
/// connection with that converter does to the history it reads).
pub(crate) fn decode_events(
    converter: &DataConverter,
    events: &mut [Event],
) -> Result<(), CodecError> {
    payloads::Coder {
        converter,
        encode: false,
    }
    .events(events)
}

mod description;
mod list;

pub use self::description::{
    Description, PendingActivityDescription, PendingActivityState, PendingChildDescription,
};
pub use self::list::{ListFilter, WorkflowSummary};

/// A backend and the namespace to work in: what clients and workers are
/// built on. `Worker::new(&client, ..)` takes the client's.
#[derive(Clone)]
pub struct Connection {
    backend: Arc<dyn Backend>,
    namespace: String,
    metrics: Option<Metrics>,
    /// The converter `backend` sees payloads through, for workers that
    /// reach their backend's server by another way (Temporal's core).
    converter: Option<DataConverter>,
}

impl Connection {
    /// A connection to `backend` in `namespace`.
    pub fn new(backend: Arc<dyn Backend>, namespace: impl Into<String>) -> Self {
        Connection {
            backend,
            namespace: namespace.into(),
            metrics: None,
            converter: None,
        }
    }

    /// The same connection, noting that its backend already sees payloads
    /// through `converter` (a client's connection).
    pub(crate) fn noting_converter(mut self, converter: &DataConverter) -> Self {
        self.converter = (!converter.is_identity()).then(|| converter.clone());
        self
    }

    /// The converter the backend sees payloads through, if not the identity.
    #[cfg(feature = "temporal")]
    pub(crate) fn converter(&self) -> Option<&DataConverter> {
        self.converter.as_ref()
    }

    /// The same connection, with `metrics` for the workers built on it to
    /// record into.
    pub fn with_metrics(mut self, metrics: Metrics) -> Self {
        self.metrics = Some(metrics);
        self
    }

    /// The metrics workers built on this connection record into.
    pub fn metrics(&self) -> Option<&Metrics> {
        self.metrics.as_ref()
    }

    /// The backend.
    pub fn backend(&self) -> Arc<dyn Backend> {
        self.backend.clone()
    }

    /// The namespace.
    pub fn namespace(&self) -> &str {
        &self.namespace
    }

    /// The same connection seeing the backend through `converter`: its
    /// codecs encode every payload on its way to the backend and decode
    /// it on its way back (see [`DataConverter`]). A client's connection
    /// ([`Client::with_data_converter`](crate::Client::with_data_converter))
    /// carries its converter already.
    pub fn with_data_converter(mut self, converter: &DataConverter) -> Self {
        self.backend = encoded::wrap(self.backend, converter);
        self = self.noting_converter(converter);
        self
    }
}

/// Longest workflow id, run id, request id or task queue name accepted, in bytes.
pub const MAX_ID_BYTES: usize = 1000;

pub use crate::protocol::{IdConflictPolicy, IdReusePolicy};

/// A request to start a workflow run.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct StartWorkflowRequest {
    /// Namespace of the run.
    pub namespace: String,
    /// Business id of the workflow.
    pub workflow_id: String,
    /// Registered workflow type.
    pub workflow_type: String,
    /// Task queue its workflow tasks go to.
    pub task_queue: String,
    /// Encoded input.
    pub input: Vec<Payload>,
    /// Makes a retried start idempotent: the same request id returns the same run.
    pub request_id: String,
    /// Policy for a closed run with the same id.
    pub id_reuse_policy: IdReusePolicy,
    /// Policy for an open run with the same id.
    pub id_conflict_policy: IdConflictPolicy,
    /// Timeouts, retries and memo of the run.
    pub run_options: crate::protocol::RunOptions,
}

/// A request to signal a workflow run.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SignalRequest {
    /// Namespace of the run.
    pub namespace: String,
    /// The workflow id.
    pub workflow_id: String,
    /// The run to signal; `None` signals the workflow id's latest run, which
    /// must be open.
    pub run_id: Option<String>,
    /// Name of the signal (the handler it goes to).
    pub signal_name: String,
    /// Encoded arguments.
    pub input: Vec<Payload>,
    /// Makes a retried signal idempotent: a request id already applied to
    /// the run is acknowledged without a second event.
    pub request_id: String,
}

/// A request to cancel a workflow run (Temporal's
/// `RequestCancelWorkflowExecution`): the workflow is told, and its code
/// decides what cancellation means.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CancelRequest {
    /// Namespace of the run.
    pub namespace: String,
    /// The workflow id.
    pub workflow_id: String,
    /// The run to cancel; `None` cancels the workflow id's latest run, which
    /// must be open.
    pub run_id: Option<String>,
    /// Why, recorded on `WorkflowExecutionCancelRequested`.
    pub reason: String,
}

/// A request to terminate a workflow run: it closes at once, its code not
/// consulted, nothing of it running on.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TerminateRequest {
    /// Namespace of the run.
    pub namespace: String,
    /// The workflow id.
    pub workflow_id: String,
    /// The run to terminate; `None` terminates the workflow id's latest run,
    /// which must be open.
    pub run_id: Option<String>,
    /// Why, recorded on `WorkflowExecutionTerminated`.
    pub reason: String,
    /// Details recorded with it.
    pub details: Vec<Payload>,
}

/// The answer to an activity heartbeat.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeartbeatResponse {
    /// The activity should stop: its workflow asked for its cancellation,
    /// or the run closed, or the attempt is no longer the current one.
    pub cancel_requested: bool,
}

/// A query to a workflow run: answered from its state, never recorded.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct QueryRequest {
    /// Namespace of the run.
    pub namespace: String,
    /// The workflow id.
    pub workflow_id: String,
    /// The run to query; `None` queries the workflow id's latest run (open
    /// or closed).
    pub run_id: Option<String>,
    /// Name of the query (the handler that answers it).
    pub query_name: String,
    /// Encoded arguments.
    pub input: Vec<Payload>,
}

/// An update of a workflow run: validated, then applied by its handler,
/// once per update id.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct UpdateRequest {
    /// Namespace of the run.
    pub namespace: String,
    /// The workflow id.
    pub workflow_id: String,
    /// The run to update; `None` updates the workflow id's latest run,
    /// which must be open (unless the update id completed there already).
    pub run_id: Option<String>,
    /// Makes the update idempotent: a known id returns the first outcome.
    pub update_id: String,
    /// Name of the update (the handler that applies it).
    pub name: String,
    /// Encoded arguments.
    pub input: Vec<Payload>,
}

/// An update handed to a worker with a workflow task.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct UpdateDelivery {
    /// The update's id.
    pub update_id: String,
    /// Name of the update.
    pub name: String,
    /// Encoded arguments.
    pub input: Vec<Payload>,
    /// The last history event when the update arrived: the workflow gets
    /// the update right after that event's job, so signals and updates
    /// keep their arrival order (recorded on the update's
    /// `WorkflowExecutionUpdateAccepted` for replay).
    pub sequencing_event_id: i64,
}

/// The run a start request led to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StartWorkflowResponse {
    /// The run's id.
    pub run_id: String,
    /// False when an existing run was returned (same request id, or `UseExisting`).
    pub started: bool,
}

/// What update-with-start answers once the update has an outcome.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct UpdateWithStartResponse {
    /// The run the update went to: the one this call started, or the open
    /// run it found (same request id, or `UseExisting`).
    pub run_id: String,
    /// Whether this call started the run.
    pub started: bool,
    /// The update's result, or why it has none (`UpdateFailed`: rejected,
    /// its handler failed, or the run closed before it completed).
    pub outcome: Result<Payload, BackendError>,
}

/// Where a run stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum RunStatus {
    /// Still running.
    Running,
    /// Returned a value.
    Completed,
    /// Returned an error.
    Failed,
    /// Closed by continuing as new: a new run of the workflow id took over.
    ContinuedAsNew,
    /// Returned its cancellation error after a cancel request.
    Canceled,
    /// Terminated: closed at once, without the workflow's code.
    Terminated,
    /// Passed its run timeout or its chain's execution timeout.
    TimedOut,
}

impl RunStatus {
    /// Whether the run is closed.
    pub fn is_closed(self) -> bool {
        !matches!(self, RunStatus::Running)
    }
}

/// How a closed run ended.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum RunOutcome {
    /// The workflow's value.
    Completed(Payload),
    /// The workflow's failure.
    Failed(Failure),
    /// The workflow ended canceled (a `CanceledError` with its details).
    Canceled(Failure),
    /// The run was terminated (a `TerminatedError` with the reason).
    Terminated(Failure),
    /// The run timed out (a `TimeoutError` naming which timeout).
    TimedOut(Failure),
    /// The run failed or timed out and its retry policy started
    /// `new_run_id` in its place; [`Backend::wait_result`] follows it.
    Retried {
        /// Why this run ended.
        failure: Failure,
        /// Whether it timed out (else it failed).
        timed_out: bool,
        /// The run that took over.
        new_run_id: String,
    },
    /// The run continued as new; `new_run_id` is the run that took over.
    /// [`Backend::wait_result`] follows the chain, so callers see the last
    /// run's outcome instead.
    ContinuedAsNew {
        /// The next run of the chain.
        new_run_id: String,
    },
}

/// Identifies one delivery of a task, so a stale worker's late answer is refused.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct TaskToken {
    /// Namespace of the run.
    pub namespace: String,
    /// The run.
    pub run_id: String,
    /// Which task of the run: the workflow task number, or the activity's
    /// scheduled event id.
    pub task_id: i64,
    /// Delivery attempt of that task.
    pub attempt: u32,
    /// Changes each time the engine starts, so tokens from before a restart fail.
    pub incarnation: u64,
}

/// A workflow task handed to a worker.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct WorkflowTask {
    /// Token to complete or fail the task with.
    pub token: TaskToken,
    /// The workflow id.
    pub workflow_id: String,
    /// The workflow type.
    pub workflow_type: String,
    /// Events since the previous workflow task's completion: its
    /// `WorkflowTaskScheduled`, `Started`, `Completed`, its command events,
    /// then what arrived since. For the first task, the whole history.
    pub events: Vec<Event>,
    /// Id of the first event in `events`.
    pub first_event_id: i64,
    /// Number of events in history before this task.
    pub history_length: u64,
    /// Workflow time for this task (what `ctx.now()` reads).
    pub started_time: SystemTime,
    /// Attempt of this workflow task (above 1 after failures).
    pub attempt: u32,
    /// How long the worker has to complete the task before the engine hands
    /// it out again (the workflow task timeout).
    pub timeout: Duration,
    /// Size of the run's history in bytes before this task.
    pub history_size_bytes: u64,
    /// Whether the engine suggests continuing as new (history at or over
    /// the engine's event or size threshold); the worker hands it to the
    /// workflow and the engine records it on `WorkflowTaskStarted`.
    pub suggest_continue_as_new: bool,
    /// Updates not yet accepted, in arrival order: the task delivers them
    /// among its signals, each after the event it arrived after (its
    /// `sequencing_event_id`), and answers each with an `UpdateResponse`.
    pub updates: Vec<UpdateDelivery>,
    /// When set, this is a query task, not a workflow task: answer it with
    /// [`Backend::respond_query`] from the run's committed state (the cached
    /// run if `first_event_id` says it is current, else a replay of the full
    /// history); it produces no commands and changes nothing.
    /// `first_event_id` is 0 when the run must be replayed (a closed run).
    pub query: Option<QueryRequest>,
}

/// A worker's answer to a workflow task.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct WorkflowTaskCompletion {
    /// The task's token.
    pub token: TaskToken,
    /// Commands in the order the workflow produced them.
    pub commands: Vec<Command>,
    /// Internal behaviour flags the worker used.
    pub sdk_flags: Vec<u32>,
    /// Who completed it.
    pub identity: String,
}

/// An activity attempt handed to a worker.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ActivityTask {
    /// Token to complete the attempt with.
    pub token: TaskToken,
    /// Workflow id of the run that scheduled it.
    pub workflow_id: String,
    /// Workflow type of that run.
    pub workflow_type: String,
    /// The activity's id.
    pub activity_id: String,
    /// The activity's type.
    pub activity_type: String,
    /// Arguments.
    pub input: Vec<Payload>,
    /// Attempt number (1-based).
    pub attempt: u32,
    /// Limit on this attempt.
    pub start_to_close_timeout: Option<Duration>,
    /// Heartbeat timeout, if any.
    pub heartbeat_timeout: Option<Duration>,
    /// When this attempt was scheduled.
    pub scheduled_time: SystemTime,
    /// When this attempt was handed to a worker (the backend's clock).
    pub started_time: SystemTime,
    /// The last heartbeat's details from an earlier attempt (empty if none),
    /// so a retried attempt can resume where the last one got to.
    pub heartbeat_details: Vec<Payload>,
}

/// How an activity attempt ended.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub enum ActivityTaskResult {
    /// It returned a value.
    Completed(Payload),
    /// It failed; the retry policy decides what comes next.
    Failed(Failure),
    /// It stopped on a cancellation request (returned a `CanceledError`),
    /// with these details. Without a request this counts as a failure.
    Canceled(Vec<Payload>),
}

/// `NotFound`'s message: "not found" for a run that does not exist; for
/// one that exists but is closed, the detail alone (it names the run and
/// why it refuses), not "not found".
fn not_found_text(workflow_id: &str, run_id: Option<&str>, detail: Option<&str>) -> String {
    match (run_id, detail) {
        (_, Some(detail)) => format!("workflow {workflow_id:?}: {detail}"),
        (Some(run_id), None) => format!("workflow {workflow_id:?} not found (run {run_id})"),
        (None, None) => format!("workflow {workflow_id:?} not found"),
    }
}

/// Errors a backend returns.
#[derive(Clone, Debug, PartialEq, thiserror::Error, Serialize, Deserialize)]
#[non_exhaustive]
pub enum BackendError {
    /// A run with this workflow id is open, or the id may not be reused.
    #[error("workflow {workflow_id:?} already started (run {run_id})")]
    WorkflowAlreadyStarted {
        /// The workflow id.
        workflow_id: String,
        /// The run holding it.
        run_id: String,
    },
    /// No such workflow or run (or, for calls that need an open run, the
    /// run is closed: `detail` says so).
    #[error("{}", not_found_text(workflow_id, run_id.as_deref(), detail.as_deref()))]
    NotFound {
        /// The workflow id asked for.
        workflow_id: String,
        /// The run id asked for.
        run_id: Option<String>,
        /// Why, when there is more to say than "no such run".
        detail: Option<String>,
    },
    /// The task token is stale or unknown: the task timed out, was redelivered
    /// or the engine restarted.
    #[error("task not found or no longer current: {0}")]
    TaskNotFound(String),
    /// New events arrived while the task ran; the completion is refused so a
    /// new task carries them.
    #[error("workflow task completion refused: {0}")]
    UnhandledCommand(String),
    /// A request argument is invalid.
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
    /// A payload exceeds the configured limit.
    #[error(transparent)]
    PayloadTooLarge(#[from] PayloadTooLarge),
    /// The engine stopped (a commit failed, or it shut down); nothing after
    /// the reason was acknowledged.
    #[error("engine stopped: {0}")]
    Stopped(String),
    /// The store could not be read.
    #[error("store error: {0}")]
    Store(String),
    /// A payload codec could not encode or decode a payload.
    #[error(transparent)]
    Codec(#[from] CodecError),
    /// The query failed: no such query, undecodable input, or its handler
    /// failed.
    #[error("query failed: {0}")]
    QueryFailed(Failure),
    /// The update did not complete successfully: rejected (unknown name,
    /// undecodable input, validator), its handler failed, or the run closed
    /// before it completed.
    #[error("update failed: {0}")]
    UpdateFailed(Failure),
    /// This backend does not offer the call.
    #[error("not supported by this backend: {0}")]
    Unsupported(String),
    /// A remote backend could not reach its server, or lost the connection
    /// before the answer came: the call may or may not have been applied.
    #[error("server unavailable: {0}")]
    Unavailable(String),
    /// The server refused the call: its namespace is not served to this
    /// client.
    #[error("permission denied: {0}")]
    PermissionDenied(String),
    /// No schedule has this id (in the namespace).
    #[error("schedule {schedule_id:?} not found")]
    ScheduleNotFound {
        /// The schedule id asked for.
        schedule_id: String,
    },
    /// A schedule with this id exists already.
    #[error("schedule {schedule_id:?} already exists: update it, or delete it first")]
    ScheduleAlreadyExists {
        /// The schedule id.
        schedule_id: String,
    },
    /// The schedule changed since the description an update was based on.
    #[error("schedule {schedule_id:?} changed since it was described: describe it again")]
    ScheduleConflict {
        /// The schedule id.
        schedule_id: String,
    },
}

/// What a backend without schedules answers.
fn no_schedules<'a, T: Send + 'a>(call: &str) -> BoxFuture<'a, Result<T, BackendError>> {
    let error = BackendError::Unsupported(format!("schedules ({call})"));
    Box::pin(async move { Err(error) })
}

/// The calls workers and clients make.
///
/// Continue-as-new: a run id that is the first run of a workflow's current
/// continue-as-new chain addresses the chain, so signals, queries, updates,
/// `describe` and `wait_result` given it reach the chain's current run;
/// `history` always reads exactly the run named.
///
/// Long polls return `Ok(None)` when the backend is shutting down.
pub trait Backend: Send + Sync + 'static {
    /// Starts a run (or returns the existing one, per the request's policies).
    fn start_workflow(
        &self,
        request: StartWorkflowRequest,
    ) -> BoxFuture<'_, Result<StartWorkflowResponse, BackendError>>;

    /// Signals a run (the latest run when `run_id` is `None`): appends a
    /// `WorkflowExecutionSignaled` event, or buffers it while a workflow
    /// task is running. Answers once the event is durable. `NotFound` when
    /// the run is closed or does not exist. A request id already applied to
    /// the run returns `Ok` without a second event.
    fn signal_workflow(&self, request: SignalRequest) -> BoxFuture<'_, Result<(), BackendError>>;

    /// Signals the workflow's open run, or starts a run and signals it
    /// (`WorkflowExecutionStarted` then `WorkflowExecutionSignaled`, in one
    /// commit): Temporal's signal-with-start. `start.request_id` is the
    /// signal's request id too, so a retried call neither starts nor
    /// signals twice. The id reuse policy applies when a run is started;
    /// the conflict policy does not (an open run is always signaled).
    fn signal_with_start(
        &self,
        start: StartWorkflowRequest,
        signal_name: String,
        input: Vec<Payload>,
    ) -> BoxFuture<'_, Result<StartWorkflowResponse, BackendError>>;

    /// Asks a run to cancel (the latest run when `run_id` is `None`):
    /// appends `WorkflowExecutionCancelRequested` (buffered while a workflow
    /// task runs) and answers once it is durable. A run asked already
    /// answers `Ok` without a second event. `NotFound` when the run is
    /// closed or does not exist.
    fn request_cancel_workflow(
        &self,
        request: CancelRequest,
    ) -> BoxFuture<'_, Result<(), BackendError>>;

    /// Terminates a run (the latest run when `run_id` is `None`): appends
    /// `WorkflowExecutionTerminated` and closes it in one commit; its
    /// pending activities, timers and updates end with it. `NotFound` when
    /// the run is closed or does not exist.
    fn terminate_workflow(
        &self,
        request: TerminateRequest,
    ) -> BoxFuture<'_, Result<(), BackendError>>;

    /// Records an activity attempt's heartbeat (its details are kept for a
    /// later attempt and for a heartbeat timeout's failure) and says whether
    /// the activity should stop. Answers after the commit.
    fn record_activity_heartbeat(
        &self,
        token: TaskToken,
        details: Vec<Payload>,
    ) -> BoxFuture<'_, Result<HeartbeatResponse, BackendError>>;

    /// Queries a run (the latest run when `run_id` is `None`), open or
    /// closed. The query goes to a worker of the run's task queue as a query
    /// task once no workflow task of the run is in flight (and, for a run
    /// that has not completed its first workflow task, once it has), so it
    /// sees committed state; it is never written to history. With no worker
    /// polling the queue the call waits: callers wanting a bound add their
    /// own timeout. `QueryFailed` carries the worker's failure.
    fn query_workflow(&self, request: QueryRequest)
    -> BoxFuture<'_, Result<Payload, BackendError>>;

    /// A worker's answer to a query task.
    fn respond_query(
        &self,
        token: TaskToken,
        result: Result<Payload, Failure>,
    ) -> BoxFuture<'_, Result<(), BackendError>>;

    /// Updates a run: the update is delivered with the run's next workflow
    /// task, validated, accepted (`WorkflowExecutionUpdateAccepted`) and
    /// run; the result comes back once its `WorkflowExecutionUpdateCompleted`
    /// is durable. A rejection writes nothing and returns `UpdateFailed`;
    /// so does a handler failure, and a run closing before the update
    /// completed. An update id the run knows returns (or waits for) the
    /// first outcome; nothing runs twice.
    fn update_workflow(
        &self,
        request: UpdateRequest,
    ) -> BoxFuture<'_, Result<Payload, BackendError>>;

    /// Temporal's update-with-start: starts the run per `start`'s policies
    /// (or finds it: the same request id, or an open run under
    /// `IdConflictPolicy::UseExisting`) and sends it `update`, in one
    /// commit, so the run never starts without the update; then waits for
    /// the update's outcome as [`Backend::update_workflow`] does. The
    /// update names `start`'s namespace and workflow id and no run id. A
    /// refused start (an open run under `Fail`, a reuse policy) or an
    /// invalid update is an error and changes nothing. Retried with the
    /// same request id and update id, it neither starts twice nor applies
    /// the update twice; the first run's workflow task carries the update.
    fn update_with_start(
        &self,
        start: StartWorkflowRequest,
        update: UpdateRequest,
    ) -> BoxFuture<'_, Result<UpdateWithStartResponse, BackendError>>;

    /// Waits for a workflow task on a task queue.
    fn poll_workflow_task<'a>(
        &'a self,
        namespace: &'a str,
        task_queue: &'a str,
    ) -> BoxFuture<'a, Result<Option<WorkflowTask>, BackendError>>;

    /// Completes a workflow task with its commands.
    fn complete_workflow_task(
        &self,
        completion: WorkflowTaskCompletion,
    ) -> BoxFuture<'_, Result<(), BackendError>>;

    /// Fails a workflow task; it is retried with backoff.
    fn fail_workflow_task(
        &self,
        token: TaskToken,
        failure: Failure,
        nondeterminism: bool,
    ) -> BoxFuture<'_, Result<(), BackendError>>;

    /// Waits for an activity task on a task queue.
    fn poll_activity_task<'a>(
        &'a self,
        namespace: &'a str,
        task_queue: &'a str,
    ) -> BoxFuture<'a, Result<Option<ActivityTask>, BackendError>>;

    /// Reports how an activity attempt ended.
    fn complete_activity_task(
        &self,
        token: TaskToken,
        result: ActivityTaskResult,
    ) -> BoxFuture<'_, Result<(), BackendError>>;

    /// Describes exactly the run `run_id` names (the latest run when it is
    /// `None`); a chain's first run id describes that first run. A run
    /// that continued as new, or was retried, names the run that took over
    /// (`next_run_id`).
    fn describe<'a>(
        &'a self,
        namespace: &'a str,
        workflow_id: &'a str,
        run_id: Option<&'a str>,
    ) -> BoxFuture<'a, Result<Description, BackendError>>;

    /// Reads a run's committed history.
    fn history<'a>(
        &'a self,
        namespace: &'a str,
        workflow_id: &'a str,
        run_id: Option<&'a str>,
    ) -> BoxFuture<'a, Result<Vec<Event>, BackendError>>;

    /// Returns once everything this backend accepted before the call is
    /// durable. A worker calls it before a workflow task's first local
    /// activity: the task may have been handed out before the events it
    /// carries were committed, and a local activity reaches the outside.
    /// The default returns at once, which is right for a backend that hands
    /// out a task only after its events are durable (as a Temporal server
    /// does).
    fn wait_durable(&self) -> BoxFuture<'_, Result<(), BackendError>> {
        Box::pin(async { Ok(()) })
    }

    /// What a worker built on this backend runs on when the backend
    /// polls for its workers itself (Temporal's core does): `None`, the
    /// default, means workers poll through this trait.
    #[doc(hidden)]
    fn worker_host(&self) -> Option<Arc<dyn std::any::Any + Send + Sync>> {
        None
    }

    /// Waits until the run closes and returns how it ended. A run that
    /// continued as new is followed to the next run of its chain, so the
    /// outcome is the last run's (never [`RunOutcome::ContinuedAsNew`]).
    fn wait_result<'a>(
        &'a self,
        namespace: &'a str,
        workflow_id: &'a str,
        run_id: Option<&'a str>,
    ) -> BoxFuture<'a, Result<RunOutcome, BackendError>>;

    /// The runs of `namespace` matching `query`, Temporal's list filter
    /// ([`crate::visibility`]), ordered. A bad query is `InvalidArgument`
    /// saying where; backends without visibility answer `Unsupported`.
    fn list_workflows(
        &self,
        namespace: String,
        query: String,
    ) -> BoxFuture<'_, Result<Vec<crate::visibility::WorkflowExecutionInfo>, BackendError>> {
        let _ = (namespace, query);
        Box::pin(async { Err(BackendError::Unsupported("visibility (list)".into())) })
    }

    /// How many runs match `query` (per status with `GROUP BY ExecutionStatus`).
    fn count_workflows(
        &self,
        namespace: String,
        query: String,
    ) -> BoxFuture<'_, Result<crate::visibility::WorkflowExecutionCount, BackendError>> {
        let _ = (namespace, query);
        Box::pin(async { Err(BackendError::Unsupported("visibility (count)".into())) })
    }

    /// Lists runs that match `filter` (fields, not a query), the newest
    /// first: what the CLI and the web UI show. The embedded engine
    /// answers `Unsupported` (it lists through its store:
    /// [`crate::engine::SqliteStore::list_runs`]); a weft server
    /// lists its store for remote clients. For Temporal's list filter, see
    /// [`Backend::list_workflows`].
    fn list_runs(
        &self,
        filter: ListFilter,
    ) -> BoxFuture<'_, Result<Vec<WorkflowSummary>, BackendError>> {
        let _ = filter;
        Box::pin(async { Err(BackendError::Unsupported("listing workflows".into())) })
    }

    /// Creates a schedule (see [`crate::schedule`]): checked first
    /// (`InvalidArgument` names what to change), then durable, then
    /// answered. `ScheduleAlreadyExists` when the id is taken. Backends
    /// without schedules answer `Unsupported`, as every schedule call's
    /// default does.
    fn create_schedule(
        &self,
        namespace: String,
        schedule_id: String,
        schedule: Schedule,
    ) -> BoxFuture<'_, Result<(), BackendError>> {
        let _ = (namespace, schedule_id, schedule);
        no_schedules("create")
    }

    /// Describes a schedule: itself, what it did, its next action times.
    fn describe_schedule(
        &self,
        namespace: String,
        schedule_id: String,
    ) -> BoxFuture<'_, Result<ScheduleDescription, BackendError>> {
        let _ = (namespace, schedule_id);
        no_schedules("describe")
    }

    /// Replaces a schedule's action, spec, policies and state; with a
    /// `conflict_token` (from a description), only if the schedule has
    /// not changed since (`ScheduleConflict`). Times before the update
    /// are not taken by the new spec.
    fn update_schedule(
        &self,
        namespace: String,
        schedule_id: String,
        schedule: Schedule,
        conflict_token: Option<u64>,
    ) -> BoxFuture<'_, Result<(), BackendError>> {
        let _ = (namespace, schedule_id, schedule, conflict_token);
        no_schedules("update")
    }

    /// Deletes a schedule; the workflows it started run on.
    fn delete_schedule(
        &self,
        namespace: String,
        schedule_id: String,
    ) -> BoxFuture<'_, Result<(), BackendError>> {
        let _ = (namespace, schedule_id);
        no_schedules("delete")
    }

    /// The namespace's schedules, by id.
    fn list_schedules(
        &self,
        namespace: String,
    ) -> BoxFuture<'_, Result<Vec<ScheduleListEntry>, BackendError>> {
        let _ = namespace;
        no_schedules("list")
    }

    /// Takes the schedule's action now, under `overlap` (the schedule's
    /// policy when `None`), paused or not.
    fn trigger_schedule(
        &self,
        namespace: String,
        schedule_id: String,
        overlap: Option<OverlapPolicy>,
    ) -> BoxFuture<'_, Result<(), BackendError>> {
        let _ = (namespace, schedule_id, overlap);
        no_schedules("trigger")
    }

    /// Takes the schedule's action for each of its times in the ranges,
    /// both ends included.
    fn backfill_schedule(
        &self,
        namespace: String,
        schedule_id: String,
        backfills: Vec<Backfill>,
    ) -> BoxFuture<'_, Result<(), BackendError>> {
        let _ = (namespace, schedule_id, backfills);
        no_schedules("backfill")
    }

    /// Pauses or unpauses a schedule; `note` replaces its note (a default
    /// one when `None`).
    fn pause_schedule(
        &self,
        namespace: String,
        schedule_id: String,
        paused: bool,
        note: Option<String>,
    ) -> BoxFuture<'_, Result<(), BackendError>> {
        let _ = (namespace, schedule_id, paused, note);
        no_schedules("pause")
    }
}
