//! The commands that close a run: each becomes the run's closing event.

use super::{At, RunView};
use crate::failure::RetryState;
use crate::history::{Event, EventAttributes};
use crate::protocol::Command;

pub(super) fn closed(command: &Command, run: &impl RunView, at: At) -> Option<EventAttributes> {
    let completed = at.completed;
    Some(match command {
        Command::CompleteWorkflow { result } => EventAttributes::WorkflowExecutionCompleted {
            result: result.clone(),
            workflow_task_completed_event_id: completed,
        },
        Command::FailWorkflow { failure } => {
            let retry_state = run.retry_state(failure);
            let retried = retry_state == RetryState::InProgress;
            EventAttributes::WorkflowExecutionFailed {
                failure: failure.clone().truncated(),
                retry_state,
                workflow_task_completed_event_id: completed,
                new_execution_run_id: retried.then(|| run.next_run_id().to_string()),
            }
        }
        Command::CancelWorkflow { details } => EventAttributes::WorkflowExecutionCanceled {
            details: details.clone(),
            workflow_task_completed_event_id: completed,
        },
        Command::ContinueAsNew { input } => EventAttributes::WorkflowExecutionContinuedAsNew {
            new_execution_run_id: run.next_run_id().to_string(),
            workflow_type: run.workflow_type().to_string(),
            task_queue: run.task_queue().to_string(),
            input: input.clone(),
            workflow_task_completed_event_id: completed,
        },
        _ => return None,
    })
}

/// Whether `event` closes the run the way `command` does. Only the kind
/// is compared: a run that closed differently on replay has nothing left
/// to run, and its recorded outcome stands.
pub(super) fn matches(command: &Command, event: &Event) -> bool {
    matches!(
        (command, &event.attributes),
        (
            Command::CompleteWorkflow { .. },
            EventAttributes::WorkflowExecutionCompleted { .. }
        ) | (
            Command::FailWorkflow { .. },
            EventAttributes::WorkflowExecutionFailed { .. }
        ) | (
            Command::CancelWorkflow { .. },
            EventAttributes::WorkflowExecutionCanceled { .. }
        ) | (
            Command::ContinueAsNew { .. },
            EventAttributes::WorkflowExecutionContinuedAsNew { .. }
        )
    )
}
