//! The API of a weft server: one definition for the remote backend, the
//! server, the CLI and the web UI.
//!
//! Every call is a `POST` of a JSON body to its [`Call::PATH`]; the answer
//! is the JSON of its [`Call::Response`] with status 200, or an
//! [`ApiError`] with a 4xx or 5xx status ([`status_of`]). The request types
//! are the [`Backend`]'s own, so what crosses the network is what an
//! in-process backend is given, and [`Call::serve`] is the one place a call
//! meets a backend. Long polls ([`PollWorkflowTask`], [`PollActivityTask`])
//! answer an empty [`Polled`] when no task came within the server's
//! long-poll time; the remote backend polls again.

use std::time::Duration;

use futures::future::BoxFuture;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::backend::{
    ActivityTask, ActivityTaskResult, Backend, BackendError, CancelRequest, Description,
    HeartbeatResponse, ListFilter, QueryRequest, RunOutcome, SignalRequest, StartWorkflowRequest,
    StartWorkflowResponse, TaskToken, TerminateRequest, UpdateRequest, UpdateWithStartResponse,
    WorkflowSummary, WorkflowTask, WorkflowTaskCompletion,
};
use crate::converter::Payload;
use crate::failure::Failure;
use crate::history::Event;
use crate::schedule::{Backfill, OverlapPolicy, Schedule, ScheduleDescription, ScheduleListEntry};

/// Where every call's path starts.
pub const PREFIX: &str = "/api/v1/";

/// The body of every answer that is not a success.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ApiError {
    /// The error as the backend returned it (or as the server made it for
    /// a malformed request), so a remote caller sees the same error an
    /// in-process one would.
    pub error: BackendError,
    /// The error as text, for people and for clients that do not decode
    /// `error`.
    pub message: String,
}

impl From<BackendError> for ApiError {
    fn from(error: BackendError) -> Self {
        ApiError {
            message: error.to_string(),
            error,
        }
    }
}

/// The HTTP status a backend error is answered with.
pub fn status_of(error: &BackendError) -> u16 {
    match error {
        BackendError::InvalidArgument(_) => 400,
        BackendError::PermissionDenied(_) => 403,
        BackendError::NotFound { .. }
        | BackendError::TaskNotFound(_)
        | BackendError::ScheduleNotFound { .. } => 404,
        BackendError::WorkflowAlreadyStarted { .. }
        | BackendError::ScheduleAlreadyExists { .. }
        | BackendError::ScheduleConflict { .. }
        | BackendError::UnhandledCommand(_) => 409,
        BackendError::PayloadTooLarge(_) => 413,
        BackendError::QueryFailed(_) | BackendError::UpdateFailed(_) => 422,
        BackendError::Unsupported(_) => 501,
        BackendError::Stopped(_) | BackendError::Unavailable(_) => 503,
        _ => 500,
    }
}

/// What the server is given to serve a call with.
pub struct ServeContext<'a> {
    /// The backend the server fronts.
    pub backend: &'a dyn Backend,
    /// How long a long poll waits for a task before answering empty.
    pub long_poll: Duration,
}

/// One call of the API: its path, its request (the implementing type) and
/// its response.
pub trait Call: Serialize + DeserializeOwned + Send + Sync + 'static {
    /// The path it is posted to.
    const PATH: &'static str;
    /// What a success answers.
    type Response: Serialize + DeserializeOwned + Send + 'static;
    /// The namespace the call acts in (checked against what the server
    /// serves), or `None` for calls outside any namespace.
    fn namespace(&self) -> Option<&str>;
    /// Runs the call on a backend.
    fn serve<'a>(
        self,
        ctx: &'a ServeContext<'a>,
    ) -> BoxFuture<'a, Result<Self::Response, BackendError>>;
}

/// What a long poll answers.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Polled<T> {
    /// The task, or `None` when none came within the long-poll time.
    pub task: Option<T>,
    /// The server is shutting down: stop polling.
    pub shutting_down: bool,
}

/// A run named by workflow id and, optionally, run id.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunRef {
    /// Namespace of the run.
    pub namespace: String,
    /// The workflow id.
    pub workflow_id: String,
    /// The run (the latest when `None`).
    #[serde(default)]
    pub run_id: Option<String>,
}

/// A task queue of a namespace, for long polls.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueueRef {
    /// Namespace of the queue.
    pub namespace: String,
    /// The task queue.
    pub task_queue: String,
}

/// A schedule named by id.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScheduleRef {
    /// Namespace of the schedule.
    pub namespace: String,
    /// The schedule's id.
    pub schedule_id: String,
}

/// Facts about the server, and a way to check a connection.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServerInfo {
    /// weft's version on the server.
    pub version: String,
    /// The namespaces served to this caller (`None`: every namespace):
    /// those the server serves, narrowed to the ones its client
    /// certificate is given when the server gives certificates namespaces.
    pub namespaces: Option<Vec<String>>,
}

/// Asks for [`ServerInfo`]: answered by the server itself, not by a
/// backend, so [`Call::serve`] answers `Unsupported`.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Hello {}

impl Call for Hello {
    const PATH: &'static str = "/api/v1/hello";
    type Response = ServerInfo;
    fn namespace(&self) -> Option<&str> {
        None
    }
    fn serve<'a>(self, _: &'a ServeContext<'a>) -> BoxFuture<'a, Result<ServerInfo, BackendError>> {
        Box::pin(async { Err(BackendError::Unsupported("hello is the server's".into())) })
    }
}

/// Implements [`Call`] for a request type whose call on the backend is one
/// expression of `$req` and `$ctx`.
macro_rules! call {
    ($ty:ty, $path:literal, $resp:ty, |$req:ident| $ns:expr, |$r:ident, $ctx:ident| $serve:expr) => {
        impl Call for $ty {
            const PATH: &'static str = concat!("/api/v1/", $path);
            type Response = $resp;
            fn namespace(&self) -> Option<&str> {
                let $req = self;
                Some($ns)
            }
            fn serve<'a>(
                self,
                $ctx: &'a ServeContext<'a>,
            ) -> BoxFuture<'a, Result<$resp, BackendError>> {
                let $r = self;
                Box::pin(async move { $serve })
            }
        }
    };
}

call!(
    StartWorkflowRequest,
    "workflows/start",
    StartWorkflowResponse,
    |r| &r.namespace,
    |r, c| c.backend.start_workflow(r).await
);
call!(
    SignalRequest,
    "workflows/signal",
    (),
    |r| &r.namespace,
    |r, c| c.backend.signal_workflow(r).await
);
call!(
    CancelRequest,
    "workflows/cancel",
    (),
    |r| &r.namespace,
    |r, c| c.backend.request_cancel_workflow(r).await
);
call!(
    TerminateRequest,
    "workflows/terminate",
    (),
    |r| &r.namespace,
    |r, c| c.backend.terminate_workflow(r).await
);
call!(
    QueryRequest,
    "workflows/query",
    Payload,
    |r| &r.namespace,
    |r, c| c.backend.query_workflow(r).await
);
call!(
    UpdateRequest,
    "workflows/update",
    Payload,
    |r| &r.namespace,
    |r, c| c.backend.update_workflow(r).await
);
call!(
    ListFilter,
    "workflows/list",
    Vec<WorkflowSummary>,
    |r| &r.namespace,
    |r, c| c.backend.list_runs(r).await
);
/// Temporal's list filter over a namespace's runs
/// ([`Backend::list_workflows`]).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ListWorkflows {
    /// The namespace.
    pub namespace: String,
    /// The list filter.
    pub query: String,
}
call!(
    ListWorkflows,
    "workflows/list-query",
    Vec<crate::visibility::WorkflowExecutionInfo>,
    |r| &r.namespace,
    |r, c| c.backend.list_workflows(r.namespace, r.query).await
);

/// How many runs match a list filter
/// ([`Backend::count_workflows`]).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct CountWorkflows {
    /// The namespace.
    pub namespace: String,
    /// The list filter.
    pub query: String,
}
call!(
    CountWorkflows,
    "workflows/count",
    crate::visibility::WorkflowExecutionCount,
    |r| &r.namespace,
    |r, c| c.backend.count_workflows(r.namespace, r.query).await
);

call!(
    WorkflowTaskCompletion,
    "tasks/workflow/complete",
    (),
    |r| &r.token.namespace,
    |r, c| c.backend.complete_workflow_task(r).await
);

/// Signal-with-start.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SignalWithStart {
    /// The start, if no run is open.
    pub start: StartWorkflowRequest,
    /// The signal's name.
    pub signal_name: String,
    /// Its arguments.
    pub input: Vec<Payload>,
}
call!(
    SignalWithStart,
    "workflows/signal-with-start",
    StartWorkflowResponse,
    |r| &r.start.namespace,
    |r, c| c
        .backend
        .signal_with_start(r.start, r.signal_name, r.input)
        .await
);

/// Update-with-start.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct UpdateWithStart {
    /// The start, if no run is open (or as its policies say).
    pub start: StartWorkflowRequest,
    /// The update.
    pub update: UpdateRequest,
}
call!(
    UpdateWithStart,
    "workflows/update-with-start",
    UpdateWithStartResponse,
    |r| &r.start.namespace,
    |r, c| c.backend.update_with_start(r.start, r.update).await
);

/// Describe a run.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Describe(pub RunRef);
call!(
    Describe,
    "workflows/describe",
    Description,
    |r| &r.0.namespace,
    |r, c| c
        .backend
        .describe(&r.0.namespace, &r.0.workflow_id, r.0.run_id.as_deref())
        .await
);

/// Read a run's history.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct History(pub RunRef);
call!(
    History,
    "workflows/history",
    Vec<Event>,
    |r| &r.0.namespace,
    |r, c| c
        .backend
        .history(&r.0.namespace, &r.0.workflow_id, r.0.run_id.as_deref())
        .await
);

/// Wait for a run's outcome (held open until the run closes).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct WaitResult(pub RunRef);
call!(
    WaitResult,
    "workflows/result",
    RunOutcome,
    |r| &r.0.namespace,
    |r, c| c
        .backend
        .wait_result(&r.0.namespace, &r.0.workflow_id, r.0.run_id.as_deref())
        .await
);

/// Long poll for a workflow task.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct PollWorkflowTask(pub QueueRef);
call!(
    PollWorkflowTask,
    "tasks/workflow/poll",
    Polled<WorkflowTask>,
    |r| &r.0.namespace,
    |r, c| long_poll(
        c,
        c.backend
            .poll_workflow_task(&r.0.namespace, &r.0.task_queue)
    )
    .await
);

/// Long poll for an activity task.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct PollActivityTask(pub QueueRef);
call!(
    PollActivityTask,
    "tasks/activity/poll",
    Polled<ActivityTask>,
    |r| &r.0.namespace,
    |r, c| long_poll(
        c,
        c.backend
            .poll_activity_task(&r.0.namespace, &r.0.task_queue)
    )
    .await
);

/// Waits for a task up to the long-poll time.
async fn long_poll<T>(
    ctx: &ServeContext<'_>,
    poll: BoxFuture<'_, Result<Option<T>, BackendError>>,
) -> Result<Polled<T>, BackendError> {
    match tokio::time::timeout(ctx.long_poll, poll).await {
        Err(_elapsed) => Ok(Polled {
            task: None,
            shutting_down: false,
        }),
        Ok(Ok(Some(task))) => Ok(Polled {
            task: Some(task),
            shutting_down: false,
        }),
        Ok(Ok(None)) => Ok(Polled {
            task: None,
            shutting_down: true,
        }),
        Ok(Err(e)) => Err(e),
    }
}

/// Fail a workflow task.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct FailWorkflowTask {
    /// The task.
    pub token: TaskToken,
    /// Why.
    pub failure: Failure,
    /// Whether it failed on nondeterminism.
    pub nondeterminism: bool,
}
call!(
    FailWorkflowTask,
    "tasks/workflow/fail",
    (),
    |r| &r.token.namespace,
    |r, c| c
        .backend
        .fail_workflow_task(r.token, r.failure, r.nondeterminism)
        .await
);

/// Answer a query task.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RespondQuery {
    /// The query task.
    pub token: TaskToken,
    /// The answer.
    pub result: Result<Payload, Failure>,
}
call!(
    RespondQuery,
    "tasks/query/respond",
    (),
    |r| &r.token.namespace,
    |r, c| c.backend.respond_query(r.token, r.result).await
);

/// Report how an activity attempt ended.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct CompleteActivityTask {
    /// The attempt.
    pub token: TaskToken,
    /// How it ended.
    pub result: ActivityTaskResult,
}
call!(
    CompleteActivityTask,
    "tasks/activity/complete",
    (),
    |r| &r.token.namespace,
    |r, c| c.backend.complete_activity_task(r.token, r.result).await
);

/// Record an activity heartbeat.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Heartbeat {
    /// The attempt.
    pub token: TaskToken,
    /// Its details.
    pub details: Vec<Payload>,
}
call!(
    Heartbeat,
    "tasks/activity/heartbeat",
    HeartbeatResponse,
    |r| &r.token.namespace,
    |r, c| c
        .backend
        .record_activity_heartbeat(r.token, r.details)
        .await
);

/// Wait until everything the server accepted so far is durable.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct WaitDurable {}

impl Call for WaitDurable {
    const PATH: &'static str = "/api/v1/tasks/wait-durable";
    type Response = ();
    fn namespace(&self) -> Option<&str> {
        None
    }
    fn serve<'a>(self, ctx: &'a ServeContext<'a>) -> BoxFuture<'a, Result<(), BackendError>> {
        ctx.backend.wait_durable()
    }
}

/// Create a schedule.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct CreateSchedule {
    /// Which schedule.
    pub schedule: ScheduleRef,
    /// What it is.
    pub spec: Schedule,
}
call!(
    CreateSchedule,
    "schedules/create",
    (),
    |r| &r.schedule.namespace,
    |r, c| c
        .backend
        .create_schedule(r.schedule.namespace, r.schedule.schedule_id, r.spec)
        .await
);

/// Describe a schedule.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct DescribeSchedule(pub ScheduleRef);
call!(
    DescribeSchedule,
    "schedules/describe",
    ScheduleDescription,
    |r| &r.0.namespace,
    |r, c| c
        .backend
        .describe_schedule(r.0.namespace, r.0.schedule_id)
        .await
);

/// Replace a schedule.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct UpdateSchedule {
    /// Which schedule.
    pub schedule: ScheduleRef,
    /// What it becomes.
    pub spec: Schedule,
    /// Only if unchanged since the description that gave this token.
    pub conflict_token: Option<u64>,
}
call!(
    UpdateSchedule,
    "schedules/update",
    (),
    |r| &r.schedule.namespace,
    |r, c| c
        .backend
        .update_schedule(
            r.schedule.namespace,
            r.schedule.schedule_id,
            r.spec,
            r.conflict_token
        )
        .await
);

/// Delete a schedule.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct DeleteSchedule(pub ScheduleRef);
call!(
    DeleteSchedule,
    "schedules/delete",
    (),
    |r| &r.0.namespace,
    |r, c| c
        .backend
        .delete_schedule(r.0.namespace, r.0.schedule_id)
        .await
);

/// List a namespace's schedules.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ListSchedules {
    /// The namespace.
    pub namespace: String,
}
call!(
    ListSchedules,
    "schedules/list",
    Vec<ScheduleListEntry>,
    |r| &r.namespace,
    |r, c| c.backend.list_schedules(r.namespace).await
);

/// Take a schedule's action now.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct TriggerSchedule {
    /// Which schedule.
    pub schedule: ScheduleRef,
    /// Overlap policy for this action (the schedule's when `None`).
    pub overlap: Option<OverlapPolicy>,
}
call!(
    TriggerSchedule,
    "schedules/trigger",
    (),
    |r| &r.schedule.namespace,
    |r, c| c
        .backend
        .trigger_schedule(r.schedule.namespace, r.schedule.schedule_id, r.overlap)
        .await
);

/// Take a schedule's action for past times.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct BackfillSchedule {
    /// Which schedule.
    pub schedule: ScheduleRef,
    /// The time ranges.
    pub backfills: Vec<Backfill>,
}
call!(
    BackfillSchedule,
    "schedules/backfill",
    (),
    |r| &r.schedule.namespace,
    |r, c| c
        .backend
        .backfill_schedule(r.schedule.namespace, r.schedule.schedule_id, r.backfills)
        .await
);

/// Pause or unpause a schedule.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct PauseSchedule {
    /// Which schedule.
    pub schedule: ScheduleRef,
    /// Paused or not.
    pub paused: bool,
    /// The note to keep (a default one when `None`).
    pub note: Option<String>,
}
call!(
    PauseSchedule,
    "schedules/pause",
    (),
    |r| &r.schedule.namespace,
    |r, c| c
        .backend
        .pause_schedule(
            r.schedule.namespace,
            r.schedule.schedule_id,
            r.paused,
            r.note
        )
        .await
);

/// Every call's path, for servers that register them and tests that check
/// none is missed.
pub const PATHS: &[&str] = &[
    Hello::PATH,
    StartWorkflowRequest::PATH,
    SignalRequest::PATH,
    SignalWithStart::PATH,
    CancelRequest::PATH,
    TerminateRequest::PATH,
    QueryRequest::PATH,
    UpdateRequest::PATH,
    UpdateWithStart::PATH,
    ListFilter::PATH,
    Describe::PATH,
    History::PATH,
    WaitResult::PATH,
    PollWorkflowTask::PATH,
    WorkflowTaskCompletion::PATH,
    FailWorkflowTask::PATH,
    RespondQuery::PATH,
    PollActivityTask::PATH,
    CompleteActivityTask::PATH,
    Heartbeat::PATH,
    WaitDurable::PATH,
    CreateSchedule::PATH,
    DescribeSchedule::PATH,
    UpdateSchedule::PATH,
    DeleteSchedule::PATH,
    ListSchedules::PATH,
    TriggerSchedule::PATH,
    BackfillSchedule::PATH,
    PauseSchedule::PATH,
];
