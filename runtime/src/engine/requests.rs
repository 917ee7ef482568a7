//! What reaches the engine task: one [`Request`] per backend call, each
//! with the channel its reply goes back on, and replies held until the
//! commit that makes them true.

use std::sync::Arc;

use tokio::sync::oneshot;

use crate::backend::{
    ActivityTask, ActivityTaskResult, BackendError, CancelRequest, Description, HeartbeatResponse,
    QueryRequest, RunOutcome, SignalRequest, StartWorkflowRequest, StartWorkflowResponse,
    TaskToken, TerminateRequest, UpdateRequest, WorkflowTask, WorkflowTaskCompletion,
};
use crate::converter::Payload;
use crate::failure::Failure;

use super::queries::{AnswerRx, QueryItem};
use super::schedules::ScheduleCall;
use super::writer::StoredRun;

pub(crate) type Tx<T> = oneshot::Sender<Result<T, BackendError>>;
pub(crate) type StoredRx = oneshot::Receiver<Result<Option<StoredRun>, BackendError>>;

/// An answer either known now or to be read from the store (closed runs,
/// histories), which the caller awaits without holding up the engine.
pub(crate) enum Lookup<T> {
    Now(T),
    Stored(StoredRx),
}

/// Which run a read asks for.
#[derive(Clone, Debug)]
pub(crate) struct Target {
    pub namespace: String,
    pub workflow_id: String,
    pub run_id: Option<String>,
}

pub(crate) enum Request {
    Start(Box<StartWorkflowRequest>, Tx<StartWorkflowResponse>),
    Signal(Box<SignalRequest>, Tx<()>),
    Cancel(Box<CancelRequest>, Tx<()>),
    Terminate(Box<TerminateRequest>, Tx<()>),
    Heartbeat(TaskToken, Vec<Payload>, Tx<HeartbeatResponse>),
    SignalWithStart(Box<SignalWithStart>, Tx<StartWorkflowResponse>),
    PollWorkflowTask(QueueKey, Tx<Option<WorkflowTask>>),
    CompleteWorkflowTask(Box<WorkflowTaskCompletion>, Tx<()>),
    FailWorkflowTask {
        token: TaskToken,
        failure: Box<Failure>,
        nondeterminism: bool,
        tx: Tx<()>,
    },
    PollActivityTask(QueueKey, Tx<Option<ActivityTask>>),
    CompleteActivityTask(TaskToken, Box<ActivityTaskResult>, Tx<()>),
    Describe(Target, Tx<Lookup<Description>>),
    History(Target, Tx<StoredRx>),
    WaitResult(Target, Tx<Lookup<RunOutcome>>),
    Query(Box<QueryRequest>, Tx<Lookup<AnswerRx>>),
    QueryClosed(Box<QueryItem>, Tx<AnswerRx>),
    RespondQuery(TaskToken, Box<Result<Payload, Failure>>, Tx<()>),
    Update(Box<UpdateRequest>, Tx<Lookup<AnswerRx>>),
    UpdateWithStart(
        Box<(StartWorkflowRequest, UpdateRequest)>,
        Tx<(StartWorkflowResponse, Lookup<AnswerRx>)>,
    ),
    WaitDurable(Tx<()>),
    /// A list or count of runs.
    Visibility(
        Box<super::visibility::VisibilityCall>,
        Tx<super::visibility::AnswerRx>,
    ),
    Schedule(Box<ScheduleCall>),
    /// Tasks ready per task queue, for the backlog gauge.
    Backlog(Tx<Vec<super::backlog::Ready>>),
    Shutdown(oneshot::Sender<()>),
}

/// A signal-with-start request's parts.
pub(crate) struct SignalWithStart {
    pub start: StartWorkflowRequest,
    pub signal_name: String,
    pub input: Vec<Payload>,
}

/// (namespace, task queue).
pub(crate) type QueueKey = (Arc<str>, Arc<str>);

/// A reply held until its batch commits; it can still be turned into an error.
pub(crate) trait Reply: Send {
    fn send(self: Box<Self>);
    fn fail(self: Box<Self>, error: BackendError);
}

pub(crate) struct Held<T> {
    pub tx: Tx<T>,
    pub value: Result<T, BackendError>,
}

impl<T: Send> Reply for Held<T> {
    fn send(self: Box<Self>) {
        // The caller may have stopped waiting; nothing to undo for a reply.
        let _ = self.tx.send(self.value);
    }
    fn fail(self: Box<Self>, error: BackendError) {
        let _ = self.tx.send(Err(error));
    }
}

impl Request {
    /// Answers the request with `error` (the engine has stopped); a
    /// shutdown request is handed back, since it still wants its answer
    /// when the engine is done.
    pub(crate) fn reject(self, error: BackendError) -> Option<oneshot::Sender<()>> {
        match self {
            Request::Start(_, tx) | Request::SignalWithStart(_, tx) => drop(tx.send(Err(error))),
            Request::Signal(_, tx)
            | Request::Cancel(_, tx)
            | Request::Terminate(_, tx)
            | Request::CompleteWorkflowTask(_, tx)
            | Request::FailWorkflowTask { tx, .. }
            | Request::CompleteActivityTask(_, _, tx)
            | Request::RespondQuery(_, _, tx)
            | Request::WaitDurable(tx) => drop(tx.send(Err(error))),
            Request::Heartbeat(_, _, tx) => drop(tx.send(Err(error))),
            Request::PollWorkflowTask(_, tx) => drop(tx.send(Err(error))),
            Request::PollActivityTask(_, tx) => drop(tx.send(Err(error))),
            Request::Describe(_, tx) => drop(tx.send(Err(error))),
            Request::History(_, tx) => drop(tx.send(Err(error))),
            Request::WaitResult(_, tx) => drop(tx.send(Err(error))),
            Request::Query(_, tx) | Request::Update(_, tx) => drop(tx.send(Err(error))),
            Request::UpdateWithStart(_, tx) => drop(tx.send(Err(error))),
            Request::QueryClosed(_, tx) => drop(tx.send(Err(error))),
            Request::Schedule(call) => call.reject(error),
            Request::Backlog(tx) => drop(tx.send(Err(error))),
            Request::Visibility(_, tx) => drop(tx.send(Err(error))),
            Request::Shutdown(tx) => return Some(tx),
        }
        None
    }
}

pub(crate) fn not_found(target: &Target) -> BackendError {
    BackendError::NotFound {
        workflow_id: target.workflow_id.clone(),
        run_id: target.run_id.clone(),
        detail: None,
    }
}
