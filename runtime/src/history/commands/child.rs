//! Child workflows: `StartChildWorkflow` becomes
//! `StartChildWorkflowExecutionInitiated`; the engine then starts the
//! child and writes `ChildWorkflowExecutionStarted` (or
//! `StartChildWorkflowExecutionFailed`) and, when the child closes, its
//! closing event, which resolve the child. `CancelChildWorkflow` becomes a
//! `RequestCancelExternalWorkflowExecutionInitiated` naming the child, as
//! in Temporal.

use super::{At, RunView};
use crate::failure::{CanceledError, ChildWorkflowError, Failure, RetryState, TerminatedError};
use crate::history::{Event, EventAttributes};
use crate::protocol::{ChildStart, Resolution, StartChild};

/// A child that can still be cancelled.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct OpenChild {
    pub workflow_id: String,
    /// Its run, once started.
    pub run_id: Option<String>,
}

/// What replay knows of a child the code started.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct InitiatedChild {
    pub seq: u32,
    pub workflow_id: String,
    pub workflow_type: String,
}

pub(super) fn initiated(sc: &StartChild, run: &impl RunView, at: At) -> EventAttributes {
    let task_queue = if sc.task_queue.is_empty() {
        run.task_queue().to_string()
    } else {
        sc.task_queue.clone()
    };
    EventAttributes::StartChildWorkflowExecutionInitiated {
        workflow_id: sc.workflow_id.clone(),
        workflow_type: sc.workflow_type.clone(),
        task_queue,
        input: sc.input.clone(),
        parent_close_policy: sc.parent_close_policy,
        workflow_id_reuse_policy: sc.id_reuse_policy,
        workflow_task_completed_event_id: at.completed,
    }
}

/// Whether `event` starts this child: same id, type and input.
pub(super) fn matches_initiated(sc: &StartChild, event: &Event) -> bool {
    matches!(
        &event.attributes,
        EventAttributes::StartChildWorkflowExecutionInitiated { workflow_id, workflow_type, input, .. }
            if *workflow_id == sc.workflow_id
                && *workflow_type == sc.workflow_type
                && super::arguments::same(input, &sc.input)
    )
}

/// The request to cancel a child, or none when it is over already.
pub(super) fn cancel_requested(seq: u32, run: &impl RunView, at: At) -> Option<EventAttributes> {
    let child = run.child(seq)?;
    Some(
        EventAttributes::RequestCancelExternalWorkflowExecutionInitiated {
            workflow_id: child.workflow_id,
            run_id: child.run_id,
            child_workflow_only: true,
            workflow_task_completed_event_id: at.completed,
        },
    )
}

pub(super) fn matches_cancel(seq: u32, event: &Event, run: &impl RunView) -> bool {
    let Some(child) = run.child(seq) else {
        return false;
    };
    matches!(
        &event.attributes,
        EventAttributes::RequestCancelExternalWorkflowExecutionInitiated {
            workflow_id,
            child_workflow_only: true,
            ..
        } if *workflow_id == child.workflow_id
    )
}

/// The child's `StartChildWorkflowExecutionInitiated` event an event
/// about it names, if it names one.
pub(crate) fn initiated_event_of(event: &Event) -> Option<i64> {
    match &event.attributes {
        EventAttributes::StartChildWorkflowExecutionFailed {
            initiated_event_id, ..
        }
        | EventAttributes::ChildWorkflowExecutionStarted {
            initiated_event_id, ..
        }
        | EventAttributes::ChildWorkflowExecutionCompleted {
            initiated_event_id, ..
        }
        | EventAttributes::ChildWorkflowExecutionFailed {
            initiated_event_id, ..
        }
        | EventAttributes::ChildWorkflowExecutionCanceled {
            initiated_event_id, ..
        }
        | EventAttributes::ChildWorkflowExecutionTerminated {
            initiated_event_id, ..
        }
        | EventAttributes::ChildWorkflowExecutionTimedOut {
            initiated_event_id, ..
        } => Some(*initiated_event_id),
        _ => None,
    }
}

/// Whether the event closes a child (not its start).
pub(crate) fn closes_child(event: &Event) -> bool {
    initiated_event_of(event).is_some()
        && !matches!(
            event.attributes,
            EventAttributes::ChildWorkflowExecutionStarted { .. }
        )
}

/// How the workflow sees a start's outcome.
pub(crate) fn start_resolution(attributes: &EventAttributes) -> Option<ChildStart> {
    match attributes {
        EventAttributes::ChildWorkflowExecutionStarted { run_id, .. } => {
            Some(ChildStart::Started {
                run_id: run_id.clone(),
            })
        }
        EventAttributes::StartChildWorkflowExecutionFailed { .. } => {
            Some(ChildStart::AlreadyExists)
        }
        _ => None,
    }
}

/// How the workflow sees a child's closing event: its result, or a
/// [`ChildWorkflowError`] naming the child with the cause.
pub(crate) fn resolution(attributes: &EventAttributes) -> Option<Resolution> {
    if let EventAttributes::ChildWorkflowExecutionCompleted { result, .. } = attributes {
        return Some(Resolution::Completed(result.clone()));
    }
    let (names, message, retry_state, cause) = unsuccessful(attributes)?;
    let (workflow_id, run_id, workflow_type) = names;
    Some(Resolution::Failed(Failure::ChildWorkflow(Box::new(
        ChildWorkflowError {
            message: message.to_string(),
            workflow_id: workflow_id.clone(),
            run_id: run_id.clone(),
            workflow_type: workflow_type.clone(),
            retry_state,
            cause: Box::new(cause),
        },
    ))))
}

/// A child's workflow id, run id and type.
type ChildNames<'a> = (&'a String, &'a String, &'a String);

/// A child's close other than success: the child, Temporal's message for
/// it, its retry state and the cause.
fn unsuccessful(
    attributes: &EventAttributes,
) -> Option<(ChildNames<'_>, &'static str, RetryState, Failure)> {
    Some(match attributes {
        EventAttributes::ChildWorkflowExecutionFailed {
            workflow_id,
            run_id,
            workflow_type,
            failure,
            retry_state,
            ..
        } => (
            (workflow_id, run_id, workflow_type),
            "Child Workflow execution failed",
            *retry_state,
            failure.clone(),
        ),
        EventAttributes::ChildWorkflowExecutionCanceled {
            workflow_id,
            run_id,
            workflow_type,
            details,
            ..
        } => (
            (workflow_id, run_id, workflow_type),
            "Child Workflow execution cancelled",
            RetryState::NonRetryableFailure,
            Failure::Canceled(CanceledError {
                message: "Cancelled".into(),
                details: details.clone(),
            }),
        ),
        EventAttributes::ChildWorkflowExecutionTerminated {
            workflow_id,
            run_id,
            workflow_type,
            ..
        } => (
            (workflow_id, run_id, workflow_type),
            "Child Workflow execution terminated",
            RetryState::NonRetryableFailure,
            Failure::Terminated(TerminatedError {
                reason: "Terminated".into(),
            }),
        ),
        EventAttributes::ChildWorkflowExecutionTimedOut {
            workflow_id,
            run_id,
            workflow_type,
            retry_state,
            ..
        } => (
            (workflow_id, run_id, workflow_type),
            "Child Workflow execution timed out",
            *retry_state,
            Failure::Timeout(crate::failure::TimeoutError {
                timeout_type: crate::failure::TimeoutType::WorkflowRun,
                last_heartbeat_details: Vec::new(),
            }),
        ),
        _ => return None,
    })
}
