//! The client half of the Temporal backend: [`Backend`] calls as
//! Temporal's `WorkflowService` requests (schedules' mapping in
//! `schedules`, listing and counting in `visibility`). The worker half of the trait
//! (polls, completions, heartbeats) answers `Unsupported`: workers on this
//! backend run on Temporal's core, which polls by itself.

use std::sync::Arc;

use futures::future::BoxFuture;
use temporalio_client::Connection;
use temporalio_client::tonic::{Code, Request, Status};
use temporalio_common::protos::temporal::api::common::v1 as common;
use temporalio_common::protos::temporal::api::enums::v1 as enums;
use temporalio_common::protos::temporal::api::query::v1::WorkflowQuery;
use temporalio_common::protos::temporal::api::taskqueue::v1::TaskQueue;
use temporalio_common::protos::temporal::api::update::v1 as update;
use temporalio_common::protos::temporal::api::workflowservice::v1 as ws;
use temporalio_common::protos::temporal::api::workflowservice::v1::execute_multi_operation_request as multi;

use super::TemporalOptions;
use super::convert::{
    failure_from, first_or_null, memo_to, opt_duration_to, retry_to, some_payloads,
};
use super::search::search_attributes_to;
use crate::backend::{
    ActivityTask, ActivityTaskResult, Backend, BackendError, CancelRequest, Description,
    HeartbeatResponse, IdConflictPolicy, ListFilter, QueryRequest, RunOutcome, SignalRequest,
    StartWorkflowRequest, StartWorkflowResponse, TaskToken, TerminateRequest, UpdateRequest,
    UpdateWithStartResponse, WorkflowSummary, WorkflowTask, WorkflowTaskCompletion,
};
use crate::converter::Payload;
use crate::failure::{ApplicationError, Failure};
use crate::history::Event;
use crate::schedule::{Backfill, OverlapPolicy, Schedule, ScheduleDescription, ScheduleListEntry};
use crate::visibility::{WorkflowExecutionCount, WorkflowExecutionInfo};

/// A [`Backend`] on a Temporal cluster (see [`crate::temporal`]).
pub struct TemporalBackend {
    pub(super) connection: Connection,
    identity: String,
    host: Arc<super::WorkerHost>,
}

impl TemporalBackend {
    /// A backend on an open connection; checks the namespace exists.
    pub(super) async fn new(
        connection: Connection,
        options: &TemporalOptions,
    ) -> Result<TemporalBackend, BackendError> {
        let request = ws::DescribeNamespaceRequest {
            namespace: options.namespace.clone(),
            ..Default::default()
        };
        connection
            .workflow_service()
            .describe_namespace(Request::new(request))
            .await
            .map_err(|s| {
                let e = status_error(&s, &options.namespace, None);
                tracing::warn!(namespace = options.namespace, error = %e, "Temporal namespace not usable");
                e
            })?;
        Ok(TemporalBackend {
            host: Arc::new(super::WorkerHost {
                connection: connection.clone(),
            }),
            connection,
            identity: options.identity.clone(),
        })
    }

    /// Who this client says it is, recorded with what it asks.
    pub(super) fn identity(&self) -> &str {
        &self.identity
    }

    pub(super) fn service(&self) -> Box<dyn temporalio_client::grpc::WorkflowService> {
        self.connection.workflow_service()
    }

    fn start_request(&self, r: &StartWorkflowRequest) -> ws::StartWorkflowExecutionRequest {
        let o = &r.run_options;
        ws::StartWorkflowExecutionRequest {
            namespace: r.namespace.clone(),
            workflow_id: r.workflow_id.clone(),
            workflow_type: Some(common::WorkflowType {
                name: r.workflow_type.clone(),
            }),
            task_queue: Some(task_queue(&r.task_queue)),
            input: some_payloads(&r.input),
            workflow_execution_timeout: opt_duration_to(o.execution_timeout),
            workflow_run_timeout: opt_duration_to(o.run_timeout),
            workflow_task_timeout: opt_duration_to(o.task_timeout),
            identity: self.identity.clone(),
            request_id: r.request_id.clone(),
            workflow_id_reuse_policy: super::commands::reuse_policy(r.id_reuse_policy) as i32,
            workflow_id_conflict_policy: conflict_policy(r.id_conflict_policy) as i32,
            retry_policy: o.retry_policy.as_ref().map(retry_to),
            memo: memo_to(&o.memo),
            search_attributes: (!o.search_attributes.is_empty()).then(|| {
                search_attributes_to(o.search_attributes.iter().map(|(k, v)| (k, Some(v))))
            }),
            ..Default::default()
        }
    }

    async fn query(&self, r: QueryRequest) -> Result<Payload, BackendError> {
        let request = ws::QueryWorkflowRequest {
            namespace: r.namespace.clone(),
            execution: Some(execution(&r.workflow_id, r.run_id.as_deref())),
            query: Some(WorkflowQuery {
                query_type: r.query_name.clone(),
                query_args: some_payloads(&r.input),
                ..Default::default()
            }),
            ..Default::default()
        };
        let response = self
            .service()
            .query_workflow(Request::new(request))
            .await
            .map_err(|s| match s.code() {
                // The worker's answer to a failed query arrives as a status.
                Code::InvalidArgument | Code::Internal | Code::Unknown => {
                    BackendError::QueryFailed(
                        ApplicationError::new(s.message().to_string())
                            .with_type("QueryFailed")
                            .into(),
                    )
                }
                _ => status_error(&s, &r.workflow_id, r.run_id.as_deref()),
            })?
            .into_inner();
        if let Some(rejected) = response.query_rejected {
            return Err(BackendError::QueryFailed(
                ApplicationError::new(format!("query rejected (run status {})", rejected.status))
                    .with_type("QueryRejected")
                    .into(),
            ));
        }
        Ok(first_or_null(
            response
                .query_result
                .map(|p| p.payloads)
                .unwrap_or_default(),
        ))
    }

    fn update_request(&self, r: &UpdateRequest) -> ws::UpdateWorkflowExecutionRequest {
        ws::UpdateWorkflowExecutionRequest {
            namespace: r.namespace.clone(),
            workflow_execution: Some(execution(&r.workflow_id, r.run_id.as_deref())),
            wait_policy: Some(update::WaitPolicy {
                lifecycle_stage: enums::UpdateWorkflowExecutionLifecycleStage::Completed as i32,
            }),
            request: Some(update::Request {
                meta: Some(update::Meta {
                    update_id: r.update_id.clone(),
                    identity: self.identity.clone(),
                }),
                input: Some(update::Input {
                    name: r.name.clone(),
                    args: some_payloads(&r.input),
                    ..Default::default()
                }),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    async fn update(&self, r: UpdateRequest) -> Result<Payload, BackendError> {
        let request = self.update_request(&r);
        // The server answers before the update completes when it takes
        // long; asking again with the same update id waits on.
        loop {
            let response = self
                .service()
                .update_workflow_execution(Request::new(request.clone()))
                .await
                .map_err(|s| status_error(&s, &r.workflow_id, r.run_id.as_deref()))?
                .into_inner();
            if let Some(outcome) = update_outcome(response.outcome) {
                return outcome;
            }
        }
    }

    /// Update-with-start as one `ExecuteMultiOperation` (start, then the
    /// update), which the server applies together or not at all; an
    /// update not completed when it answers is waited for as
    /// [`TemporalBackend::update`] waits.
    async fn update_with_start(
        &self,
        start: StartWorkflowRequest,
        update: UpdateRequest,
    ) -> Result<UpdateWithStartResponse, BackendError> {
        check_update_with_start(&start, &update)?;
        let request = ws::ExecuteMultiOperationRequest {
            namespace: start.namespace.clone(),
            operations: vec![
                multi::Operation {
                    operation: Some(multi::operation::Operation::StartWorkflow(
                        self.start_request(&start),
                    )),
                },
                multi::Operation {
                    operation: Some(multi::operation::Operation::UpdateWorkflow(
                        self.update_request(&update),
                    )),
                },
            ],
            resource_id: start.workflow_id.clone(),
        };
        let response = self
            .service()
            .execute_multi_operation(Request::new(request))
            .await
            .map_err(|s| multi_operation_error(&s, &start.workflow_id))?
            .into_inner();
        let (started, outcome) = multi_operation_responses(response.responses)?;
        let outcome = match outcome {
            Some(outcome) => outcome,
            None => {
                let on_run = UpdateRequest {
                    run_id: Some(started.run_id.clone()),
                    ..update
                };
                self.update(on_run).await
            }
        };
        Ok(UpdateWithStartResponse {
            run_id: started.run_id,
            started: started.started,
            outcome,
        })
    }

    async fn wait(
        &self,
        namespace: &str,
        workflow_id: &str,
        run_id: Option<&str>,
    ) -> Result<RunOutcome, BackendError> {
        let mut run_id = run_id.map(str::to_string);
        loop {
            let close = self
                .close_event(namespace, workflow_id, run_id.as_deref())
                .await?;
            match close_outcome(close) {
                Closed::Outcome(outcome) => return Ok(outcome),
                Closed::Next(next) => run_id = Some(next),
            }
        }
    }

    /// Waits for the run's close event (a long poll, repeated).
    async fn close_event(
        &self,
        namespace: &str,
        workflow_id: &str,
        run_id: Option<&str>,
    ) -> Result<
        temporalio_common::protos::temporal::api::history::v1::history_event::Attributes,
        BackendError,
    > {
        let mut token = Vec::new();
        loop {
            let request = ws::GetWorkflowExecutionHistoryRequest {
                namespace: namespace.to_string(),
                execution: Some(execution(workflow_id, run_id)),
                wait_new_event: true,
                history_event_filter_type: enums::HistoryEventFilterType::CloseEvent as i32,
                next_page_token: token.clone(),
                ..Default::default()
            };
            let response = self
                .service()
                .get_workflow_execution_history(Request::new(request))
                .await
                .map_err(|s| status_error(&s, workflow_id, run_id))?
                .into_inner();
            let event = response
                .history
                .and_then(|h| h.events.into_iter().last())
                .and_then(|e| e.attributes);
            if let Some(attributes) = event {
                return Ok(attributes);
            }
            token = response.next_page_token;
        }
    }
}

enum Closed {
    Outcome(RunOutcome),
    Next(String),
}

fn close_outcome(
    attributes: temporalio_common::protos::temporal::api::history::v1::history_event::Attributes,
) -> Closed {
    use crate::failure::{CanceledError, TerminatedError, TimeoutError, TimeoutType};
    use temporalio_common::protos::temporal::api::history::v1::history_event::Attributes as A;
    let outcome = match attributes {
        A::WorkflowExecutionCompletedEventAttributes(a) => {
            if !a.new_execution_run_id.is_empty() {
                return Closed::Next(a.new_execution_run_id);
            }
            RunOutcome::Completed(first_or_null(
                a.result.map(|p| p.payloads).unwrap_or_default(),
            ))
        }
        A::WorkflowExecutionFailedEventAttributes(a) => {
            if !a.new_execution_run_id.is_empty() {
                return Closed::Next(a.new_execution_run_id);
            }
            RunOutcome::Failed(a.failure.map(failure_from).unwrap_or_else(|| {
                ApplicationError::new("workflow failed without a failure").into()
            }))
        }
        A::WorkflowExecutionTimedOutEventAttributes(a) => {
            if !a.new_execution_run_id.is_empty() {
                return Closed::Next(a.new_execution_run_id);
            }
            RunOutcome::TimedOut(Failure::Timeout(TimeoutError {
                timeout_type: TimeoutType::WorkflowRun,
                last_heartbeat_details: Vec::new(),
            }))
        }
        A::WorkflowExecutionContinuedAsNewEventAttributes(a) => {
            return Closed::Next(a.new_execution_run_id);
        }
        A::WorkflowExecutionCanceledEventAttributes(a) => {
            RunOutcome::Canceled(Failure::Canceled(CanceledError {
                message: "workflow canceled".into(),
                details: super::convert::from_payloads(a.details),
            }))
        }
        A::WorkflowExecutionTerminatedEventAttributes(a) => {
            RunOutcome::Terminated(Failure::Terminated(TerminatedError { reason: a.reason }))
        }
        other => RunOutcome::Failed(
            ApplicationError::new(format!("unexpected close event {other:?}")).into(),
        ),
    };
    Closed::Outcome(outcome)
}

pub(super) fn execution(workflow_id: &str, run_id: Option<&str>) -> common::WorkflowExecution {
    common::WorkflowExecution {
        workflow_id: workflow_id.to_string(),
        run_id: run_id.unwrap_or_default().to_string(),
    }
}

fn task_queue(name: &str) -> TaskQueue {
    TaskQueue {
        name: name.to_string(),
        kind: enums::TaskQueueKind::Normal as i32,
        ..Default::default()
    }
}

fn conflict_policy(p: IdConflictPolicy) -> enums::WorkflowIdConflictPolicy {
    match p {
        IdConflictPolicy::Fail => enums::WorkflowIdConflictPolicy::Fail,
        IdConflictPolicy::UseExisting => enums::WorkflowIdConflictPolicy::UseExisting,
        IdConflictPolicy::TerminateExisting => enums::WorkflowIdConflictPolicy::TerminateExisting,
    }
}

/// The run holding the id, which a start refused as already started names
/// in its status details.
fn started_run(details: &[u8]) -> Option<String> {
    use temporalio_common::protos::temporal::api::errordetails::v1::WorkflowExecutionAlreadyStartedFailure;
    use temporalio_common::protos::utilities::decode_status_detail;
    decode_status_detail::<WorkflowExecutionAlreadyStartedFailure>(details)
        .map(|f| f.run_id)
        .filter(|run| !run.is_empty())
}

/// A gRPC status as weft's error.
pub(super) fn status_error(s: &Status, workflow_id: &str, run_id: Option<&str>) -> BackendError {
    let message = s.message().to_string();
    match s.code() {
        Code::NotFound => BackendError::NotFound {
            workflow_id: workflow_id.to_string(),
            run_id: run_id.map(str::to_string),
            detail: Some(message),
        },
        Code::AlreadyExists => BackendError::WorkflowAlreadyStarted {
            workflow_id: workflow_id.to_string(),
            run_id: started_run(s.details())
                .unwrap_or_else(|| run_id.unwrap_or_default().to_string()),
        },
        Code::InvalidArgument | Code::FailedPrecondition | Code::OutOfRange => {
            BackendError::InvalidArgument(message)
        }
        Code::PermissionDenied | Code::Unauthenticated => BackendError::PermissionDenied(message),
        Code::Unimplemented => BackendError::Unsupported(message),
        Code::ResourceExhausted => BackendError::Unavailable(format!("rate limited: {message}")),
        _ => BackendError::Unavailable(format!("{:?}: {message}", s.code())),
    }
}

/// An update's outcome, once it has one.
fn update_outcome(outcome: Option<update::Outcome>) -> Option<Result<Payload, BackendError>> {
    match outcome.and_then(|o| o.value)? {
        update::outcome::Value::Success(p) => Some(Ok(first_or_null(p.payloads))),
        update::outcome::Value::Failure(f) => {
            Some(Err(BackendError::UpdateFailed(failure_from(f))))
        }
    }
}

/// What weft's engine checks of an update-with-start before anything
/// else, with its messages.
fn check_update_with_start(
    start: &StartWorkflowRequest,
    update: &UpdateRequest,
) -> Result<(), BackendError> {
    if update.namespace != start.namespace || update.workflow_id != start.workflow_id {
        return Err(BackendError::InvalidArgument(
            "update-with-start: the update must name the started workflow's namespace and \
             workflow id"
                .into(),
        ));
    }
    if update.run_id.is_some() {
        return Err(BackendError::InvalidArgument(
            "update-with-start: the update names no run id (it goes to the run started or \
             found)"
                .into(),
        ));
    }
    Ok(())
}

/// The start's answer and, if the update completed already, its outcome.
fn multi_operation_responses(
    responses: Vec<ws::execute_multi_operation_response::Response>,
) -> Result<
    (
        ws::StartWorkflowExecutionResponse,
        Option<Result<Payload, BackendError>>,
    ),
    BackendError,
> {
    use ws::execute_multi_operation_response::response::Response as R;
    let mut responses = responses.into_iter().map(|r| r.response);
    match (responses.next().flatten(), responses.next().flatten()) {
        (Some(R::StartWorkflow(start)), Some(R::UpdateWorkflow(update))) => {
            Ok((start, update_outcome(update.outcome)))
        }
        other => {
            let error = BackendError::Unavailable(format!(
                "Temporal answered update-with-start without a start and an update response: \
                 {other:?}"
            ));
            tracing::warn!(%error, "unexpected ExecuteMultiOperation answer");
            Err(error)
        }
    }
}

/// A refused `ExecuteMultiOperation` as the error of the operation that
/// failed (the other is marked aborted): a start refused under the
/// conflict or reuse policy is `WorkflowAlreadyStarted` naming the run
/// that holds the id, as on weft's engine.
fn multi_operation_error(s: &Status, workflow_id: &str) -> BackendError {
    use temporalio_common::protos::google::rpc::Status as RpcStatus;
    use temporalio_common::protos::temporal::api::errordetails::v1::MultiOperationExecutionFailure;
    use temporalio_common::protos::utilities::{decode_status_detail, encode_status_details};
    let failed =
        decode_status_detail::<MultiOperationExecutionFailure>(s.details()).and_then(|f| {
            f.statuses.into_iter().find(|op| {
                op.code != Code::Ok as i32
                    && !op
                        .details
                        .iter()
                        .any(|d| d.type_url.ends_with("MultiOperationExecutionAborted"))
            })
        });
    let error = match failed {
        None => status_error(s, workflow_id, None),
        Some(op) if Code::from(op.code) == Code::AlreadyExists => {
            let details = encode_status_details(&RpcStatus {
                code: op.code,
                message: op.message.clone(),
                details: op.details,
            });
            let run_id = started_run(&details).unwrap_or_default();
            BackendError::WorkflowAlreadyStarted {
                workflow_id: workflow_id.to_string(),
                run_id,
            }
        }
        Some(op) => status_error(
            &Status::new(Code::from(op.code), op.message),
            workflow_id,
            None,
        ),
    };
    tracing::debug!(workflow_id, %error, "Temporal refused update-with-start");
    error
}

fn worker_call<'a, T: Send + 'a>(call: &str) -> BoxFuture<'a, Result<T, BackendError>> {
    let error = BackendError::Unsupported(format!(
        "{call}: workers on the Temporal backend poll through Temporal's core"
    ));
    Box::pin(async move { Err(error) })
}

impl Backend for TemporalBackend {
    fn start_workflow(
        &self,
        request: StartWorkflowRequest,
    ) -> BoxFuture<'_, Result<StartWorkflowResponse, BackendError>> {
        Box::pin(async move {
            let grpc = self.start_request(&request);
            let response = self
                .service()
                .start_workflow_execution(Request::new(grpc))
                .await
                .map_err(|s| status_error(&s, &request.workflow_id, None))?
                .into_inner();
            Ok(StartWorkflowResponse {
                run_id: response.run_id,
                started: response.started,
            })
        })
    }

    fn signal_workflow(&self, request: SignalRequest) -> BoxFuture<'_, Result<(), BackendError>> {
        Box::pin(async move {
            let grpc = ws::SignalWorkflowExecutionRequest {
                namespace: request.namespace.clone(),
                workflow_execution: Some(execution(
                    &request.workflow_id,
                    request.run_id.as_deref(),
                )),
                signal_name: request.signal_name.clone(),
                input: some_payloads(&request.input),
                identity: self.identity.clone(),
                request_id: request.request_id.clone(),
                ..Default::default()
            };
            self.service()
                .signal_workflow_execution(Request::new(grpc))
                .await
                .map_err(|s| status_error(&s, &request.workflow_id, request.run_id.as_deref()))?;
            Ok(())
        })
    }

    fn signal_with_start(
        &self,
        start: StartWorkflowRequest,
        signal_name: String,
        input: Vec<Payload>,
    ) -> BoxFuture<'_, Result<StartWorkflowResponse, BackendError>> {
        Box::pin(async move {
            let s = self.start_request(&start);
            let grpc = ws::SignalWithStartWorkflowExecutionRequest {
                namespace: s.namespace,
                workflow_id: s.workflow_id,
                workflow_type: s.workflow_type,
                task_queue: s.task_queue,
                input: s.input,
                workflow_execution_timeout: s.workflow_execution_timeout,
                workflow_run_timeout: s.workflow_run_timeout,
                workflow_task_timeout: s.workflow_task_timeout,
                identity: s.identity,
                request_id: s.request_id,
                workflow_id_reuse_policy: s.workflow_id_reuse_policy,
                signal_name,
                signal_input: some_payloads(&input),
                retry_policy: s.retry_policy,
                memo: s.memo,
                search_attributes: s.search_attributes,
                ..Default::default()
            };
            let response = self
                .service()
                .signal_with_start_workflow_execution(Request::new(grpc))
                .await
                .map_err(|e| status_error(&e, &start.workflow_id, None))?
                .into_inner();
            Ok(StartWorkflowResponse {
                run_id: response.run_id,
                started: response.started,
            })
        })
    }

    fn request_cancel_workflow(
        &self,
        request: CancelRequest,
    ) -> BoxFuture<'_, Result<(), BackendError>> {
        Box::pin(async move {
            let grpc = ws::RequestCancelWorkflowExecutionRequest {
                namespace: request.namespace.clone(),
                workflow_execution: Some(execution(
                    &request.workflow_id,
                    request.run_id.as_deref(),
                )),
                identity: self.identity.clone(),
                request_id: uuid::Uuid::new_v4().to_string(),
                reason: request.reason.clone(),
                ..Default::default()
            };
            self.service()
                .request_cancel_workflow_execution(Request::new(grpc))
                .await
                .map_err(|s| status_error(&s, &request.workflow_id, request.run_id.as_deref()))?;
            Ok(())
        })
    }

    fn terminate_workflow(
        &self,
        request: TerminateRequest,
    ) -> BoxFuture<'_, Result<(), BackendError>> {
        Box::pin(async move {
            let grpc = ws::TerminateWorkflowExecutionRequest {
                namespace: request.namespace.clone(),
                workflow_execution: Some(execution(
                    &request.workflow_id,
                    request.run_id.as_deref(),
                )),
                reason: request.reason.clone(),
                details: some_payloads(&request.details),
                identity: self.identity.clone(),
                ..Default::default()
            };
            self.service()
                .terminate_workflow_execution(Request::new(grpc))
                .await
                .map_err(|s| status_error(&s, &request.workflow_id, request.run_id.as_deref()))?;
            Ok(())
        })
    }

    fn record_activity_heartbeat(
        &self,
        _token: TaskToken,
        _details: Vec<Payload>,
    ) -> BoxFuture<'_, Result<HeartbeatResponse, BackendError>> {
        worker_call("record_activity_heartbeat")
    }

    fn query_workflow(
        &self,
        request: QueryRequest,
    ) -> BoxFuture<'_, Result<Payload, BackendError>> {
        Box::pin(self.query(request))
    }

    fn respond_query(
        &self,
        _token: TaskToken,
        _result: Result<Payload, Failure>,
    ) -> BoxFuture<'_, Result<(), BackendError>> {
        worker_call("respond_query")
    }

    fn update_workflow(
        &self,
        request: UpdateRequest,
    ) -> BoxFuture<'_, Result<Payload, BackendError>> {
        Box::pin(self.update(request))
    }

    fn update_with_start(
        &self,
        start: StartWorkflowRequest,
        update: UpdateRequest,
    ) -> BoxFuture<'_, Result<UpdateWithStartResponse, BackendError>> {
        Box::pin(TemporalBackend::update_with_start(self, start, update))
    }

    fn poll_workflow_task<'a>(
        &'a self,
        _namespace: &'a str,
        _task_queue: &'a str,
    ) -> BoxFuture<'a, Result<Option<WorkflowTask>, BackendError>> {
        worker_call("poll_workflow_task")
    }

    fn complete_workflow_task(
        &self,
        _completion: WorkflowTaskCompletion,
    ) -> BoxFuture<'_, Result<(), BackendError>> {
        worker_call("complete_workflow_task")
    }

    fn fail_workflow_task(
        &self,
        _token: TaskToken,
        _failure: Failure,
        _nondeterminism: bool,
    ) -> BoxFuture<'_, Result<(), BackendError>> {
        worker_call("fail_workflow_task")
    }

    fn poll_activity_task<'a>(
        &'a self,
        _namespace: &'a str,
        _task_queue: &'a str,
    ) -> BoxFuture<'a, Result<Option<ActivityTask>, BackendError>> {
        worker_call("poll_activity_task")
    }

    fn complete_activity_task(
        &self,
        _token: TaskToken,
        _result: ActivityTaskResult,
    ) -> BoxFuture<'_, Result<(), BackendError>> {
        worker_call("complete_activity_task")
    }

    fn describe<'a>(
        &'a self,
        namespace: &'a str,
        workflow_id: &'a str,
        run_id: Option<&'a str>,
    ) -> BoxFuture<'a, Result<Description, BackendError>> {
        Box::pin(super::history::describe(
            self,
            namespace,
            workflow_id,
            run_id,
        ))
    }

    fn history<'a>(
        &'a self,
        namespace: &'a str,
        workflow_id: &'a str,
        run_id: Option<&'a str>,
    ) -> BoxFuture<'a, Result<Vec<Event>, BackendError>> {
        Box::pin(super::history::history(
            self,
            namespace,
            workflow_id,
            run_id,
        ))
    }

    fn wait_result<'a>(
        &'a self,
        namespace: &'a str,
        workflow_id: &'a str,
        run_id: Option<&'a str>,
    ) -> BoxFuture<'a, Result<RunOutcome, BackendError>> {
        Box::pin(self.wait(namespace, workflow_id, run_id))
    }

    fn list_workflows(
        &self,
        namespace: String,
        query: String,
    ) -> BoxFuture<'_, Result<Vec<WorkflowExecutionInfo>, BackendError>> {
        Box::pin(self.list_workflows_call(namespace, query))
    }

    fn count_workflows(
        &self,
        namespace: String,
        query: String,
    ) -> BoxFuture<'_, Result<WorkflowExecutionCount, BackendError>> {
        Box::pin(self.count_workflows_call(namespace, query))
    }

    fn list_runs(
        &self,
        filter: ListFilter,
    ) -> BoxFuture<'_, Result<Vec<WorkflowSummary>, BackendError>> {
        Box::pin(self.list_runs_call(filter))
    }

    fn create_schedule(
        &self,
        namespace: String,
        schedule_id: String,
        schedule: Schedule,
    ) -> BoxFuture<'_, Result<(), BackendError>> {
        Box::pin(self.create_schedule_call(namespace, schedule_id, schedule))
    }

    fn describe_schedule(
        &self,
        namespace: String,
        schedule_id: String,
    ) -> BoxFuture<'_, Result<ScheduleDescription, BackendError>> {
        Box::pin(self.describe_schedule_call(namespace, schedule_id))
    }

    fn update_schedule(
        &self,
        namespace: String,
        schedule_id: String,
        schedule: Schedule,
        conflict_token: Option<u64>,
    ) -> BoxFuture<'_, Result<(), BackendError>> {
        Box::pin(self.update_schedule_call(namespace, schedule_id, schedule, conflict_token))
    }

    fn delete_schedule(
        &self,
        namespace: String,
        schedule_id: String,
    ) -> BoxFuture<'_, Result<(), BackendError>> {
        Box::pin(self.delete_schedule_call(namespace, schedule_id))
    }

    fn list_schedules(
        &self,
        namespace: String,
    ) -> BoxFuture<'_, Result<Vec<ScheduleListEntry>, BackendError>> {
        Box::pin(self.list_schedules_call(namespace))
    }

    fn trigger_schedule(
        &self,
        namespace: String,
        schedule_id: String,
        overlap: Option<OverlapPolicy>,
    ) -> BoxFuture<'_, Result<(), BackendError>> {
        Box::pin(self.trigger_schedule_call(namespace, schedule_id, overlap))
    }

    fn backfill_schedule(
        &self,
        namespace: String,
        schedule_id: String,
        backfills: Vec<Backfill>,
    ) -> BoxFuture<'_, Result<(), BackendError>> {
        Box::pin(self.backfill_schedule_call(namespace, schedule_id, backfills))
    }

    fn pause_schedule(
        &self,
        namespace: String,
        schedule_id: String,
        paused: bool,
        note: Option<String>,
    ) -> BoxFuture<'_, Result<(), BackendError>> {
        Box::pin(self.pause_schedule_call(namespace, schedule_id, paused, note))
    }

    fn worker_host(&self) -> Option<Arc<dyn std::any::Any + Send + Sync>> {
        Some(self.host.clone())
    }
}
