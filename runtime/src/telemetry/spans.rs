//! The `tracing` spans of workflow tasks and activity attempts. Their
//! `otel.name` follows Temporal's tracing interceptors (`RunWorkflow:Type`,
//! `RunActivity:type`), so a trace reads the same in the tools people
//! already run; the fields say which run and attempt it is.

use tracing::Span;

use crate::backend::{ActivityTask, WorkflowTask};

/// The span of one workflow task (or query task) of a run.
pub(crate) fn workflow_task(namespace: &str, task_queue: &str, task: &WorkflowTask) -> Span {
    let span = match &task.query {
        Some(query) => tracing::info_span!(
            "query_task",
            otel.name = %format_args!("HandleQuery:{}", query.query_name),
            namespace,
            task_queue,
            workflow_type = %task.workflow_type,
            workflow_id = %task.workflow_id,
            run_id = %task.token.run_id,
        ),
        None => tracing::info_span!(
            "workflow_task",
            otel.name = %format_args!("RunWorkflow:{}", task.workflow_type),
            namespace,
            task_queue,
            workflow_type = %task.workflow_type,
            workflow_id = %task.workflow_id,
            run_id = %task.token.run_id,
            attempt = task.attempt,
        ),
    };
    join_run(&span, &task.token.run_id);
    span
}

/// The span of one activity attempt.
pub(crate) fn activity(namespace: &str, task_queue: &str, task: &ActivityTask) -> Span {
    let span = tracing::info_span!(
        "activity",
        otel.name = %format_args!("RunActivity:{}", task.activity_type),
        namespace,
        task_queue,
        workflow_type = %task.workflow_type,
        workflow_id = %task.workflow_id,
        run_id = %task.token.run_id,
        activity_id = %task.activity_id,
        activity_type = %task.activity_type,
        attempt = task.attempt,
    );
    join_run(&span, &task.token.run_id);
    span
}

#[cfg(feature = "opentelemetry")]
fn join_run(span: &Span, run_id: &str) {
    super::opentelemetry::join_run_trace(span, run_id);
}

#[cfg(not(feature = "opentelemetry"))]
fn join_run(_: &Span, _: &str) {}
