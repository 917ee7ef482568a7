//! A run's continue-as-new (and retry) chain on Temporal, for `describe`:
//! its attempt, from its start event; the runs before it, read back
//! through each run's start event (`continued_execution_run_id`); and the
//! run that took over from it, from its close event
//! (`new_execution_run_id`).

use temporalio_client::tonic::Request;
use temporalio_common::protos::temporal::api::enums::v1 as enums;
use temporalio_common::protos::temporal::api::history::v1::{
    HistoryEvent, history_event::Attributes as A,
};
use temporalio_common::protos::temporal::api::workflowservice::v1 as ws;

use super::client::{TemporalBackend, execution, status_error};
use crate::backend::{BackendError, Description, RunStatus};

/// How many runs back `describe` follows a chain. A longer chain's
/// description starts at the run this many before the one described (the
/// chain's first run id still addresses it: Temporal resolves that).
pub(super) const MAX_CHAIN: usize = 1_000;

/// Fills `attempt` (from the run's start event), `run_chain` (oldest
/// first, this run included) and `next_run_id`.
pub(super) async fn fill(
    backend: &TemporalBackend,
    namespace: &str,
    description: &mut Description,
    first_run_id: &str,
) -> Result<(), BackendError> {
    let workflow_id = description.workflow_id.clone();
    let mut chain = vec![description.run_id.clone()];
    let mut current = description.run_id.clone();
    loop {
        let start = first_event(backend, namespace, &workflow_id, &current, false).await?;
        let Some(A::WorkflowExecutionStartedEventAttributes(a)) = start.and_then(|e| e.attributes)
        else {
            break;
        };
        if chain.len() == 1 {
            description.attempt = u32::try_from(a.attempt).unwrap_or(1).max(1);
        }
        if current == first_run_id
            || a.continued_execution_run_id.is_empty()
            || chain.len() >= MAX_CHAIN
        {
            break;
        }
        current = a.continued_execution_run_id;
        chain.push(current.clone());
    }
    chain.reverse();
    description.run_chain = chain;
    if took_over(description.status) {
        let close =
            first_event(backend, namespace, &workflow_id, &description.run_id, true).await?;
        description.next_run_id = close.and_then(|e| next_run(e.attributes?));
    }
    Ok(())
}

/// Whether a run in this state may have a successor.
fn took_over(status: RunStatus) -> bool {
    matches!(
        status,
        RunStatus::ContinuedAsNew | RunStatus::Failed | RunStatus::TimedOut
    )
}

/// The run a close event names as the next of the chain.
fn next_run(attributes: A) -> Option<String> {
    let id = match attributes {
        A::WorkflowExecutionContinuedAsNewEventAttributes(a) => a.new_execution_run_id,
        A::WorkflowExecutionFailedEventAttributes(a) => a.new_execution_run_id,
        A::WorkflowExecutionTimedOutEventAttributes(a) => a.new_execution_run_id,
        _ => return None,
    };
    (!id.is_empty()).then_some(id)
}

/// A run's first event, or with `close` its close event.
async fn first_event(
    backend: &TemporalBackend,
    namespace: &str,
    workflow_id: &str,
    run_id: &str,
    close: bool,
) -> Result<Option<HistoryEvent>, BackendError> {
    let filter = if close {
        enums::HistoryEventFilterType::CloseEvent
    } else {
        enums::HistoryEventFilterType::AllEvent
    };
    let request = ws::GetWorkflowExecutionHistoryRequest {
        namespace: namespace.to_string(),
        execution: Some(execution(workflow_id, Some(run_id))),
        maximum_page_size: 1,
        history_event_filter_type: filter as i32,
        ..Default::default()
    };
    let response = backend
        .service()
        .get_workflow_execution_history(Request::new(request))
        .await
        .map_err(|s| status_error(&s, workflow_id, Some(run_id)))?
        .into_inner();
    Ok(response.history.and_then(|h| h.events.into_iter().next()))
}

#[cfg(test)]
mod tests {
    use temporalio_common::protos::temporal::api::history::v1 as history;

    use super::*;

    #[test]
    fn a_close_event_names_its_successor() {
        let can = A::WorkflowExecutionContinuedAsNewEventAttributes(
            history::WorkflowExecutionContinuedAsNewEventAttributes {
                new_execution_run_id: "r2".into(),
                ..Default::default()
            },
        );
        assert_eq!(next_run(can), Some("r2".into()));
        let failed_for_good = A::WorkflowExecutionFailedEventAttributes(Default::default());
        assert_eq!(next_run(failed_for_good), None);
        let completed = A::WorkflowExecutionCompletedEventAttributes(Default::default());
        assert_eq!(next_run(completed), None);
    }
}
