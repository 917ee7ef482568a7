//! Temporal's history events as weft's [`Event`]s, so `handle.history()`,
//! history export and weft's `Replayer` work on runs a Temporal cluster
//! holds. Events weft has no counterpart for (Nexus, workflow property
//! changes, options updates) are left out; ids keep Temporal's numbering.
//! Temporal records no randomness seed: core derives it from the original
//! run id, and so does this mapping.

use std::collections::BTreeMap;
use std::hash::{Hash, Hasher};
use std::time::SystemTime;

use siphasher::sip::SipHasher13;
use temporalio_common::protos::temporal::api::enums::v1 as enums;
use temporalio_common::protos::temporal::api::history::v1::{
    HistoryEvent, history_event::Attributes as A,
};

use super::convert::{
    duration_from, failure_from, first_or_null, from_payloads, memo_from, retry_from_proto,
    retry_state_from, time_from,
};
use super::search::search_attributes_from;
use crate::failure::{ApplicationError, Failure};
use crate::history::{
    Event, EventAttributes as E, ExternalFailureCause, ParentExecution, RunInitiator,
    WorkflowExecution, WorkflowTaskFailedCause,
};
use crate::protocol::{IdReusePolicy, ParentClosePolicy};

/// A parent close policy as Temporal numbers it (unspecified is
/// Temporal's default, terminate).
pub(super) fn parent_close_policy_from(policy: i32) -> ParentClosePolicy {
    match enums::ParentClosePolicy::try_from(policy) {
        Ok(enums::ParentClosePolicy::Abandon) => ParentClosePolicy::Abandon,
        Ok(enums::ParentClosePolicy::RequestCancel) => ParentClosePolicy::RequestCancel,
        _ => ParentClosePolicy::Terminate,
    }
}

/// The randomness seed Temporal core gives a run (SipHash-1-3 of its
/// original run id).
pub(crate) fn randomness_seed(original_run_id: &str) -> u64 {
    let mut s = SipHasher13::new();
    original_run_id.hash(&mut s);
    s.finish()
}

fn no_failure() -> Failure {
    ApplicationError::new("no failure recorded").into()
}

fn opt_string(s: String) -> Option<String> {
    (!s.is_empty()).then_some(s)
}

fn task_failed_cause(c: i32) -> WorkflowTaskFailedCause {
    match enums::WorkflowTaskFailedCause::try_from(c) {
        Ok(enums::WorkflowTaskFailedCause::NonDeterministicError) => {
            WorkflowTaskFailedCause::NonDeterministicError
        }
        Ok(enums::WorkflowTaskFailedCause::BadScheduleActivityAttributes)
        | Ok(enums::WorkflowTaskFailedCause::BadStartTimerAttributes) => {
            WorkflowTaskFailedCause::BadCommand
        }
        _ => WorkflowTaskFailedCause::WorkflowWorkerUnhandledFailure,
    }
}

/// The weft events of a Temporal history, in order.
pub(crate) fn events_from(history: Vec<HistoryEvent>) -> Vec<Event> {
    let mut last_task_completed = 0;
    let mut out = Vec::with_capacity(history.len());
    for event in history {
        let id = event.event_id;
        let time = time_from(event.event_time).unwrap_or(SystemTime::UNIX_EPOCH);
        let Some(attributes) = event.attributes else {
            continue;
        };
        if matches!(attributes, A::WorkflowTaskCompletedEventAttributes(_)) {
            last_task_completed = id;
        }
        if let Some(attributes) = attributes_from(attributes, last_task_completed) {
            out.push(Event {
                event_id: id,
                event_time: time,
                attributes,
            });
        }
    }
    out
}

fn attributes_from(a: A, task: i64) -> Option<E> {
    Some(match a {
        A::WorkflowExecutionStartedEventAttributes(a) => started(a),
        A::WorkflowTaskScheduledEventAttributes(a) => E::WorkflowTaskScheduled {
            task_queue: a.task_queue.map(|q| q.name).unwrap_or_default(),
            start_to_close_timeout: duration_from(a.start_to_close_timeout).unwrap_or_default(),
            attempt: u32::try_from(a.attempt).unwrap_or(1),
        },
        A::WorkflowTaskStartedEventAttributes(a) => E::WorkflowTaskStarted {
            scheduled_event_id: a.scheduled_event_id,
            identity: a.identity,
            suggest_continue_as_new: a.suggest_continue_as_new,
            history_size_bytes: u64::try_from(a.history_size_bytes).unwrap_or(0),
        },
        A::WorkflowTaskCompletedEventAttributes(a) => E::WorkflowTaskCompleted {
            scheduled_event_id: a.scheduled_event_id,
            started_event_id: a.started_event_id,
            identity: a.identity,
            sdk_flags: a
                .sdk_metadata
                .map(|m| m.lang_used_flags)
                .unwrap_or_default(),
        },
        A::WorkflowTaskFailedEventAttributes(a) => E::WorkflowTaskFailed {
            scheduled_event_id: a.scheduled_event_id,
            started_event_id: a.started_event_id,
            cause: task_failed_cause(a.cause),
            failure: a.failure.map(failure_from).unwrap_or_else(no_failure),
            identity: a.identity,
        },
        A::WorkflowTaskTimedOutEventAttributes(a) => E::WorkflowTaskTimedOut {
            scheduled_event_id: a.scheduled_event_id,
            started_event_id: a.started_event_id,
        },
        other => return activity_or_timer(other, task),
    })
}

fn started(
    a: temporalio_common::protos::temporal::api::history::v1::WorkflowExecutionStartedEventAttributes,
) -> E {
    let parent = a.parent_workflow_execution.map(|p| ParentExecution {
        workflow_id: p.workflow_id,
        run_id: p.run_id,
        initiated_event_id: a.parent_initiated_event_id,
    });
    let initiator = match enums::ContinueAsNewInitiator::try_from(a.initiator) {
        Ok(enums::ContinueAsNewInitiator::Workflow) => Some(RunInitiator::ContinueAsNew),
        Ok(enums::ContinueAsNewInitiator::Retry) => Some(RunInitiator::Retry),
        _ => None,
    };
    E::WorkflowExecutionStarted {
        workflow_type: a.workflow_type.map(|t| t.name).unwrap_or_default(),
        task_queue: a.task_queue.map(|q| q.name).unwrap_or_default(),
        input: from_payloads(a.input),
        attempt: u32::try_from(a.attempt).unwrap_or(1).max(1),
        randomness_seed: randomness_seed(&a.original_execution_run_id),
        original_execution_run_id: a.original_execution_run_id,
        first_execution_run_id: a.first_execution_run_id,
        request_id: String::new(),
        continued_execution_run_id: opt_string(a.continued_execution_run_id),
        parent,
        workflow_execution_timeout: duration_from(a.workflow_execution_timeout),
        workflow_run_timeout: duration_from(a.workflow_run_timeout),
        workflow_task_timeout: duration_from(a.workflow_task_timeout),
        retry_policy: a.retry_policy.map(retry_from_proto),
        memo: memo_from(a.memo),
        search_attributes: search_attributes_from(a.search_attributes),
        initiator,
        first_workflow_task_backoff: duration_from(a.first_workflow_task_backoff),
    }
}

fn activity_or_timer(a: A, task: i64) -> Option<E> {
    Some(match a {
        A::ActivityTaskScheduledEventAttributes(a) => E::ActivityTaskScheduled {
            activity_id: a.activity_id,
            activity_type: a.activity_type.map(|t| t.name).unwrap_or_default(),
            task_queue: a.task_queue.map(|q| q.name).unwrap_or_default(),
            input: from_payloads(a.input),
            schedule_to_close_timeout: duration_from(a.schedule_to_close_timeout),
            schedule_to_start_timeout: duration_from(a.schedule_to_start_timeout),
            start_to_close_timeout: duration_from(a.start_to_close_timeout),
            heartbeat_timeout: duration_from(a.heartbeat_timeout),
            retry_policy: a.retry_policy.map(retry_from_proto).unwrap_or_default(),
            workflow_task_completed_event_id: a.workflow_task_completed_event_id,
        },
        A::ActivityTaskStartedEventAttributes(a) => E::ActivityTaskStarted {
            scheduled_event_id: a.scheduled_event_id,
            attempt: u32::try_from(a.attempt).unwrap_or(1),
            identity: a.identity,
            last_failure: a.last_failure.map(failure_from),
        },
        A::ActivityTaskCompletedEventAttributes(a) => E::ActivityTaskCompleted {
            scheduled_event_id: a.scheduled_event_id,
            started_event_id: a.started_event_id,
            result: first_or_null(a.result.map(|p| p.payloads).unwrap_or_default()),
            identity: a.identity,
        },
        A::ActivityTaskFailedEventAttributes(a) => E::ActivityTaskFailed {
            scheduled_event_id: a.scheduled_event_id,
            started_event_id: a.started_event_id,
            failure: a.failure.map(failure_from).unwrap_or_else(no_failure),
            retry_state: retry_state_from(a.retry_state),
            identity: a.identity,
        },
        A::ActivityTaskTimedOutEventAttributes(a) => E::ActivityTaskTimedOut {
            scheduled_event_id: a.scheduled_event_id,
            started_event_id: a.started_event_id,
            failure: a.failure.map(failure_from).unwrap_or_else(no_failure),
            retry_state: retry_state_from(a.retry_state),
        },
        A::ActivityTaskCancelRequestedEventAttributes(a) => E::ActivityTaskCancelRequested {
            scheduled_event_id: a.scheduled_event_id,
            workflow_task_completed_event_id: a.workflow_task_completed_event_id,
        },
        A::ActivityTaskCanceledEventAttributes(a) => E::ActivityTaskCanceled {
            scheduled_event_id: a.scheduled_event_id,
            started_event_id: a.started_event_id,
            latest_cancel_requested_event_id: a.latest_cancel_requested_event_id,
            details: from_payloads(a.details),
            identity: a.identity,
        },
        other => return timers(other, task),
    })
}

fn timers(a: A, task: i64) -> Option<E> {
    Some(match a {
        A::TimerStartedEventAttributes(a) => E::TimerStarted {
            timer_id: a.timer_id,
            start_to_fire_timeout: duration_from(a.start_to_fire_timeout).unwrap_or_default(),
            workflow_task_completed_event_id: a.workflow_task_completed_event_id,
        },
        A::TimerFiredEventAttributes(a) => E::TimerFired {
            timer_id: a.timer_id,
            started_event_id: a.started_event_id,
        },
        A::TimerCanceledEventAttributes(a) => E::TimerCanceled {
            timer_id: a.timer_id,
            started_event_id: a.started_event_id,
            workflow_task_completed_event_id: a.workflow_task_completed_event_id,
        },
        A::MarkerRecordedEventAttributes(a) => {
            let mut details = a
                .details
                .into_iter()
                .map(|(k, v)| (k, from_payloads(Some(v))))
                .collect::<BTreeMap<_, _>>();
            let mut marker_name = a.marker_name;
            if marker_name == crate::history::LOCAL_ACTIVITY_MARKER {
                local_activity_details(&mut details);
                // A side effect, recorded as a built-in local activity,
                // reads as the marker weft's engine writes for it.
                if let Some(side_effect) = super::side_effects::marker_details(&details) {
                    marker_name = crate::history::SIDE_EFFECT_MARKER.to_string();
                    details = side_effect;
                }
            }
            E::MarkerRecorded {
                marker_name,
                details,
                failure: a.failure.map(failure_from),
                workflow_task_completed_event_id: a.workflow_task_completed_event_id,
            }
        }
        other => return messages(other, task),
    })
}

/// Core's local activity marker keeps its facts in one JSON `data`
/// payload; weft's names them one by one (`seq`, `activity_type`,
/// `attempt`). Both are kept, so either reader finds its own.
fn local_activity_details(details: &mut BTreeMap<String, Vec<crate::converter::Payload>>) {
    let Some(data) = details.get("data").and_then(|d| d.first()) else {
        return;
    };
    let Ok(data) = serde_json::from_slice::<serde_json::Value>(&data.data) else {
        return;
    };
    for key in ["seq", "activity_type", "attempt"] {
        if let Some(value) = data.get(key)
            && let Ok(payload) = crate::converter::encode(value)
        {
            details.entry(key.to_string()).or_insert(vec![payload]);
        }
    }
}

fn execution(
    e: Option<temporalio_common::protos::temporal::api::common::v1::WorkflowExecution>,
) -> Option<WorkflowExecution> {
    e.map(|e| WorkflowExecution {
        workflow_id: e.workflow_id,
        run_id: e.run_id,
    })
}

fn messages(a: A, task: i64) -> Option<E> {
    Some(match a {
        A::WorkflowExecutionSignaledEventAttributes(a) => E::WorkflowExecutionSignaled {
            signal_name: a.signal_name,
            input: from_payloads(a.input),
            identity: a.identity,
            external_workflow_execution: execution(a.external_workflow_execution),
        },
        A::WorkflowExecutionCancelRequestedEventAttributes(a) => {
            E::WorkflowExecutionCancelRequested {
                cause: a.cause,
                identity: a.identity,
                external_workflow_execution: execution(a.external_workflow_execution),
            }
        }
        A::WorkflowExecutionUpdateAcceptedEventAttributes(a) => {
            let request = a.accepted_request.unwrap_or_default();
            let input = request.input.unwrap_or_default();
            E::WorkflowExecutionUpdateAccepted {
                update_id: request.meta.map(|m| m.update_id).unwrap_or_default(),
                name: input.name,
                input: from_payloads(input.args),
                workflow_task_completed_event_id: task,
                accepted_request_sequencing_event_id: a.accepted_request_sequencing_event_id,
            }
        }
        A::WorkflowExecutionUpdateCompletedEventAttributes(a) => {
            use temporalio_common::protos::temporal::api::update::v1::outcome::Value;
            E::WorkflowExecutionUpdateCompleted {
                update_id: a.meta.map(|m| m.update_id).unwrap_or_default(),
                outcome: match a.outcome.and_then(|o| o.value) {
                    Some(Value::Success(p)) => Ok(first_or_null(p.payloads)),
                    Some(Value::Failure(f)) => Err(failure_from(f)),
                    None => Err(no_failure()),
                },
                workflow_task_completed_event_id: task,
            }
        }
        other => return closes(other),
    })
}

fn closes(a: A) -> Option<E> {
    Some(match a {
        A::WorkflowExecutionCompletedEventAttributes(a) => E::WorkflowExecutionCompleted {
            result: first_or_null(a.result.map(|p| p.payloads).unwrap_or_default()),
            workflow_task_completed_event_id: a.workflow_task_completed_event_id,
        },
        A::WorkflowExecutionFailedEventAttributes(a) => E::WorkflowExecutionFailed {
            failure: a.failure.map(failure_from).unwrap_or_else(no_failure),
            retry_state: retry_state_from(a.retry_state),
            workflow_task_completed_event_id: a.workflow_task_completed_event_id,
            new_execution_run_id: opt_string(a.new_execution_run_id),
        },
        A::WorkflowExecutionTimedOutEventAttributes(a) => E::WorkflowExecutionTimedOut {
            retry_state: retry_state_from(a.retry_state),
            new_execution_run_id: opt_string(a.new_execution_run_id),
        },
        A::WorkflowExecutionCanceledEventAttributes(a) => E::WorkflowExecutionCanceled {
            details: from_payloads(a.details),
            workflow_task_completed_event_id: a.workflow_task_completed_event_id,
        },
        A::WorkflowExecutionTerminatedEventAttributes(a) => E::WorkflowExecutionTerminated {
            reason: a.reason,
            details: from_payloads(a.details),
            identity: a.identity,
        },
        A::WorkflowExecutionContinuedAsNewEventAttributes(a) => {
            E::WorkflowExecutionContinuedAsNew {
                new_execution_run_id: a.new_execution_run_id,
                workflow_type: a.workflow_type.map(|t| t.name).unwrap_or_default(),
                task_queue: a.task_queue.map(|q| q.name).unwrap_or_default(),
                input: from_payloads(a.input),
                workflow_task_completed_event_id: a.workflow_task_completed_event_id,
            }
        }
        A::UpsertWorkflowSearchAttributesEventAttributes(a) => {
            let attrs = search_attributes_from(a.search_attributes);
            E::UpsertWorkflowSearchAttributes {
                search_attributes: attrs
                    .iter()
                    .map(
                        |(name, v)| crate::search_attributes::SearchAttributeUpdate {
                            name: name.to_string(),
                            value: Some(v.clone()),
                        },
                    )
                    .collect(),
                workflow_task_completed_event_id: a.workflow_task_completed_event_id,
            }
        }
        other => return children(other),
    })
}

fn child_failed_cause(_c: i32) -> ExternalFailureCause {
    ExternalFailureCause::WorkflowAlreadyExists
}

fn children(a: A) -> Option<E> {
    let wt = |t: Option<temporalio_common::protos::temporal::api::common::v1::WorkflowType>| {
        t.map(|t| t.name).unwrap_or_default()
    };
    let ex =
        |e: Option<temporalio_common::protos::temporal::api::common::v1::WorkflowExecution>| {
            let e = e.unwrap_or_default();
            (e.workflow_id, e.run_id)
        };
    Some(match a {
        A::StartChildWorkflowExecutionInitiatedEventAttributes(a) => {
            E::StartChildWorkflowExecutionInitiated {
                workflow_id: a.workflow_id,
                workflow_type: wt(a.workflow_type),
                task_queue: a.task_queue.map(|q| q.name).unwrap_or_default(),
                input: from_payloads(a.input),
                parent_close_policy: parent_close_policy_from(a.parent_close_policy),
                workflow_id_reuse_policy: match enums::WorkflowIdReusePolicy::try_from(
                    a.workflow_id_reuse_policy,
                ) {
                    Ok(enums::WorkflowIdReusePolicy::AllowDuplicateFailedOnly) => {
                        IdReusePolicy::AllowDuplicateFailedOnly
                    }
                    Ok(enums::WorkflowIdReusePolicy::RejectDuplicate) => {
                        IdReusePolicy::RejectDuplicate
                    }
                    _ => IdReusePolicy::AllowDuplicate,
                },
                workflow_task_completed_event_id: a.workflow_task_completed_event_id,
            }
        }
        A::StartChildWorkflowExecutionFailedEventAttributes(a) => {
            E::StartChildWorkflowExecutionFailed {
                workflow_id: a.workflow_id,
                workflow_type: wt(a.workflow_type),
                cause: child_failed_cause(a.cause),
                initiated_event_id: a.initiated_event_id,
            }
        }
        A::ChildWorkflowExecutionStartedEventAttributes(a) => {
            let (workflow_id, run_id) = ex(a.workflow_execution);
            E::ChildWorkflowExecutionStarted {
                workflow_id,
                run_id,
                workflow_type: wt(a.workflow_type),
                initiated_event_id: a.initiated_event_id,
            }
        }
        other => return child_closes(other),
    })
}

fn child_closes(a: A) -> Option<E> {
    let wt = |t: Option<temporalio_common::protos::temporal::api::common::v1::WorkflowType>| {
        t.map(|t| t.name).unwrap_or_default()
    };
    let ex =
        |e: Option<temporalio_common::protos::temporal::api::common::v1::WorkflowExecution>| {
            let e = e.unwrap_or_default();
            (e.workflow_id, e.run_id)
        };
    Some(match a {
        A::ChildWorkflowExecutionCompletedEventAttributes(a) => {
            let (workflow_id, run_id) = ex(a.workflow_execution);
            E::ChildWorkflowExecutionCompleted {
                workflow_id,
                run_id,
                workflow_type: wt(a.workflow_type),
                result: first_or_null(a.result.map(|p| p.payloads).unwrap_or_default()),
                initiated_event_id: a.initiated_event_id,
                started_event_id: a.started_event_id,
            }
        }
        A::ChildWorkflowExecutionFailedEventAttributes(a) => {
            let (workflow_id, run_id) = ex(a.workflow_execution);
            E::ChildWorkflowExecutionFailed {
                workflow_id,
                run_id,
                workflow_type: wt(a.workflow_type),
                failure: a.failure.map(failure_from).unwrap_or_else(no_failure),
                retry_state: retry_state_from(a.retry_state),
                initiated_event_id: a.initiated_event_id,
                started_event_id: a.started_event_id,
            }
        }
        A::ChildWorkflowExecutionCanceledEventAttributes(a) => {
            let (workflow_id, run_id) = ex(a.workflow_execution);
            E::ChildWorkflowExecutionCanceled {
                workflow_id,
                run_id,
                workflow_type: wt(a.workflow_type),
                details: from_payloads(a.details),
                initiated_event_id: a.initiated_event_id,
                started_event_id: a.started_event_id,
            }
        }
        A::ChildWorkflowExecutionTerminatedEventAttributes(a) => {
            let (workflow_id, run_id) = ex(a.workflow_execution);
            E::ChildWorkflowExecutionTerminated {
                workflow_id,
                run_id,
                workflow_type: wt(a.workflow_type),
                initiated_event_id: a.initiated_event_id,
                started_event_id: a.started_event_id,
            }
        }
        A::ChildWorkflowExecutionTimedOutEventAttributes(a) => {
            let (workflow_id, run_id) = ex(a.workflow_execution);
            E::ChildWorkflowExecutionTimedOut {
                workflow_id,
                run_id,
                workflow_type: wt(a.workflow_type),
                retry_state: retry_state_from(a.retry_state),
                initiated_event_id: a.initiated_event_id,
                started_event_id: a.started_event_id,
            }
        }
        _ => return None,
    })
}
