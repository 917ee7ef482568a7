//! weft's commands as Temporal core's workflow commands. The executor
//! numbers commands per kind exactly as core expects (`seq` per family),
//! so the mapping is one to one, except for what core does itself: local
//! activity markers (core records them), and side effects, which core has
//! no command for and which go out as local activities (`side_effects`).

use std::time::Duration;

use temporalio_common::protos::coresdk::child_workflow as child;
use temporalio_common::protos::coresdk::common::NamespacedWorkflowExecution;
use temporalio_common::protos::coresdk::workflow_commands::{
    self as wc, signal_external_workflow_execution::Target, update_response,
    workflow_command::Variant,
};
use temporalio_common::protos::temporal::api::enums::v1 as enums;

use super::convert::{
    duration_to, failure_to, memo_fields_to, opt_duration_to, payload_to, payloads_to, retry_to,
    some_payloads,
};
use super::search::search_attributes_to;
use super::side_effects;
use crate::protocol::{
    ActivityCancellationType, ChildCancellationType, Command, ExternalTarget, IdReusePolicy,
    ParentClosePolicy, ScheduleActivity, StartChild, UpdateResponse,
};
use crate::workflow::error::TaskError;

/// Local activities retry inside core up to this backoff; a longer one
/// would need a workflow timer, which weft's executor does not schedule.
const LOCAL_RETRY_THRESHOLD: Duration = Duration::from_secs(24 * 3600);

/// What a run's commands need from the run itself.
pub(crate) struct RunContext<'a> {
    pub namespace: &'a str,
    pub task_queue: &'a str,
    pub workflow_type: &'a str,
    /// Whether the activation that produced the commands was replaying.
    pub replaying: bool,
}

/// Converts a run's commands, in order.
pub(crate) fn commands_to_core(
    run: &RunContext<'_>,
    commands: Vec<Command>,
) -> Result<Vec<Variant>, TaskError> {
    let mut out = Vec::with_capacity(commands.len());
    for command in commands {
        if let Some(variant) = command_to_core(run, command)? {
            out.push(variant);
        }
    }
    Ok(out)
}

fn command_to_core(run: &RunContext<'_>, command: Command) -> Result<Option<Variant>, TaskError> {
    let variant = match command {
        Command::ScheduleActivity(a) => Variant::ScheduleActivity(schedule_activity(run, a)),
        Command::ScheduleLocalActivity(a) => {
            side_effects::check_local_activity_type(&a.activity_type)?;
            Variant::ScheduleLocalActivity(local_activity(a))
        }
        // Core records local activity markers itself.
        Command::RecordLocalActivityMarker { .. } => return Ok(None),
        Command::RecordSideEffect { seq, value } => {
            Variant::ScheduleLocalActivity(side_effects::schedule(seq, &value, run.replaying)?)
        }
        Command::SetPatchMarker {
            patch_id,
            deprecated,
        } => Variant::SetPatchMarker(wc::SetPatchMarker {
            patch_id,
            deprecated,
        }),
        Command::StartTimer { seq, duration } => Variant::StartTimer(wc::StartTimer {
            seq,
            start_to_fire_timeout: duration_to(duration),
        }),
        Command::CancelTimer { seq } => Variant::CancelTimer(wc::CancelTimer { seq }),
        Command::RequestCancelActivity { seq } => {
            Variant::RequestCancelActivity(wc::RequestCancelActivity { seq })
        }
        Command::CompleteWorkflow { result } => {
            Variant::CompleteWorkflowExecution(wc::CompleteWorkflowExecution {
                result: Some(payload_to(&result)),
            })
        }
        Command::FailWorkflow { failure } => {
            Variant::FailWorkflowExecution(wc::FailWorkflowExecution {
                failure: Some(failure_to(&failure)),
            })
        }
        Command::CancelWorkflow { details } => {
            Variant::CancelWorkflowExecution(wc::CancelWorkflowExecution {
                details: some_payloads(&details),
            })
        }
        Command::UpsertSearchAttributes { updates } => {
            Variant::UpsertWorkflowSearchAttributes(wc::UpsertWorkflowSearchAttributes {
                search_attributes: Some(search_attributes_to(
                    updates.iter().map(|u| (u.name.as_str(), u.value.as_ref())),
                )),
            })
        }
        Command::ContinueAsNew { input } => {
            Variant::ContinueAsNewWorkflowExecution(wc::ContinueAsNewWorkflowExecution {
                workflow_type: run.workflow_type.to_string(),
                task_queue: run.task_queue.to_string(),
                arguments: payloads_to(&input),
                ..Default::default()
            })
        }
        other => messages_to_core(run, other)?,
    };
    Ok(Some(variant))
}

/// Commands that reach other workflows or answer messages.
fn messages_to_core(run: &RunContext<'_>, command: Command) -> Result<Variant, TaskError> {
    Ok(match command {
        Command::StartChildWorkflow(c) => Variant::StartChildWorkflowExecution(start_child(run, c)),
        Command::CancelChildWorkflow { seq } => {
            Variant::CancelChildWorkflowExecution(wc::CancelChildWorkflowExecution {
                child_workflow_seq: seq,
                reason: "the parent asked its child to cancel".into(),
            })
        }
        Command::SignalExternalWorkflow {
            seq,
            target,
            signal_name,
            input,
        } => Variant::SignalExternalWorkflowExecution(wc::SignalExternalWorkflowExecution {
            seq,
            target: Some(signal_target(run, target)),
            signal_name,
            args: payloads_to(&input),
            ..Default::default()
        }),
        Command::RequestCancelExternalWorkflow { seq, target } => {
            Variant::RequestCancelExternalWorkflowExecution(
                wc::RequestCancelExternalWorkflowExecution {
                    seq,
                    workflow_execution: Some(execution(run, target)),
                    reason: "cancel requested by another workflow".into(),
                },
            )
        }
        Command::UpdateResponse { id, response } => Variant::UpdateResponse(wc::UpdateResponse {
            protocol_instance_id: id,
            response: Some(match response {
                UpdateResponse::Accepted => update_response::Response::Accepted(()),
                UpdateResponse::Rejected(f) | UpdateResponse::Completed(Err(f)) => {
                    update_response::Response::Rejected(failure_to(&f))
                }
                UpdateResponse::Completed(Ok(p)) => {
                    update_response::Response::Completed(payload_to(&p))
                }
            }),
        }),
        other => {
            return Err(TaskError::new(format!(
                "command {other:?} has no Temporal counterpart"
            )));
        }
    })
}

fn cancellation_type(t: ActivityCancellationType) -> wc::ActivityCancellationType {
    match t {
        ActivityCancellationType::TryCancel => wc::ActivityCancellationType::TryCancel,
        ActivityCancellationType::WaitCancellationCompleted => {
            wc::ActivityCancellationType::WaitCancellationCompleted
        }
        ActivityCancellationType::Abandon => wc::ActivityCancellationType::Abandon,
    }
}

fn schedule_activity(run: &RunContext<'_>, a: ScheduleActivity) -> wc::ScheduleActivity {
    let o = a.options;
    let task_queue = if a.task_queue.is_empty() {
        run.task_queue.to_string()
    } else {
        a.task_queue
    };
    wc::ScheduleActivity {
        seq: a.seq,
        activity_id: a.activity_id,
        activity_type: a.activity_type,
        task_queue,
        arguments: payloads_to(&a.input),
        schedule_to_close_timeout: opt_duration_to(o.schedule_to_close_timeout),
        schedule_to_start_timeout: opt_duration_to(o.schedule_to_start_timeout),
        start_to_close_timeout: opt_duration_to(o.start_to_close_timeout),
        heartbeat_timeout: opt_duration_to(o.heartbeat_timeout),
        retry_policy: o.retry_policy.as_ref().map(retry_to),
        cancellation_type: cancellation_type(o.cancellation_type) as i32,
        ..Default::default()
    }
}

fn local_activity(a: ScheduleActivity) -> wc::ScheduleLocalActivity {
    let o = a.options;
    wc::ScheduleLocalActivity {
        seq: a.seq,
        activity_id: a.activity_id,
        activity_type: a.activity_type,
        attempt: 1,
        arguments: payloads_to(&a.input),
        schedule_to_close_timeout: opt_duration_to(o.schedule_to_close_timeout),
        schedule_to_start_timeout: opt_duration_to(o.schedule_to_start_timeout),
        start_to_close_timeout: opt_duration_to(o.start_to_close_timeout),
        retry_policy: o.retry_policy.as_ref().map(retry_to),
        local_retry_threshold: duration_to(LOCAL_RETRY_THRESHOLD),
        // weft resolves a canceled local activity itself, at once.
        cancellation_type: wc::ActivityCancellationType::TryCancel as i32,
        ..Default::default()
    }
}

pub(crate) fn reuse_policy(p: IdReusePolicy) -> enums::WorkflowIdReusePolicy {
    match p {
        IdReusePolicy::AllowDuplicate => enums::WorkflowIdReusePolicy::AllowDuplicate,
        IdReusePolicy::AllowDuplicateFailedOnly => {
            enums::WorkflowIdReusePolicy::AllowDuplicateFailedOnly
        }
        IdReusePolicy::RejectDuplicate => enums::WorkflowIdReusePolicy::RejectDuplicate,
        // Deprecated by Temporal in favour of the conflict policy, which a
        // child's start does not have; the server still honours it.
        #[allow(deprecated)]
        IdReusePolicy::TerminateIfRunning => enums::WorkflowIdReusePolicy::TerminateIfRunning,
    }
}

fn start_child(run: &RunContext<'_>, c: StartChild) -> wc::StartChildWorkflowExecution {
    let o = c.run_options;
    let task_queue = if c.task_queue.is_empty() {
        run.task_queue.to_string()
    } else {
        c.task_queue
    };
    wc::StartChildWorkflowExecution {
        seq: c.seq,
        namespace: run.namespace.to_string(),
        workflow_id: c.workflow_id,
        workflow_type: c.workflow_type,
        task_queue,
        input: payloads_to(&c.input),
        workflow_execution_timeout: opt_duration_to(o.execution_timeout),
        workflow_run_timeout: opt_duration_to(o.run_timeout),
        workflow_task_timeout: opt_duration_to(o.task_timeout),
        parent_close_policy: match c.parent_close_policy {
            ParentClosePolicy::Terminate => child::ParentClosePolicy::Terminate,
            ParentClosePolicy::RequestCancel => child::ParentClosePolicy::RequestCancel,
            ParentClosePolicy::Abandon => child::ParentClosePolicy::Abandon,
        } as i32,
        workflow_id_reuse_policy: reuse_policy(c.id_reuse_policy) as i32,
        retry_policy: o.retry_policy.as_ref().map(retry_to),
        memo: memo_fields_to(&o.memo),
        search_attributes: (!o.search_attributes.is_empty())
            .then(|| search_attributes_to(o.search_attributes.iter().map(|(k, v)| (k, Some(v))))),
        cancellation_type: match c.cancellation_type {
            ChildCancellationType::WaitCancellationCompleted => {
                child::ChildWorkflowCancellationType::WaitCancellationCompleted
            }
            ChildCancellationType::WaitCancellationRequested => {
                child::ChildWorkflowCancellationType::WaitCancellationRequested
            }
            ChildCancellationType::TryCancel => child::ChildWorkflowCancellationType::TryCancel,
            ChildCancellationType::Abandon => child::ChildWorkflowCancellationType::Abandon,
        } as i32,
        ..Default::default()
    }
}

fn execution(run: &RunContext<'_>, target: ExternalTarget) -> NamespacedWorkflowExecution {
    NamespacedWorkflowExecution {
        namespace: run.namespace.to_string(),
        workflow_id: target.workflow_id,
        run_id: target.run_id.unwrap_or_default(),
    }
}

fn signal_target(run: &RunContext<'_>, target: ExternalTarget) -> Target {
    if target.child_workflow_only {
        Target::ChildWorkflowId(target.workflow_id)
    } else {
        Target::WorkflowExecution(execution(run, target))
    }
}
