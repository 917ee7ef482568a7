//! Reading runs on Temporal: `describe` from `DescribeWorkflowExecution`,
//! history from `GetWorkflowExecutionHistory` (as weft events).

use std::time::SystemTime;

use temporalio_client::tonic::Request;
use temporalio_common::protos::temporal::api::enums::v1 as enums;
use temporalio_common::protos::temporal::api::workflow::v1 as workflow;
use temporalio_common::protos::temporal::api::workflowservice::v1 as ws;

use super::client::{TemporalBackend, execution, status_error};
use super::convert::{memo_from, time_from};
use super::events::parent_close_policy_from;
use super::search::search_attributes_from;
use crate::backend::{
    BackendError, Description, PendingActivityDescription, PendingActivityState,
    PendingChildDescription, RunStatus,
};
use crate::history::Event;

/// A run status as Temporal numbers it.
pub(super) fn status_from(s: i32) -> RunStatus {
    match enums::WorkflowExecutionStatus::try_from(s) {
        Ok(enums::WorkflowExecutionStatus::Completed) => RunStatus::Completed,
        Ok(enums::WorkflowExecutionStatus::Failed) => RunStatus::Failed,
        Ok(enums::WorkflowExecutionStatus::Canceled) => RunStatus::Canceled,
        Ok(enums::WorkflowExecutionStatus::Terminated) => RunStatus::Terminated,
        Ok(enums::WorkflowExecutionStatus::ContinuedAsNew) => RunStatus::ContinuedAsNew,
        Ok(enums::WorkflowExecutionStatus::TimedOut) => RunStatus::TimedOut,
        _ => RunStatus::Running,
    }
}

fn pending_activity(a: workflow::PendingActivityInfo, queue: &str) -> PendingActivityDescription {
    PendingActivityDescription {
        activity_id: a.activity_id,
        activity_type: a.activity_type.map(|t| t.name).unwrap_or_default(),
        task_queue: queue.to_string(),
        state: match enums::PendingActivityState::try_from(a.state) {
            Ok(enums::PendingActivityState::Started) => PendingActivityState::Started(
                time_from(a.last_started_time).unwrap_or(SystemTime::UNIX_EPOCH),
            ),
            _ => PendingActivityState::Scheduled,
        },
        attempt: u32::try_from(a.attempt).unwrap_or(1),
        last_failure: a.last_failure.map(|f| f.message),
        last_heartbeat: time_from(a.last_heartbeat_time),
    }
}

fn pending_child(c: workflow::PendingChildExecutionInfo) -> PendingChildDescription {
    PendingChildDescription {
        workflow_id: c.workflow_id,
        run_id: c.run_id,
        workflow_type: c.workflow_type_name,
        parent_close_policy: parent_close_policy_from(c.parent_close_policy),
    }
}

pub(super) async fn describe(
    backend: &TemporalBackend,
    namespace: &str,
    workflow_id: &str,
    run_id: Option<&str>,
) -> Result<Description, BackendError> {
    let request = ws::DescribeWorkflowExecutionRequest {
        namespace: namespace.to_string(),
        execution: Some(execution(workflow_id, run_id)),
    };
    let response = backend
        .service()
        .describe_workflow_execution(Request::new(request))
        .await
        .map_err(|s| status_error(&s, workflow_id, run_id))?
        .into_inner();
    let info = response.workflow_execution_info.unwrap_or_default();
    let exec = info.execution.clone().unwrap_or_default();
    let activities: Vec<_> = response
        .pending_activities
        .into_iter()
        .map(|a| pending_activity(a, &info.task_queue))
        .collect();
    let memo = memo_from(info.memo);
    let first_run_id = info.first_run_id;
    let mut description = Description {
        workflow_id: exec.workflow_id,
        run_id: exec.run_id,
        workflow_type: info.r#type.map(|t| t.name).unwrap_or_default(),
        task_queue: info.task_queue,
        status: status_from(info.status),
        history_length: u64::try_from(info.history_length).unwrap_or(0),
        pending_activities: activities.len(),
        activities,
        warnings: Vec::new(),
        workflow_task_attempt: response
            .pending_workflow_task
            .map(|t| u32::try_from(t.attempt).unwrap_or(1))
            .unwrap_or(0),
        last_workflow_task_failure: None,
        run_chain: Vec::new(),
        next_run_id: None,
        start_time: time_from(info.start_time).unwrap_or(SystemTime::UNIX_EPOCH),
        close_time: time_from(info.close_time),
        attempt: 1,
        pending_children: response.pending_children.len(),
        children: response
            .pending_children
            .into_iter()
            .map(pending_child)
            .collect(),
        memo,
        search_attributes: search_attributes_from(info.search_attributes),
    };
    super::chain::fill(backend, namespace, &mut description, &first_run_id).await?;
    Ok(description)
}

pub(super) async fn history(
    backend: &TemporalBackend,
    namespace: &str,
    workflow_id: &str,
    run_id: Option<&str>,
) -> Result<Vec<Event>, BackendError> {
    let mut events = Vec::new();
    let mut token = Vec::new();
    loop {
        let request = ws::GetWorkflowExecutionHistoryRequest {
            namespace: namespace.to_string(),
            execution: Some(execution(workflow_id, run_id)),
            next_page_token: token,
            ..Default::default()
        };
        let response = backend
            .service()
            .get_workflow_execution_history(Request::new(request))
            .await
            .map_err(|s| status_error(&s, workflow_id, run_id))?
            .into_inner();
        events.extend(response.history.map(|h| h.events).unwrap_or_default());
        if response.next_page_token.is_empty() {
            break;
        }
        token = response.next_page_token;
    }
    Ok(super::events::events_from(events))
}
