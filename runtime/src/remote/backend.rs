//! [`RemoteBackend`]: every [`Backend`] call as a call of the server's API.

use std::sync::Arc;

use futures::future::BoxFuture;

use super::api::{self, Call, QueueRef, RunRef, ScheduleRef};
use super::transport::Transport;
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

/// A [`Backend`] on a weft server, reached over the network. Cheap to
/// clone; clones share the connection. Made by [`crate::Client::connect`].
#[derive(Clone)]
pub struct RemoteBackend {
    transport: Arc<Transport>,
}

impl RemoteBackend {
    pub(super) fn new(transport: Transport) -> Self {
        RemoteBackend {
            transport: Arc::new(transport),
        }
    }

    /// The server's facts; also checks the connection.
    pub async fn hello(&self) -> Result<api::ServerInfo, BackendError> {
        self.transport.call(&api::Hello {}).await
    }

    /// Sends one call of the API.
    pub async fn call<C: Call>(&self, call: C) -> Result<C::Response, BackendError> {
        self.transport.call(&call).await
    }

    fn boxed<C: Call>(&self, call: C) -> BoxFuture<'_, Result<C::Response, BackendError>> {
        Box::pin(async move { self.transport.call(&call).await })
    }

    /// Long-polls until a task comes or a call fails (a server shutting
    /// down is `Unavailable`, never `Ok(None)`: a remote worker stops when
    /// its owner stops it).
    async fn poll<C, T>(&self, call: C) -> Result<Option<T>, BackendError>
    where
        C: Call<Response = api::Polled<T>> + Clone,
    {
        loop {
            let polled = self.transport.call(&call).await?;
            if polled.shutting_down {
                // Not the end of this worker: the server may come back (a
                // restart), and the worker polls on until it is told to
                // stop, as it does while the server cannot be reached.
                return Err(BackendError::Unavailable(
                    "the server is shutting down".into(),
                ));
            }
            if polled.task.is_some() {
                return Ok(polled.task);
            }
        }
    }
}

fn run_ref(namespace: &str, workflow_id: &str, run_id: Option<&str>) -> RunRef {
    RunRef {
        namespace: namespace.to_string(),
        workflow_id: workflow_id.to_string(),
        run_id: run_id.map(str::to_string),
    }
}

fn schedule_ref(namespace: String, schedule_id: String) -> ScheduleRef {
    ScheduleRef {
        namespace,
        schedule_id,
    }
}

impl Backend for RemoteBackend {
    fn start_workflow(
        &self,
        request: StartWorkflowRequest,
    ) -> BoxFuture<'_, Result<StartWorkflowResponse, BackendError>> {
        self.boxed(request)
    }

    fn signal_workflow(&self, request: SignalRequest) -> BoxFuture<'_, Result<(), BackendError>> {
        self.boxed(request)
    }

    fn signal_with_start(
        &self,
        start: StartWorkflowRequest,
        signal_name: String,
        input: Vec<Payload>,
    ) -> BoxFuture<'_, Result<StartWorkflowResponse, BackendError>> {
        self.boxed(api::SignalWithStart {
            start,
            signal_name,
            input,
        })
    }

    fn request_cancel_workflow(
        &self,
        request: CancelRequest,
    ) -> BoxFuture<'_, Result<(), BackendError>> {
        self.boxed(request)
    }

    fn terminate_workflow(
        &self,
        request: TerminateRequest,
    ) -> BoxFuture<'_, Result<(), BackendError>> {
        self.boxed(request)
    }

    fn record_activity_heartbeat(
        &self,
        token: TaskToken,
        details: Vec<Payload>,
    ) -> BoxFuture<'_, Result<HeartbeatResponse, BackendError>> {
        self.boxed(api::Heartbeat { token, details })
    }

    fn query_workflow(
        &self,
        request: QueryRequest,
    ) -> BoxFuture<'_, Result<Payload, BackendError>> {
        self.boxed(request)
    }

    fn respond_query(
        &self,
        token: TaskToken,
        result: Result<Payload, Failure>,
    ) -> BoxFuture<'_, Result<(), BackendError>> {
        self.boxed(api::RespondQuery { token, result })
    }

    fn update_workflow(
        &self,
        request: UpdateRequest,
    ) -> BoxFuture<'_, Result<Payload, BackendError>> {
        self.boxed(request)
    }

    fn update_with_start(
        &self,
        start: StartWorkflowRequest,
        update: UpdateRequest,
    ) -> BoxFuture<'_, Result<UpdateWithStartResponse, BackendError>> {
        self.boxed(api::UpdateWithStart { start, update })
    }

    fn poll_workflow_task<'a>(
        &'a self,
        namespace: &'a str,
        task_queue: &'a str,
    ) -> BoxFuture<'a, Result<Option<WorkflowTask>, BackendError>> {
        let call = api::PollWorkflowTask(QueueRef {
            namespace: namespace.to_string(),
            task_queue: task_queue.to_string(),
        });
        Box::pin(self.poll(call))
    }

    fn complete_workflow_task(
        &self,
        completion: WorkflowTaskCompletion,
    ) -> BoxFuture<'_, Result<(), BackendError>> {
        self.boxed(completion)
    }

    fn fail_workflow_task(
        &self,
        token: TaskToken,
        failure: Failure,
        nondeterminism: bool,
    ) -> BoxFuture<'_, Result<(), BackendError>> {
        self.boxed(api::FailWorkflowTask {
            token,
            failure,
            nondeterminism,
        })
    }

    fn poll_activity_task<'a>(
        &'a self,
        namespace: &'a str,
        task_queue: &'a str,
    ) -> BoxFuture<'a, Result<Option<ActivityTask>, BackendError>> {
        let call = api::PollActivityTask(QueueRef {
            namespace: namespace.to_string(),
            task_queue: task_queue.to_string(),
        });
        Box::pin(self.poll(call))
    }

    fn complete_activity_task(
        &self,
        token: TaskToken,
        result: ActivityTaskResult,
    ) -> BoxFuture<'_, Result<(), BackendError>> {
        self.boxed(api::CompleteActivityTask { token, result })
    }

    fn describe<'a>(
        &'a self,
        namespace: &'a str,
        workflow_id: &'a str,
        run_id: Option<&'a str>,
    ) -> BoxFuture<'a, Result<Description, BackendError>> {
        self.boxed(api::Describe(run_ref(namespace, workflow_id, run_id)))
    }

    fn history<'a>(
        &'a self,
        namespace: &'a str,
        workflow_id: &'a str,
        run_id: Option<&'a str>,
    ) -> BoxFuture<'a, Result<Vec<Event>, BackendError>> {
        self.boxed(api::History(run_ref(namespace, workflow_id, run_id)))
    }

    fn wait_durable(&self) -> BoxFuture<'_, Result<(), BackendError>> {
        // The server's engine hands out tasks before their events are
        // durable, as in process; this waits on it.
        self.boxed(api::WaitDurable {})
    }

    fn wait_result<'a>(
        &'a self,
        namespace: &'a str,
        workflow_id: &'a str,
        run_id: Option<&'a str>,
    ) -> BoxFuture<'a, Result<RunOutcome, BackendError>> {
        self.boxed(api::WaitResult(run_ref(namespace, workflow_id, run_id)))
    }

    fn list_workflows(
        &self,
        namespace: String,
        query: String,
    ) -> BoxFuture<'_, Result<Vec<crate::visibility::WorkflowExecutionInfo>, BackendError>> {
        self.boxed(api::ListWorkflows { namespace, query })
    }

    fn count_workflows(
        &self,
        namespace: String,
        query: String,
    ) -> BoxFuture<'_, Result<crate::visibility::WorkflowExecutionCount, BackendError>> {
        self.boxed(api::CountWorkflows { namespace, query })
    }

    fn list_runs(
        &self,
        filter: ListFilter,
    ) -> BoxFuture<'_, Result<Vec<WorkflowSummary>, BackendError>> {
        self.boxed(filter)
    }

    fn create_schedule(
        &self,
        namespace: String,
        schedule_id: String,
        schedule: Schedule,
    ) -> BoxFuture<'_, Result<(), BackendError>> {
        self.boxed(api::CreateSchedule {
            schedule: schedule_ref(namespace, schedule_id),
            spec: schedule,
        })
    }

    fn describe_schedule(
        &self,
        namespace: String,
        schedule_id: String,
    ) -> BoxFuture<'_, Result<ScheduleDescription, BackendError>> {
        self.boxed(api::DescribeSchedule(schedule_ref(namespace, schedule_id)))
    }

    fn update_schedule(
        &self,
        namespace: String,
        schedule_id: String,
        schedule: Schedule,
        conflict_token: Option<u64>,
    ) -> BoxFuture<'_, Result<(), BackendError>> {
        self.boxed(api::UpdateSchedule {
            schedule: schedule_ref(namespace, schedule_id),
            spec: schedule,
            conflict_token,
        })
    }

    fn delete_schedule(
        &self,
        namespace: String,
        schedule_id: String,
    ) -> BoxFuture<'_, Result<(), BackendError>> {
        self.boxed(api::DeleteSchedule(schedule_ref(namespace, schedule_id)))
    }

    fn list_schedules(
        &self,
        namespace: String,
    ) -> BoxFuture<'_, Result<Vec<ScheduleListEntry>, BackendError>> {
        self.boxed(api::ListSchedules { namespace })
    }

    fn trigger_schedule(
        &self,
        namespace: String,
        schedule_id: String,
        overlap: Option<OverlapPolicy>,
    ) -> BoxFuture<'_, Result<(), BackendError>> {
        self.boxed(api::TriggerSchedule {
            schedule: schedule_ref(namespace, schedule_id),
            overlap,
        })
    }

    fn backfill_schedule(
        &self,
        namespace: String,
        schedule_id: String,
        backfills: Vec<Backfill>,
    ) -> BoxFuture<'_, Result<(), BackendError>> {
        self.boxed(api::BackfillSchedule {
            schedule: schedule_ref(namespace, schedule_id),
            backfills,
        })
    }

    fn pause_schedule(
        &self,
        namespace: String,
        schedule_id: String,
        paused: bool,
        note: Option<String>,
    ) -> BoxFuture<'_, Result<(), BackendError>> {
        self.boxed(api::PauseSchedule {
            schedule: schedule_ref(namespace, schedule_id),
            paused,
            note,
        })
    }
}
