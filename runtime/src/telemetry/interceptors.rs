//! Interceptors: code that wraps what a worker runs and what a client
//! sends, for metrics, tracing, headers of one's own, auditing.
//!
//! - [`ActivityInterceptor`] (activity inbound) wraps each activity attempt
//!   on a worker: it sees the context and the arguments, calls `next`, and
//!   sees the outcome.
//! - [`WorkflowInterceptor`] (workflow inbound and outbound) sees each job
//!   on its way into a run's code (start, signal, update, resolutions,
//!   cancellation), each command on its way out (activities, timers,
//!   completion, failure) and each query. It runs on the workflow thread,
//!   on replay too (it is told), so it must be deterministic: it may
//!   observe and change payloads, never consult the outside.
//! - [`ClientInterceptor`] (client outbound) wraps each call a client makes
//!   to the backend; it sees payloads before the data converter encodes
//!   them.
//!
//! Register activity and workflow interceptors on a worker
//! (`Worker::activity_interceptor`, `Worker::workflow_interceptor`), client
//! ones on a client (`Client::with_interceptor`). The first registered is
//! the outermost. A worker or client without interceptors runs nothing of
//! this module.

use std::sync::Arc;

use futures::future::BoxFuture;

use crate::activity::{ActivityContext, ErasedActivity};
use crate::backend::{
    Backend, BackendError, CancelRequest, QueryRequest, RunOutcome, SignalRequest,
    StartWorkflowRequest, StartWorkflowResponse, TerminateRequest, UpdateRequest,
    UpdateWithStartResponse,
};
use crate::converter::Payload;
use crate::failure::Failure;
use crate::protocol::{Command, Job};

/// An activity attempt on its way to the activity.
#[derive(Debug)]
pub struct ExecuteActivityInput {
    /// The attempt's context: its info, heartbeats, meter.
    pub ctx: ActivityContext,
    /// The arguments, decoded by the data converter's codecs (still
    /// payloads: the activity decodes them into its types).
    pub args: Vec<Payload>,
}

/// What an activity attempt returns: its encoded result, or its failure.
pub type ActivityOutcome = Result<Payload, Failure>;

/// The rest of an activity's chain: later interceptors, then the activity.
#[derive(Clone)]
pub struct ActivityNext {
    chain: Arc<[Arc<dyn ActivityInterceptor>]>,
    at: usize,
    activity: ErasedActivity,
}

impl std::fmt::Debug for ActivityNext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ActivityNext")
            .field(
                "remaining",
                &(self.chain.len() - self.at.min(self.chain.len())),
            )
            .finish()
    }
}

impl ActivityNext {
    /// Runs `activity` through `chain` (first is outermost).
    pub(crate) fn run(
        chain: Arc<[Arc<dyn ActivityInterceptor>]>,
        activity: ErasedActivity,
        input: ExecuteActivityInput,
    ) -> BoxFuture<'static, ActivityOutcome> {
        ActivityNext {
            chain,
            at: 0,
            activity,
        }
        .execute(input)
    }

    /// Runs the rest of the chain and the activity.
    pub fn execute(self, input: ExecuteActivityInput) -> BoxFuture<'static, ActivityOutcome> {
        match self.chain.get(self.at).cloned() {
            Some(interceptor) => {
                let next = ActivityNext {
                    at: self.at + 1,
                    ..self
                };
                interceptor.execute_activity(input, next)
            }
            None => (self.activity)(input.ctx, input.args),
        }
    }
}

/// Wraps each activity attempt a worker runs (activity inbound).
///
/// ```
/// use weft::telemetry::{ActivityInterceptor, ActivityNext, ActivityOutcome, ExecuteActivityInput};
///
/// struct Timing;
///
/// impl ActivityInterceptor for Timing {
///     fn execute_activity(
///         &self,
///         input: ExecuteActivityInput,
///         next: ActivityNext,
///     ) -> futures::future::BoxFuture<'static, ActivityOutcome> {
///         Box::pin(async move {
///             let started = std::time::Instant::now();
///             let activity_type = input.ctx.info().activity_type.clone();
///             let outcome = next.execute(input).await;
///             tracing::info!(activity_type, took = ?started.elapsed(), ok = outcome.is_ok());
///             outcome
///         })
///     }
/// }
/// ```
pub trait ActivityInterceptor: Send + Sync + 'static {
    /// Runs an attempt: call `next.execute(input)` to run the rest of the
    /// chain and the activity (or return without it).
    fn execute_activity(
        &self,
        input: ExecuteActivityInput,
        next: ActivityNext,
    ) -> BoxFuture<'static, ActivityOutcome>;
}

/// The run a workflow interceptor is called for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WorkflowRun {
    /// Its namespace.
    pub namespace: String,
    /// Its workflow id.
    pub workflow_id: String,
    /// Its run id.
    pub run_id: String,
    /// Its workflow type.
    pub workflow_type: String,
}

/// Sees what goes into a run's code and what comes out (workflow inbound
/// and outbound). Every method has a default that does nothing.
///
/// Called on the workflow thread, in history order, on replay too
/// (`replaying`): what it changes must be the same on every replay, or
/// replay reports nondeterminism. Count or log only when `!replaying`.
pub trait WorkflowInterceptor: Send + Sync + 'static {
    /// A job on its way into the run's code: `Job::Start` (the run and its
    /// input), a signal, an update, a resolution, a cancel request.
    fn inbound(&self, run: &WorkflowRun, job: &mut Job, replaying: bool) {
        let _ = (run, job, replaying);
    }

    /// A command the run's code produced, on its way to history.
    fn outbound(&self, run: &WorkflowRun, command: &mut Command, replaying: bool) {
        let _ = (run, command, replaying);
    }

    /// A query about to be answered from the run's state.
    fn query(&self, run: &WorkflowRun, name: &str, input: &[Payload]) {
        let _ = (run, name, input);
    }
}

/// Wraps the calls a client makes (client outbound). Each method receives
/// the request and `next`, the rest of the chain; the defaults pass the
/// request on unchanged. Payloads are not encoded yet.
pub trait ClientInterceptor: Send + Sync + 'static {
    /// Starting a workflow.
    fn start_workflow<'a>(
        &'a self,
        request: StartWorkflowRequest,
        next: &'a dyn Backend,
    ) -> BoxFuture<'a, Result<StartWorkflowResponse, BackendError>> {
        next.start_workflow(request)
    }

    /// Signalling a workflow.
    fn signal_workflow<'a>(
        &'a self,
        request: SignalRequest,
        next: &'a dyn Backend,
    ) -> BoxFuture<'a, Result<(), BackendError>> {
        next.signal_workflow(request)
    }

    /// Signal-with-start.
    fn signal_with_start<'a>(
        &'a self,
        start: StartWorkflowRequest,
        signal_name: String,
        input: Vec<Payload>,
        next: &'a dyn Backend,
    ) -> BoxFuture<'a, Result<StartWorkflowResponse, BackendError>> {
        next.signal_with_start(start, signal_name, input)
    }

    /// Querying a workflow.
    fn query_workflow<'a>(
        &'a self,
        request: QueryRequest,
        next: &'a dyn Backend,
    ) -> BoxFuture<'a, Result<Payload, BackendError>> {
        next.query_workflow(request)
    }

    /// Updating a workflow.
    fn update_workflow<'a>(
        &'a self,
        request: UpdateRequest,
        next: &'a dyn Backend,
    ) -> BoxFuture<'a, Result<Payload, BackendError>> {
        next.update_workflow(request)
    }

    /// Update-with-start.
    fn update_with_start<'a>(
        &'a self,
        start: StartWorkflowRequest,
        update: UpdateRequest,
        next: &'a dyn Backend,
    ) -> BoxFuture<'a, Result<UpdateWithStartResponse, BackendError>> {
        next.update_with_start(start, update)
    }

    /// Asking a workflow to cancel.
    fn request_cancel_workflow<'a>(
        &'a self,
        request: CancelRequest,
        next: &'a dyn Backend,
    ) -> BoxFuture<'a, Result<(), BackendError>> {
        next.request_cancel_workflow(request)
    }

    /// Terminating a workflow.
    fn terminate_workflow<'a>(
        &'a self,
        request: TerminateRequest,
        next: &'a dyn Backend,
    ) -> BoxFuture<'a, Result<(), BackendError>> {
        next.terminate_workflow(request)
    }

    /// Waiting for a workflow's result.
    fn wait_result<'a>(
        &'a self,
        namespace: &'a str,
        workflow_id: &'a str,
        run_id: Option<&'a str>,
        next: &'a dyn Backend,
    ) -> BoxFuture<'a, Result<RunOutcome, BackendError>> {
        next.wait_result(namespace, workflow_id, run_id)
    }
}
