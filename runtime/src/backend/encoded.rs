//! A backend seen through a [`DataConverter`]: every payload is encoded
//! on its way in and decoded on its way out, as Temporal's SDKs do at the
//! edge of the client and the worker.
//!
//! The engine and its stores only ever hold encoded payloads; the worker's
//! driver only ever sees decoded ones, so replay compares the arguments the
//! code gives with the arguments history recorded, never two ciphertexts
//! of one value (a codec with a random nonce never encodes a value twice
//! the same way). A connection without a codec gets the backend itself:
//! nothing is copied.

use std::sync::Arc;

use futures::future::BoxFuture;

use super::payloads::Coder;
use super::{
    ActivityTask, ActivityTaskResult, Backend, BackendError, CancelRequest, Description,
    HeartbeatResponse, QueryRequest, RunOutcome, SignalRequest, StartWorkflowRequest,
    StartWorkflowResponse, TaskToken, TerminateRequest, UpdateRequest, UpdateWithStartResponse,
    WorkflowTask, WorkflowTaskCompletion,
};
use crate::converter::{CodecError, DataConverter, Payload};
use crate::failure::{ApplicationError, Failure};
use crate::history::Event;
use crate::schedule::{Schedule, ScheduleDescription};

/// The type name of the failure a task gets when its payloads cannot be
/// decoded or its results encoded.
pub const PAYLOAD_CODEC_ERROR: &str = "PayloadCodecError";

/// `inner` seen through `converter`; `inner` itself when the converter
/// changes nothing.
pub(crate) fn wrap(inner: Arc<dyn Backend>, converter: &DataConverter) -> Arc<dyn Backend> {
    if converter.is_identity() {
        return inner;
    }
    Arc::new(EncodedBackend {
        inner,
        converter: converter.clone(),
    })
}

struct EncodedBackend {
    inner: Arc<dyn Backend>,
    converter: DataConverter,
}

fn codec_failure(what: &str, error: &CodecError) -> Failure {
    ApplicationError::new(format!("{what}: {error}"))
        .with_type(PAYLOAD_CODEC_ERROR)
        .non_retryable()
        .into()
}

impl EncodedBackend {
    fn enc(&self) -> Coder<'_> {
        Coder {
            converter: &self.converter,
            encode: true,
        }
    }

    fn dec(&self) -> Coder<'_> {
        Coder {
            converter: &self.converter,
            encode: false,
        }
    }

    /// Decodes a polled workflow or query task; one that does not decode
    /// is failed (or answered) with the reason, so it shows in history
    /// and `describe`, and the next task is polled.
    async fn next_workflow_task(
        &self,
        namespace: &str,
        task_queue: &str,
    ) -> Result<Option<WorkflowTask>, BackendError> {
        loop {
            let Some(mut task) = self.inner.poll_workflow_task(namespace, task_queue).await? else {
                return Ok(None);
            };
            let Err(error) = self.dec().workflow_task(&mut task) else {
                return Ok(Some(task));
            };
            tracing::error!(
                workflow_id = %task.workflow_id,
                run_id = %task.token.run_id,
                %error,
                "a workflow task's payloads could not be decoded; the task fails"
            );
            let token = task.token.clone();
            let answered = if task.query.is_some() {
                let failure = codec_failure("the query's input could not be decoded", &error);
                self.inner.respond_query(token, Err(failure)).await
            } else {
                let failure = codec_failure("the workflow task could not be decoded", &error);
                self.inner.fail_workflow_task(token, failure, false).await
            };
            if let Err(e) = answered {
                tracing::warn!(run_id = %task.token.run_id, error = %e, "could not fail the undecodable task");
            }
        }
    }

    /// Decodes a polled activity task; one that does not decode fails its
    /// attempt, non-retryable, with the reason.
    async fn next_activity_task(
        &self,
        namespace: &str,
        task_queue: &str,
    ) -> Result<Option<ActivityTask>, BackendError> {
        loop {
            let Some(mut task) = self.inner.poll_activity_task(namespace, task_queue).await? else {
                return Ok(None);
            };
            let Err(error) = self.dec().activity_task(&mut task) else {
                return Ok(Some(task));
            };
            tracing::error!(
                workflow_id = %task.workflow_id,
                activity_type = %task.activity_type,
                %error,
                "an activity task's payloads could not be decoded; the attempt fails"
            );
            let failure = codec_failure("the activity's input could not be decoded", &error);
            let result = ActivityTaskResult::Failed(failure);
            if let Err(e) = self.inner.complete_activity_task(task.token, result).await {
                tracing::warn!(error = %e, "could not fail the undecodable activity task");
            }
        }
    }

    async fn complete_workflow(
        &self,
        mut completion: WorkflowTaskCompletion,
    ) -> Result<(), BackendError> {
        let encoded = completion
            .commands
            .iter_mut()
            .try_for_each(|c| self.enc().command(c));
        let Err(error) = encoded else {
            return self.inner.complete_workflow_task(completion).await;
        };
        tracing::error!(run_id = %completion.token.run_id, %error, "a workflow task's commands could not be encoded; the task fails");
        let failure = codec_failure("the workflow task's commands could not be encoded", &error);
        self.inner
            .fail_workflow_task(completion.token, failure, false)
            .await?;
        Err(error.into())
    }

    async fn complete_activity(
        &self,
        token: TaskToken,
        mut result: ActivityTaskResult,
    ) -> Result<(), BackendError> {
        if let Err(error) = self.enc().activity_result(&mut result) {
            tracing::error!(run_id = %token.run_id, %error, "an activity's result could not be encoded; the attempt fails");
            result = ActivityTaskResult::Failed(codec_failure(
                "the activity's result could not be encoded",
                &error,
            ));
        }
        self.inner.complete_activity_task(token, result).await
    }

    /// Encodes a failure; one that cannot be encoded is replaced by one
    /// saying so, which holds nothing of the original.
    fn encoded_failure(&self, mut failure: Failure) -> Failure {
        match self.enc().failure(&mut failure) {
            Ok(()) => failure,
            Err(error) => codec_failure("a failure could not be encoded", &error),
        }
    }

    fn decoded<T>(
        &self,
        result: Result<T, BackendError>,
        decode: impl FnOnce(&Coder<'_>, &mut T) -> Result<(), CodecError>,
    ) -> Result<T, BackendError> {
        let coder = self.dec();
        match result {
            Ok(mut value) => {
                decode(&coder, &mut value)?;
                Ok(value)
            }
            Err(mut error) => {
                coder.error(&mut error)?;
                Err(error)
            }
        }
    }
}

impl Backend for EncodedBackend {
    fn start_workflow(
        &self,
        mut request: StartWorkflowRequest,
    ) -> BoxFuture<'_, Result<StartWorkflowResponse, BackendError>> {
        Box::pin(async move {
            self.enc().start(&mut request)?;
            self.inner.start_workflow(request).await
        })
    }

    fn signal_workflow(
        &self,
        mut request: SignalRequest,
    ) -> BoxFuture<'_, Result<(), BackendError>> {
        Box::pin(async move {
            self.enc().list(&mut request.input)?;
            self.inner.signal_workflow(request).await
        })
    }

    fn signal_with_start(
        &self,
        mut start: StartWorkflowRequest,
        signal_name: String,
        mut input: Vec<Payload>,
    ) -> BoxFuture<'_, Result<StartWorkflowResponse, BackendError>> {
        Box::pin(async move {
            self.enc().start(&mut start)?;
            self.enc().list(&mut input)?;
            self.inner
                .signal_with_start(start, signal_name, input)
                .await
        })
    }

    fn request_cancel_workflow(
        &self,
        request: CancelRequest,
    ) -> BoxFuture<'_, Result<(), BackendError>> {
        self.inner.request_cancel_workflow(request)
    }

    fn terminate_workflow(
        &self,
        mut request: TerminateRequest,
    ) -> BoxFuture<'_, Result<(), BackendError>> {
        Box::pin(async move {
            self.enc().list(&mut request.details)?;
            self.inner.terminate_workflow(request).await
        })
    }

    fn record_activity_heartbeat(
        &self,
        token: TaskToken,
        mut details: Vec<Payload>,
    ) -> BoxFuture<'_, Result<HeartbeatResponse, BackendError>> {
        Box::pin(async move {
            self.enc().list(&mut details)?;
            self.inner.record_activity_heartbeat(token, details).await
        })
    }

    fn query_workflow(
        &self,
        mut request: QueryRequest,
    ) -> BoxFuture<'_, Result<Payload, BackendError>> {
        Box::pin(async move {
            self.enc().list(&mut request.input)?;
            let answer = self.inner.query_workflow(request).await;
            self.decoded(answer, |c, p| c.one(p))
        })
    }

    fn respond_query(
        &self,
        token: TaskToken,
        result: Result<Payload, Failure>,
    ) -> BoxFuture<'_, Result<(), BackendError>> {
        Box::pin(async move {
            let result = match result {
                Ok(mut answer) => match self.enc().one(&mut answer) {
                    Ok(()) => Ok(answer),
                    Err(e) => Err(codec_failure("the query's answer could not be encoded", &e)),
                },
                Err(failure) => Err(self.encoded_failure(failure)),
            };
            self.inner.respond_query(token, result).await
        })
    }

    fn update_workflow(
        &self,
        mut request: UpdateRequest,
    ) -> BoxFuture<'_, Result<Payload, BackendError>> {
        Box::pin(async move {
            self.enc().list(&mut request.input)?;
            let result = self.inner.update_workflow(request).await;
            self.decoded(result, |c, p| c.one(p))
        })
    }

    fn update_with_start(
        &self,
        mut start: StartWorkflowRequest,
        mut update: UpdateRequest,
    ) -> BoxFuture<'_, Result<UpdateWithStartResponse, BackendError>> {
        Box::pin(async move {
            self.enc().start(&mut start)?;
            self.enc().list(&mut update.input)?;
            let response = self.inner.update_with_start(start, update).await;
            self.decoded(response, |c, r| match &mut r.outcome {
                Ok(p) => c.one(p),
                Err(e) => c.error(e),
            })
        })
    }

    fn poll_workflow_task<'a>(
        &'a self,
        namespace: &'a str,
        task_queue: &'a str,
    ) -> BoxFuture<'a, Result<Option<WorkflowTask>, BackendError>> {
        Box::pin(self.next_workflow_task(namespace, task_queue))
    }

    fn complete_workflow_task(
        &self,
        completion: WorkflowTaskCompletion,
    ) -> BoxFuture<'_, Result<(), BackendError>> {
        Box::pin(self.complete_workflow(completion))
    }

    fn fail_workflow_task(
        &self,
        token: TaskToken,
        failure: Failure,
        nondeterminism: bool,
    ) -> BoxFuture<'_, Result<(), BackendError>> {
        let failure = self.encoded_failure(failure);
        self.inner
            .fail_workflow_task(token, failure, nondeterminism)
    }

    fn poll_activity_task<'a>(
        &'a self,
        namespace: &'a str,
        task_queue: &'a str,
    ) -> BoxFuture<'a, Result<Option<ActivityTask>, BackendError>> {
        Box::pin(self.next_activity_task(namespace, task_queue))
    }

    fn complete_activity_task(
        &self,
        token: TaskToken,
        result: ActivityTaskResult,
    ) -> BoxFuture<'_, Result<(), BackendError>> {
        Box::pin(self.complete_activity(token, result))
    }

    fn describe<'a>(
        &'a self,
        namespace: &'a str,
        workflow_id: &'a str,
        run_id: Option<&'a str>,
    ) -> BoxFuture<'a, Result<Description, BackendError>> {
        Box::pin(async move {
            let description = self.inner.describe(namespace, workflow_id, run_id).await;
            self.decoded(description, |c, d| c.description(d))
        })
    }

    fn history<'a>(
        &'a self,
        namespace: &'a str,
        workflow_id: &'a str,
        run_id: Option<&'a str>,
    ) -> BoxFuture<'a, Result<Vec<Event>, BackendError>> {
        Box::pin(async move {
            let events = self.inner.history(namespace, workflow_id, run_id).await;
            self.decoded(events, |c, e| c.events(e))
        })
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
        Box::pin(async move {
            let outcome = self.inner.wait_result(namespace, workflow_id, run_id).await;
            self.decoded(outcome, |c, o| c.outcome(o))
        })
    }

    fn create_schedule(
        &self,
        namespace: String,
        schedule_id: String,
        mut schedule: Schedule,
    ) -> BoxFuture<'_, Result<(), BackendError>> {
        Box::pin(async move {
            self.enc().schedule(&mut schedule)?;
            self.inner
                .create_schedule(namespace, schedule_id, schedule)
                .await
        })
    }

    fn describe_schedule(
        &self,
        namespace: String,
        schedule_id: String,
    ) -> BoxFuture<'_, Result<ScheduleDescription, BackendError>> {
        Box::pin(async move {
            let described = self.inner.describe_schedule(namespace, schedule_id).await;
            self.decoded(described, |c, d| c.schedule(&mut d.schedule))
        })
    }

    fn update_schedule(
        &self,
        namespace: String,
        schedule_id: String,
        mut schedule: Schedule,
        conflict_token: Option<u64>,
    ) -> BoxFuture<'_, Result<(), BackendError>> {
        Box::pin(async move {
            self.enc().schedule(&mut schedule)?;
            self.inner
                .update_schedule(namespace, schedule_id, schedule, conflict_token)
                .await
        })
    }

    super::forward::forward_schedule_calls!();
    super::forward::forward_visibility_calls!();
}
