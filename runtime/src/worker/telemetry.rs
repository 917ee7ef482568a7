//! What a worker records: workflow task and activity outcomes and
//! latencies, cache lookups (into the connection's metrics, when it has
//! them), and the facts an activity's context carries.

use std::time::{Duration, Instant};

use super::Shared;
use crate::activity::ActivityInfo;
use crate::backend::{ActivityTask, ActivityTaskResult, WorkflowTask};
use crate::failure::Failure;
use crate::protocol::Command;
use crate::telemetry::sdk::{ActivityLabels, Closed, QueueLabels, WorkflowLabels};
use crate::workflow::error::TaskError;

fn workflow_labels(shared: &Shared, workflow_type: &str) -> WorkflowLabels {
    WorkflowLabels {
        namespace: shared.namespace.clone(),
        task_queue: shared.task_queue.clone(),
        workflow_type: workflow_type.to_string(),
    }
}

pub(super) fn queue_labels(shared: &Shared) -> QueueLabels {
    QueueLabels {
        namespace: shared.namespace.clone(),
        task_queue: shared.task_queue.clone(),
    }
}

/// A workflow task's completion, once the backend answered it: its
/// latency, and the run's close when its commands closed it.
pub(super) fn task_completed(
    shared: &Shared,
    task: &WorkflowTask,
    closed: Option<Closed>,
    accepted: bool,
    started: Instant,
) {
    let Some(metrics) = &shared.metrics else {
        return;
    };
    let labels = workflow_labels(shared, &task.workflow_type);
    metrics.sdk().workflow_task(&labels, started.elapsed());
    if let (true, Some(how)) = (accepted, closed) {
        metrics.sdk().workflow_closed(&labels, how);
    }
}

/// How a task's commands close the run, if they do.
pub(super) fn closed(commands: &[Command]) -> Option<Closed> {
    commands.iter().find_map(|c| match c {
        Command::CompleteWorkflow { .. } => Some(Closed::Completed),
        Command::FailWorkflow { .. } => Some(Closed::Failed),
        Command::CancelWorkflow { .. } => Some(Closed::Canceled),
        Command::ContinueAsNew { .. } => Some(Closed::ContinuedAsNew),
        _ => None,
    })
}

/// A workflow task that failed.
pub(super) fn task_failed(
    shared: &Shared,
    task: &WorkflowTask,
    error: &TaskError,
    started: Instant,
) {
    let Some(metrics) = &shared.metrics else {
        return;
    };
    let labels = workflow_labels(shared, &task.workflow_type);
    metrics.sdk().workflow_task(&labels, started.elapsed());
    let reason = if error.nondeterminism {
        "NondeterminismError"
    } else {
        "WorkflowError"
    };
    metrics.sdk().workflow_task_failed(&labels, reason);
}

/// Whether a workflow task found its run in the cache.
pub(super) fn cache_lookup(shared: &Shared, hit: bool) {
    if let Some(metrics) = &shared.metrics {
        metrics.sdk().cache_lookup(&queue_labels(shared), hit);
    }
}

/// The facts an attempt's context carries.
pub(super) fn activity_info(shared: &Shared, task: &ActivityTask) -> ActivityInfo {
    ActivityInfo {
        activity_id: task.activity_id.clone(),
        activity_type: task.activity_type.clone(),
        workflow_id: task.workflow_id.clone(),
        workflow_run_id: task.token.run_id.clone(),
        workflow_type: task.workflow_type.clone(),
        namespace: shared.namespace.clone(),
        task_queue: shared.task_queue.clone(),
        attempt: task.attempt,
        is_local: false,
        scheduled_time: task.scheduled_time,
        started_time: task.started_time,
    }
}

/// An attempt taken from the queue: how long it waited there.
pub(super) fn activity_started(shared: &Shared, task: &ActivityTask) {
    if let Some(metrics) = &shared.metrics {
        let waited = task
            .started_time
            .duration_since(task.scheduled_time)
            .unwrap_or(Duration::ZERO);
        metrics
            .sdk()
            .activity_started(&queue_labels(shared), waited);
    }
}

/// An attempt's end: how long it ran, and why it failed if it did.
pub(super) fn activity_finished(
    shared: &Shared,
    task: &ActivityTask,
    took: Duration,
    result: &ActivityTaskResult,
) {
    let Some(metrics) = &shared.metrics else {
        return;
    };
    let labels = ActivityLabels {
        namespace: shared.namespace.clone(),
        task_queue: shared.task_queue.clone(),
        activity_type: task.activity_type.clone(),
        workflow_type: task.workflow_type.clone(),
    };
    let reason = match result {
        ActivityTaskResult::Failed(failure) => Some(failure_reason(failure)),
        ActivityTaskResult::Completed(_) | ActivityTaskResult::Canceled(_) => None,
    };
    metrics.sdk().activity_finished(&labels, took, reason);
}

/// The application error's type when it has one, else the failure's kind.
fn failure_reason(failure: &Failure) -> &str {
    match failure {
        Failure::Application(e) if !e.type_name.is_empty() => &e.type_name,
        Failure::Application(_) => "ApplicationError",
        Failure::Timeout(_) => "TimeoutError",
        Failure::Canceled(_) => "CanceledError",
        Failure::Activity(_) => "ActivityError",
        Failure::ChildWorkflow(_) => "ChildWorkflowError",
        Failure::Terminated(_) => "TerminatedError",
        Failure::Server(_) => "ServerError",
    }
}
