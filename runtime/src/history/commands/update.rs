//! Updates: an accepted update becomes `WorkflowExecutionUpdateAccepted`
//! (with its name, input and sequencing event, so replay delivers it where
//! it arrived), a finished one `WorkflowExecutionUpdateCompleted`; a
//! rejection writes nothing.

use super::{At, RunView};
use crate::failure::Failure;
use crate::history::{Event, EventAttributes, UNSEQUENCED};
use crate::protocol::UpdateResponse;

pub(super) fn recorded(
    id: &str,
    response: &UpdateResponse,
    run: &impl RunView,
    at: At,
) -> Option<EventAttributes> {
    match response {
        UpdateResponse::Rejected(_) => None,
        UpdateResponse::Accepted => {
            let delivered = run.update(id);
            Some(EventAttributes::WorkflowExecutionUpdateAccepted {
                update_id: id.to_string(),
                name: delivered.map(|d| d.name.to_string()).unwrap_or_default(),
                input: delivered.map(|d| d.input.to_vec()).unwrap_or_default(),
                workflow_task_completed_event_id: at.completed,
                accepted_request_sequencing_event_id: delivered
                    .map_or(UNSEQUENCED, |d| d.sequencing_event_id),
            })
        }
        UpdateResponse::Completed(outcome) => {
            Some(EventAttributes::WorkflowExecutionUpdateCompleted {
                update_id: id.to_string(),
                outcome: outcome.clone().map_err(Failure::truncated),
                workflow_task_completed_event_id: at.completed,
            })
        }
    }
}

pub(super) fn matches(id: &str, response: &UpdateResponse, event: &Event) -> bool {
    match (response, &event.attributes) {
        (
            UpdateResponse::Accepted,
            EventAttributes::WorkflowExecutionUpdateAccepted { update_id, .. },
        )
        | (
            UpdateResponse::Completed(_),
            EventAttributes::WorkflowExecutionUpdateCompleted { update_id, .. },
        ) => update_id == id,
        _ => false,
    }
}
