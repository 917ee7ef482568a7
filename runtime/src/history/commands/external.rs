//! Reaching other workflows from workflow code: `SignalExternalWorkflow`
//! becomes `SignalExternalWorkflowExecutionInitiated`, resolved by
//! `ExternalWorkflowExecutionSignaled` or
//! `SignalExternalWorkflowExecutionFailed`; `RequestCancelExternalWorkflow`
//! becomes `RequestCancelExternalWorkflowExecutionInitiated`, resolved by
//! `ExternalWorkflowExecutionCancelRequested` or
//! `RequestCancelExternalWorkflowExecutionFailed`.

use super::At;
use crate::converter::Payload;
use crate::failure::{ApplicationError, Failure};
use crate::history::{Event, EventAttributes};
use crate::protocol::ExternalTarget;

/// The type of the error a workflow gets when the workflow it signals or
/// cancels does not exist (Temporal's).
const NOT_FOUND: &str = "ExternalWorkflowExecutionNotFound";

pub(super) fn signal_initiated(
    target: &ExternalTarget,
    signal_name: &str,
    input: &[Payload],
    at: At,
) -> EventAttributes {
    EventAttributes::SignalExternalWorkflowExecutionInitiated {
        workflow_id: target.workflow_id.clone(),
        run_id: target.run_id.clone(),
        signal_name: signal_name.to_string(),
        input: input.to_vec(),
        child_workflow_only: target.child_workflow_only,
        workflow_task_completed_event_id: at.completed,
    }
}

/// Whether `event` sends this signal: same target, name and input.
pub(super) fn matches_signal(
    target: &ExternalTarget,
    signal_name: &str,
    input: &[Payload],
    event: &Event,
) -> bool {
    matches!(
        &event.attributes,
        EventAttributes::SignalExternalWorkflowExecutionInitiated {
            workflow_id,
            signal_name: name,
            input: recorded,
            ..
        } if *workflow_id == target.workflow_id
            && name == signal_name
            && super::arguments::same(recorded, input)
    )
}

pub(super) fn cancel_initiated(target: &ExternalTarget, at: At) -> EventAttributes {
    EventAttributes::RequestCancelExternalWorkflowExecutionInitiated {
        workflow_id: target.workflow_id.clone(),
        run_id: target.run_id.clone(),
        child_workflow_only: target.child_workflow_only,
        workflow_task_completed_event_id: at.completed,
    }
}

pub(super) fn matches_cancel(target: &ExternalTarget, event: &Event) -> bool {
    matches!(
        &event.attributes,
        EventAttributes::RequestCancelExternalWorkflowExecutionInitiated { workflow_id, .. }
            if *workflow_id == target.workflow_id
    )
}

/// The initiated event an outcome names: `(initiated event, whether it is
/// a signal's)` (else a cancel request's).
pub(crate) fn outcome_of(event: &Event) -> Option<(i64, bool)> {
    match &event.attributes {
        EventAttributes::ExternalWorkflowExecutionSignaled {
            initiated_event_id, ..
        }
        | EventAttributes::SignalExternalWorkflowExecutionFailed {
            initiated_event_id, ..
        } => Some((*initiated_event_id, true)),
        EventAttributes::ExternalWorkflowExecutionCancelRequested {
            initiated_event_id, ..
        }
        | EventAttributes::RequestCancelExternalWorkflowExecutionFailed {
            initiated_event_id,
            ..
        } => Some((*initiated_event_id, false)),
        _ => None,
    }
}

/// How the workflow sees an outcome: `None` when it went through, else the
/// error (Temporal's type and wording).
pub(crate) fn failure(attributes: &EventAttributes) -> Option<Failure> {
    let message = match attributes {
        EventAttributes::SignalExternalWorkflowExecutionFailed { .. } => {
            "Unable to signal external workflow because it was not found"
        }
        EventAttributes::RequestCancelExternalWorkflowExecutionFailed { .. } => {
            "Unable to cancel external workflow because not found"
        }
        _ => return None,
    };
    Some(ApplicationError::new(message).with_type(NOT_FOUND).into())
}
