//! A backend whose client calls go through a [`ClientInterceptor`]; the
//! calls workers make (polls, completions, heartbeats) pass straight on.

use std::sync::Arc;

use futures::future::BoxFuture;

use super::{
    ActivityTask, ActivityTaskResult, Backend, BackendError, CancelRequest, Description,
    HeartbeatResponse, QueryRequest, RunOutcome, SignalRequest, StartWorkflowRequest,
    StartWorkflowResponse, TaskToken, TerminateRequest, UpdateRequest, UpdateWithStartResponse,
    WorkflowTask, WorkflowTaskCompletion,
};
use crate::converter::Payload;
use crate::failure::Failure;
use crate::history::Event;
use crate::schedule::{Schedule, ScheduleDescription};
use crate::telemetry::ClientInterceptor;

/// `inner` seen through `interceptors`, the first outermost; `inner`
/// itself when there are none.
pub(crate) fn wrap(
    inner: Arc<dyn Backend>,
    interceptors: &[Arc<dyn ClientInterceptor>],
) -> Arc<dyn Backend> {
    interceptors.iter().rev().fold(inner, |inner, interceptor| {
        Arc::new(Intercepted {
            inner,
            interceptor: interceptor.clone(),
        })
    })
}

struct Intercepted {
    inner: Arc<dyn Backend>,
    interceptor: Arc<dyn ClientInterceptor>,
}

impl Backend for Intercepted {
    fn start_workflow(
        &self,
        request: StartWorkflowRequest,
    ) -> BoxFuture<'_, Result<StartWorkflowResponse, BackendError>> {
        self.interceptor.start_workflow(request, &*self.inner)
    }

    fn signal_workflow(&self, request: SignalRequest) -> BoxFuture<'_, Result<(), BackendError>> {
        self.interceptor.signal_workflow(request, &*self.inner)
    }

    fn signal_with_start(
        &self,
        start: StartWorkflowRequest,
        signal_name: String,
        input: Vec<Payload>,
    ) -> BoxFuture<'_, Result<StartWorkflowResponse, BackendError>> {
        self.interceptor
            .signal_with_start(start, signal_name, input, &*self.inner)
    }

    fn request_cancel_workflow(
        &self,
        request: CancelRequest,
    ) -> BoxFuture<'_, Result<(), BackendError>> {
        self.interceptor
            .request_cancel_workflow(request, &*self.inner)
    }

    fn terminate_workflow(
        &self,
        request: TerminateRequest,
    ) -> BoxFuture<'_, Result<(), BackendError>> {
        self.interceptor.terminate_workflow(request, &*self.inner)
    }

    fn record_activity_heartbeat(
        &self,
        token: TaskToken,
        details: Vec<Payload>,
    ) -> BoxFuture<'_, Result<HeartbeatResponse, BackendError>> {
        self.inner.record_activity_heartbeat(token, details)
    }

    fn query_workflow(
        &self,
        request: QueryRequest,
    ) -> BoxFuture<'_, Result<Payload, BackendError>> {
        self.interceptor.query_workflow(request, &*self.inner)
    }

    fn respond_query(
        &self,
        token: TaskToken,
        result: Result<Payload, Failure>,
    ) -> BoxFuture<'_, Result<(), BackendError>> {
        self.inner.respond_query(token, result)
    }

    fn update_workflow(
        &self,
        request: UpdateRequest,
    ) -> BoxFuture<'_, Result<Payload, BackendError>> {
        self.interceptor.update_workflow(request, &*self.inner)
    }

    fn update_with_start(
        &self,
        start: StartWorkflowRequest,
        update: UpdateRequest,
    ) -> BoxFuture<'_, Result<UpdateWithStartResponse, BackendError>> {
        self.interceptor
            .update_with_start(start, update, &*self.inner)
    }

    fn poll_workflow_task<'a>(
        &'a self,
        namespace: &'a str,
        task_queue: &'a str,
    ) -> BoxFuture<'a, Result<Option<WorkflowTask>, BackendError>> {
        self.inner.poll_workflow_task(namespace, task_queue)
    }

    fn complete_workflow_task(
        &self,
        completion: WorkflowTaskCompletion,
    ) -> BoxFuture<'_, Result<(), BackendError>> {
        self.inner.complete_workflow_task(completion)
    }

    fn fail_workflow_task(
        &self,
        token: TaskToken,
        failure: Failure,
        nondeterminism: bool,
    ) -> BoxFuture<'_, Result<(), BackendError>> {
        self.inner
            .fail_workflow_task(token, failure, nondeterminism)
    }

    fn poll_activity_task<'a>(
        &'a self,
        namespace: &'a str,
        task_queue: &'a str,
    ) -> BoxFuture<'a, Result<Option<ActivityTask>, BackendError>> {
        self.inner.poll_activity_task(namespace, task_queue)
    }

    fn complete_activity_task(
        &self,
        token: TaskToken,
        result: ActivityTaskResult,
    ) -> BoxFuture<'_, Result<(), BackendError>> {
        self.inner.complete_activity_task(token, result)
    }

    fn describe<'a>(
        &'a self,
        namespace: &'a str,
        workflow_id: &'a str,
        run_id: Option<&'a str>,
    ) -> BoxFuture<'a, Result<Description, BackendError>> {
        self.inner.describe(namespace, workflow_id, run_id)
    }

    fn history<'a>(
        &'a self,
        namespace: &'a str,
        workflow_id: &'a str,
        run_id: Option<&'a str>,
    ) -> BoxFuture<'a, Result<Vec<Event>, BackendError>> {
        self.inner.history(namespace, workflow_id, run_id)
    }

    fn wait_durable(&self) -> BoxFuture<'_, Result<(), BackendError>> {
        self.inner.wait_durable()
    }

    fn wait_result<'a>(
        &'a self,
        namespace: &'a str,
        workflow_id: &'a str,
        run_id: Option<&'a str>,
    ) -> BoxFuture<'a, Result<RunOutcome, BackendError>> {
        self.interceptor
            .wait_result(namespace, workflow_id, run_id, &*self.inner)
    }

    fn create_schedule(
        &self,
        namespace: String,
        schedule_id: String,
        schedule: Schedule,
    ) -> BoxFuture<'_, Result<(), BackendError>> {
        self.inner.create_schedule(namespace, schedule_id, schedule)
    }

    fn describe_schedule(
        &self,
        namespace: String,
        schedule_id: String,
    ) -> BoxFuture<'_, Result<ScheduleDescription, BackendError>> {
        self.inner.describe_schedule(namespace, schedule_id)
    }

    fn update_schedule(
        &self,
        namespace: String,
        schedule_id: String,
        schedule: Schedule,
        conflict_token: Option<u64>,
    ) -> BoxFuture<'_, Result<(), BackendError>> {
        self.inner
            .update_schedule(namespace, schedule_id, schedule, conflict_token)
    }

    super::forward::forward_schedule_calls!();
    super::forward::forward_visibility_calls!();
}
