//! Every payload of a request, task, event or command, run through a
//! [`DataConverter`]'s codecs in one direction.
//!
//! Matches are exhaustive on purpose: a new event, command or failure kind
//! does not compile until it says what happens to its payloads.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{
    ActivityTask, ActivityTaskResult, BackendError, Description, RunOutcome, StartWorkflowRequest,
    WorkflowTask,
};
use crate::converter::{self, CodecError, DataConverter, Payload};
use crate::failure::{ApplicationError, Failure};
use crate::history::{Event, EventAttributes};
use crate::protocol::{Command, Resolution, UpdateResponse};
use crate::schedule::{Schedule, ScheduleAction};

/// What `message` reads once a failure's message is encoded (Temporal's text).
pub const ENCODED_FAILURE_MESSAGE: &str = "Encoded failure";

/// Metadata key of the payload holding an application error's encoded
/// message, kept after its details (added after the codecs ran, so they
/// never see it).
const ATTRIBUTES_KEY: &str = "weft-encoded-failure-attributes";

/// The attributes an encoded failure carries, as Temporal's
/// `encode_common_attributes` writes them.
#[derive(Serialize, Deserialize)]
struct EncodedAttributes {
    message: String,
    #[serde(default)]
    stack_trace: String,
}

/// Runs payloads through a converter's codecs: `encode` on the way to the
/// backend, else `decode`.
pub(crate) struct Coder<'a> {
    pub converter: &'a DataConverter,
    pub encode: bool,
}

type Coded = Result<(), CodecError>;

impl Coder<'_> {
    pub fn list(&self, payloads: &mut Vec<Payload>) -> Coded {
        if payloads.is_empty() {
            return Ok(());
        }
        let taken = std::mem::take(payloads);
        *payloads = if self.encode {
            self.converter.encode(taken)?
        } else {
            self.converter.decode(taken)?
        };
        Ok(())
    }

    pub fn one(&self, payload: &mut Payload) -> Coded {
        let mut list = vec![std::mem::take(payload)];
        self.list(&mut list)?;
        *payload = list
            .pop()
            .ok_or_else(|| CodecError::new("a codec returned no payload"))?;
        Ok(())
    }

    pub fn failure(&self, failure: &mut Failure) -> Coded {
        match failure {
            Failure::Application(e) => {
                self.application(e)?;
                match &mut e.cause {
                    Some(cause) => self.failure(cause),
                    None => Ok(()),
                }
            }
            Failure::Activity(e) => self.failure(&mut e.cause),
            Failure::ChildWorkflow(e) => self.failure(&mut e.cause),
            Failure::Timeout(e) => self.list(&mut e.last_heartbeat_details),
            Failure::Canceled(e) => self.list(&mut e.details),
            Failure::Terminated(_) | Failure::Server(_) => Ok(()),
        }
    }

    /// An application error's details, and its message when the converter
    /// encodes failure attributes: the message moves into one more
    /// payload after the details, marked so decoding takes it back out.
    fn application(&self, e: &mut ApplicationError) -> Coded {
        if !self.encode {
            let attributes = e
                .details
                .iter()
                .position(|p| p.metadata.contains_key(ATTRIBUTES_KEY))
                .map(|at| e.details.remove(at));
            self.list(&mut e.details)?;
            let Some(mut attributes) = attributes else {
                return Ok(());
            };
            attributes.metadata.remove(ATTRIBUTES_KEY);
            self.one(&mut attributes)?;
            let read: EncodedAttributes = converter::decode(&attributes)
                .map_err(|err| CodecError::new(format!("encoded failure attributes: {err}")))?;
            e.message = read.message;
            return Ok(());
        }
        self.list(&mut e.details)?;
        let encoded_already = e
            .details
            .iter()
            .any(|p| p.metadata.contains_key(ATTRIBUTES_KEY));
        if !self.converter.encodes_failure_attributes() || encoded_already {
            return Ok(());
        }
        let attributes = EncodedAttributes {
            message: std::mem::replace(&mut e.message, ENCODED_FAILURE_MESSAGE.to_string()),
            stack_trace: String::new(),
        };
        let mut payload = converter::encode(&attributes)
            .map_err(|err| CodecError::new(format!("encoding failure attributes: {err}")))?;
        self.one(&mut payload)?;
        payload
            .metadata
            .insert(ATTRIBUTES_KEY.to_string(), Vec::new());
        e.details.push(payload);
        Ok(())
    }

    /// A memo's values, each on its own (as Temporal encodes memo fields).
    pub fn memo(&self, memo: &mut BTreeMap<String, Payload>) -> Coded {
        memo.values_mut().try_for_each(|p| self.one(p))
    }

    /// A start's input and memo.
    pub fn start(&self, request: &mut StartWorkflowRequest) -> Coded {
        self.list(&mut request.input)?;
        self.memo(&mut request.run_options.memo)
    }

    /// What a description holds of the workflow's own: its memo.
    pub fn description(&self, description: &mut Description) -> Coded {
        self.memo(&mut description.memo)
    }

    /// A schedule's action: the input and memo of the workflows it starts.
    pub fn schedule(&self, schedule: &mut Schedule) -> Coded {
        let ScheduleAction::StartWorkflow(action) = &mut schedule.action;
        self.list(&mut action.input)?;
        self.memo(&mut action.options.memo)
    }

    pub fn resolution(&self, resolution: &mut Resolution) -> Coded {
        match resolution {
            Resolution::Completed(p) => self.one(p),
            Resolution::Failed(f) => self.failure(f),
        }
    }

    pub fn result(&self, result: &mut Result<Payload, Failure>) -> Coded {
        match result {
            Ok(p) => self.one(p),
            Err(f) => self.failure(f),
        }
    }

    pub fn command(&self, command: &mut Command) -> Coded {
        match command {
            Command::ScheduleActivity(s) | Command::ScheduleLocalActivity(s) => {
                self.list(&mut s.input)
            }
            Command::RecordLocalActivityMarker { input, result, .. } => {
                self.list(input)?;
                self.resolution(result)
            }
            Command::RecordSideEffect { value, .. } => self.one(value),
            Command::UpdateResponse { response, .. } => match response {
                UpdateResponse::Accepted => Ok(()),
                UpdateResponse::Rejected(f) => self.failure(f),
                UpdateResponse::Completed(r) => self.result(r),
            },
            Command::CompleteWorkflow { result } => self.one(result),
            Command::FailWorkflow { failure } => self.failure(failure),
            Command::CancelWorkflow { details } => self.list(details),
            Command::ContinueAsNew { input } => self.list(input),
            Command::StartChildWorkflow(child) => {
                self.list(&mut child.input)?;
                self.memo(&mut child.run_options.memo)
            }
            Command::SignalExternalWorkflow { input, .. } => self.list(input),
            Command::CancelChildWorkflow { .. }
            | Command::RequestCancelExternalWorkflow { .. }
            | Command::SetPatchMarker { .. }
            | Command::StartTimer { .. }
            | Command::CancelTimer { .. }
            | Command::RequestCancelActivity { .. } => Ok(()),
            // Search attributes are indexed, not payloads: no codec sees
            // them (nor does Temporal's).
            Command::UpsertSearchAttributes { .. } => Ok(()),
        }
    }

    pub fn events(&self, events: &mut [Event]) -> Coded {
        events
            .iter_mut()
            .try_for_each(|e| self.event(&mut e.attributes))
    }

    fn event(&self, event: &mut EventAttributes) -> Coded {
        use EventAttributes as E;
        match event {
            E::WorkflowExecutionStarted { input, memo, .. } => {
                self.list(input)?;
                self.memo(memo)
            }
            E::ActivityTaskScheduled { input, .. }
            | E::StartChildWorkflowExecutionInitiated { input, .. }
            | E::SignalExternalWorkflowExecutionInitiated { input, .. }
            | E::WorkflowExecutionSignaled { input, .. }
            | E::WorkflowExecutionUpdateAccepted { input, .. }
            | E::WorkflowExecutionContinuedAsNew { input, .. } => self.list(input),
            E::ActivityTaskCanceled { details, .. }
            | E::WorkflowExecutionCanceled { details, .. }
            | E::ChildWorkflowExecutionCanceled { details, .. }
            | E::WorkflowExecutionTerminated { details, .. } => self.list(details),
            E::WorkflowTaskFailed { failure, .. }
            | E::ActivityTaskFailed { failure, .. }
            | E::ActivityTaskTimedOut { failure, .. }
            | E::WorkflowExecutionFailed { failure, .. }
            | E::ChildWorkflowExecutionFailed { failure, .. } => self.failure(failure),
            E::ActivityTaskStarted { last_failure, .. } => match last_failure {
                Some(f) => self.failure(f),
                None => Ok(()),
            },
            E::ActivityTaskCompleted { result, .. }
            | E::WorkflowExecutionCompleted { result, .. }
            | E::ChildWorkflowExecutionCompleted { result, .. } => self.one(result),
            E::MarkerRecorded {
                details, failure, ..
            } => {
                details.values_mut().try_for_each(|list| self.list(list))?;
                match failure {
                    Some(f) => self.failure(f),
                    None => Ok(()),
                }
            }
            E::WorkflowExecutionUpdateCompleted { outcome, .. } => self.result(outcome),
            E::WorkflowTaskScheduled { .. }
            | E::WorkflowTaskStarted { .. }
            | E::WorkflowTaskCompleted { .. }
            | E::WorkflowTaskTimedOut { .. }
            | E::TimerStarted { .. }
            | E::TimerFired { .. }
            | E::TimerCanceled { .. }
            | E::ActivityTaskCancelRequested { .. }
            | E::WorkflowExecutionCancelRequested { .. }
            | E::WorkflowExecutionTimedOut { .. }
            | E::StartChildWorkflowExecutionFailed { .. }
            | E::ChildWorkflowExecutionStarted { .. }
            | E::ChildWorkflowExecutionTerminated { .. }
            | E::ChildWorkflowExecutionTimedOut { .. }
            | E::SignalExternalWorkflowExecutionFailed { .. }
            | E::ExternalWorkflowExecutionSignaled { .. }
            | E::RequestCancelExternalWorkflowExecutionInitiated { .. }
            | E::RequestCancelExternalWorkflowExecutionFailed { .. }
            | E::ExternalWorkflowExecutionCancelRequested { .. }
            | E::UpsertWorkflowSearchAttributes { .. } => Ok(()),
        }
    }

    pub fn workflow_task(&self, task: &mut WorkflowTask) -> Coded {
        self.events(&mut task.events)?;
        for update in &mut task.updates {
            self.list(&mut update.input)?;
        }
        match &mut task.query {
            Some(query) => self.list(&mut query.input),
            None => Ok(()),
        }
    }

    pub fn activity_task(&self, task: &mut ActivityTask) -> Coded {
        self.list(&mut task.input)?;
        self.list(&mut task.heartbeat_details)
    }

    pub fn activity_result(&self, result: &mut ActivityTaskResult) -> Coded {
        match result {
            ActivityTaskResult::Completed(p) => self.one(p),
            ActivityTaskResult::Failed(f) => self.failure(f),
            ActivityTaskResult::Canceled(details) => self.list(details),
        }
    }

    pub fn outcome(&self, outcome: &mut RunOutcome) -> Coded {
        match outcome {
            RunOutcome::Completed(p) => self.one(p),
            RunOutcome::Failed(f)
            | RunOutcome::Canceled(f)
            | RunOutcome::Terminated(f)
            | RunOutcome::TimedOut(f)
            | RunOutcome::Retried { failure: f, .. } => self.failure(f),
            RunOutcome::ContinuedAsNew { .. } => Ok(()),
        }
    }

    /// Decodes the failure a query or update error carries.
    pub fn error(&self, error: &mut BackendError) -> Coded {
        match error {
            BackendError::QueryFailed(f) | BackendError::UpdateFailed(f) => self.failure(f),
            _ => Ok(()),
        }
    }
}
