//! Histories exported from Temporal (`temporal workflow show --output
//! json`, protobuf's JSON mapping) as weft events, for weft's `Replayer`.
//!
//! The history messages of Temporal's Rust protos have no protobuf-JSON
//! reader, but their payloads, failures, retry policies, workflow types,
//! executions and enums do (pbjson): this module reads each event's own
//! fields and hands those sub-messages to them, then maps the events as
//! [`super::events`] maps the ones a client reads from the server.

use serde::de::DeserializeOwned;
use serde_json::Value;
use temporalio_common::protos::temporal::api::common::v1 as common;
use temporalio_common::protos::temporal::api::history::v1::{self as h, HistoryEvent};
use temporalio_common::protos::temporal::api::taskqueue::v1::TaskQueue;
use temporalio_common::protos::temporal::api::update::v1 as update;

use crate::history::Event;

/// Why an exported history could not be read.
#[derive(Debug, thiserror::Error)]
#[error("Temporal history JSON: {0}")]
pub struct HistoryJsonError(String);

/// The weft events of a history Temporal exported as JSON (`{"events":
/// [...]}`, or the list alone). Events weft has no counterpart for are
/// left out (see the book's "Running on Temporal").
///
/// ```no_run
/// # fn f(json: &str, replayer: &weft::replay::Replayer) -> Result<(), Box<dyn std::error::Error>> {
/// let events = weft::temporal::history_from_json(json)?;
/// replayer.replay(&events)?;
/// # Ok(()) }
/// ```
pub fn history_from_json(json: &str) -> Result<Vec<Event>, HistoryJsonError> {
    let value: Value =
        serde_json::from_str(json).map_err(|e| HistoryJsonError(format!("not JSON: {e}")))?;
    let events = match &value {
        Value::Array(events) => events,
        Value::Object(o) => match o.get("events") {
            Some(Value::Array(events)) => events,
            _ => return Err(HistoryJsonError("no \"events\" list".into())),
        },
        _ => return Err(HistoryJsonError("neither a history nor a list".into())),
    };
    let events = events.iter().map(event).collect::<Result<Vec<_>, _>>()?;
    Ok(super::events::events_from(events))
}

/// A JSON object's field, `Null` when absent.
fn get<'a>(v: &'a Value, key: &str) -> &'a Value {
    v.get(key).unwrap_or(&Value::Null)
}

fn s(v: &Value, key: &str) -> String {
    get(v, key).as_str().unwrap_or_default().to_string()
}

/// An integer: protobuf JSON writes 64-bit ones as strings.
fn int(v: &Value, key: &str) -> i64 {
    match get(v, key) {
        Value::String(text) => text.parse().unwrap_or(0),
        other => other.as_i64().unwrap_or(0),
    }
}

fn int32(v: &Value, key: &str) -> i32 {
    i32::try_from(int(v, key)).unwrap_or(0)
}

fn boolean(v: &Value, key: &str) -> bool {
    get(v, key).as_bool().unwrap_or(false)
}

/// A sub-message with a protobuf-JSON reader; `None` when absent or unreadable.
fn msg<T: DeserializeOwned>(v: &Value, key: &str) -> Option<T> {
    match get(v, key) {
        Value::Null => None,
        value => serde_json::from_value(value.clone())
            .inspect_err(|e| tracing::warn!(field = key, error = %e, "field not read"))
            .ok(),
    }
}

/// An enum field, by its protobuf name.
fn en<T: DeserializeOwned + Into<i32>>(v: &Value, key: &str) -> i32 {
    msg::<T>(v, key).map(Into::into).unwrap_or(0)
}

fn task_queue(v: &Value) -> Option<TaskQueue> {
    match get(v, "taskQueue") {
        Value::Null => None,
        q => Some(TaskQueue {
            name: s(q, "name"),
            ..Default::default()
        }),
    }
}

fn event(v: &Value) -> Result<HistoryEvent, HistoryJsonError> {
    let Some(object) = v.as_object() else {
        return Err(HistoryJsonError("an event is not an object".into()));
    };
    let attributes = object
        .iter()
        .find(|(k, _)| k.ends_with("EventAttributes"))
        .and_then(|(k, a)| attributes(k, a));
    Ok(HistoryEvent {
        event_id: int(v, "eventId"),
        event_time: msg(v, "eventTime"),
        attributes,
        ..Default::default()
    })
}

fn attributes(key: &str, a: &Value) -> Option<h::history_event::Attributes> {
    use h::history_event::Attributes as A;
    Some(match key {
        "workflowExecutionStartedEventAttributes" => {
            A::WorkflowExecutionStartedEventAttributes(h::WorkflowExecutionStartedEventAttributes {
                workflow_type: msg(a, "workflowType"),
                parent_workflow_execution: msg(a, "parentWorkflowExecution"),
                parent_initiated_event_id: int(a, "parentInitiatedEventId"),
                task_queue: task_queue(a),
                input: msg(a, "input"),
                workflow_execution_timeout: msg(a, "workflowExecutionTimeout"),
                workflow_run_timeout: msg(a, "workflowRunTimeout"),
                workflow_task_timeout: msg(a, "workflowTaskTimeout"),
                continued_execution_run_id: s(a, "continuedExecutionRunId"),
                initiator: en::<
                    temporalio_common::protos::temporal::api::enums::v1::ContinueAsNewInitiator,
                >(a, "initiator"),
                original_execution_run_id: s(a, "originalExecutionRunId"),
                identity: s(a, "identity"),
                first_execution_run_id: s(a, "firstExecutionRunId"),
                retry_policy: msg(a, "retryPolicy"),
                attempt: int32(a, "attempt"),
                first_workflow_task_backoff: msg(a, "firstWorkflowTaskBackoff"),
                memo: msg(a, "memo"),
                search_attributes: msg(a, "searchAttributes"),
                ..Default::default()
            })
        }
        "workflowTaskScheduledEventAttributes" => {
            A::WorkflowTaskScheduledEventAttributes(h::WorkflowTaskScheduledEventAttributes {
                task_queue: task_queue(a),
                start_to_close_timeout: msg(a, "startToCloseTimeout"),
                attempt: int32(a, "attempt"),
            })
        }
        "workflowTaskStartedEventAttributes" => {
            A::WorkflowTaskStartedEventAttributes(h::WorkflowTaskStartedEventAttributes {
                scheduled_event_id: int(a, "scheduledEventId"),
                identity: s(a, "identity"),
                suggest_continue_as_new: boolean(a, "suggestContinueAsNew"),
                history_size_bytes: int(a, "historySizeBytes"),
                ..Default::default()
            })
        }
        "workflowTaskCompletedEventAttributes" => {
            A::WorkflowTaskCompletedEventAttributes(h::WorkflowTaskCompletedEventAttributes {
                scheduled_event_id: int(a, "scheduledEventId"),
                started_event_id: int(a, "startedEventId"),
                identity: s(a, "identity"),
                ..Default::default()
            })
        }
        "workflowTaskFailedEventAttributes" => {
            A::WorkflowTaskFailedEventAttributes(h::WorkflowTaskFailedEventAttributes {
                scheduled_event_id: int(a, "scheduledEventId"),
                started_event_id: int(a, "startedEventId"),
                cause: en::<
                    temporalio_common::protos::temporal::api::enums::v1::WorkflowTaskFailedCause,
                >(a, "cause"),
                failure: msg(a, "failure"),
                identity: s(a, "identity"),
                ..Default::default()
            })
        }
        "workflowTaskTimedOutEventAttributes" => {
            A::WorkflowTaskTimedOutEventAttributes(h::WorkflowTaskTimedOutEventAttributes {
                scheduled_event_id: int(a, "scheduledEventId"),
                started_event_id: int(a, "startedEventId"),
                ..Default::default()
            })
        }
        other => return activities(other, a),
    })
}

fn activities(key: &str, a: &Value) -> Option<h::history_event::Attributes> {
    use h::history_event::Attributes as A;
    use temporalio_common::protos::temporal::api::enums::v1::RetryState;
    Some(match key {
        "activityTaskScheduledEventAttributes" => {
            A::ActivityTaskScheduledEventAttributes(h::ActivityTaskScheduledEventAttributes {
                activity_id: s(a, "activityId"),
                activity_type: msg(a, "activityType"),
                task_queue: task_queue(a),
                input: msg(a, "input"),
                schedule_to_close_timeout: msg(a, "scheduleToCloseTimeout"),
                schedule_to_start_timeout: msg(a, "scheduleToStartTimeout"),
                start_to_close_timeout: msg(a, "startToCloseTimeout"),
                heartbeat_timeout: msg(a, "heartbeatTimeout"),
                workflow_task_completed_event_id: int(a, "workflowTaskCompletedEventId"),
                retry_policy: msg(a, "retryPolicy"),
                ..Default::default()
            })
        }
        "activityTaskStartedEventAttributes" => {
            A::ActivityTaskStartedEventAttributes(h::ActivityTaskStartedEventAttributes {
                scheduled_event_id: int(a, "scheduledEventId"),
                identity: s(a, "identity"),
                attempt: int32(a, "attempt"),
                last_failure: msg(a, "lastFailure"),
                ..Default::default()
            })
        }
        "activityTaskCompletedEventAttributes" => {
            A::ActivityTaskCompletedEventAttributes(h::ActivityTaskCompletedEventAttributes {
                result: msg(a, "result"),
                scheduled_event_id: int(a, "scheduledEventId"),
                started_event_id: int(a, "startedEventId"),
                identity: s(a, "identity"),
                ..Default::default()
            })
        }
        "activityTaskFailedEventAttributes" => {
            A::ActivityTaskFailedEventAttributes(h::ActivityTaskFailedEventAttributes {
                failure: msg(a, "failure"),
                scheduled_event_id: int(a, "scheduledEventId"),
                started_event_id: int(a, "startedEventId"),
                identity: s(a, "identity"),
                retry_state: en::<RetryState>(a, "retryState"),
                ..Default::default()
            })
        }
        "activityTaskTimedOutEventAttributes" => {
            A::ActivityTaskTimedOutEventAttributes(h::ActivityTaskTimedOutEventAttributes {
                failure: msg(a, "failure"),
                scheduled_event_id: int(a, "scheduledEventId"),
                started_event_id: int(a, "startedEventId"),
                retry_state: en::<RetryState>(a, "retryState"),
            })
        }
        "activityTaskCancelRequestedEventAttributes" => {
            A::ActivityTaskCancelRequestedEventAttributes(
                h::ActivityTaskCancelRequestedEventAttributes {
                    scheduled_event_id: int(a, "scheduledEventId"),
                    workflow_task_completed_event_id: int(a, "workflowTaskCompletedEventId"),
                },
            )
        }
        "activityTaskCanceledEventAttributes" => {
            A::ActivityTaskCanceledEventAttributes(h::ActivityTaskCanceledEventAttributes {
                details: msg(a, "details"),
                latest_cancel_requested_event_id: int(a, "latestCancelRequestedEventId"),
                scheduled_event_id: int(a, "scheduledEventId"),
                started_event_id: int(a, "startedEventId"),
                identity: s(a, "identity"),
                ..Default::default()
            })
        }
        other => return timers_and_messages(other, a),
    })
}

fn timers_and_messages(key: &str, a: &Value) -> Option<h::history_event::Attributes> {
    use h::history_event::Attributes as A;
    Some(match key {
        "timerStartedEventAttributes" => {
            A::TimerStartedEventAttributes(h::TimerStartedEventAttributes {
                timer_id: s(a, "timerId"),
                start_to_fire_timeout: msg(a, "startToFireTimeout"),
                workflow_task_completed_event_id: int(a, "workflowTaskCompletedEventId"),
            })
        }
        "timerFiredEventAttributes" => A::TimerFiredEventAttributes(h::TimerFiredEventAttributes {
            timer_id: s(a, "timerId"),
            started_event_id: int(a, "startedEventId"),
        }),
        "timerCanceledEventAttributes" => {
            A::TimerCanceledEventAttributes(h::TimerCanceledEventAttributes {
                timer_id: s(a, "timerId"),
                started_event_id: int(a, "startedEventId"),
                workflow_task_completed_event_id: int(a, "workflowTaskCompletedEventId"),
                identity: s(a, "identity"),
            })
        }
        "markerRecordedEventAttributes" => {
            A::MarkerRecordedEventAttributes(h::MarkerRecordedEventAttributes {
                marker_name: s(a, "markerName"),
                details: msg(a, "details").unwrap_or_default(),
                workflow_task_completed_event_id: int(a, "workflowTaskCompletedEventId"),
                failure: msg(a, "failure"),
                ..Default::default()
            })
        }
        "workflowExecutionSignaledEventAttributes" => A::WorkflowExecutionSignaledEventAttributes(
            h::WorkflowExecutionSignaledEventAttributes {
                signal_name: s(a, "signalName"),
                input: msg(a, "input"),
                identity: s(a, "identity"),
                external_workflow_execution: msg(a, "externalWorkflowExecution"),
                ..Default::default()
            },
        ),
        "workflowExecutionCancelRequestedEventAttributes" => {
            A::WorkflowExecutionCancelRequestedEventAttributes(
                h::WorkflowExecutionCancelRequestedEventAttributes {
                    cause: s(a, "cause"),
                    identity: s(a, "identity"),
                    external_workflow_execution: msg(a, "externalWorkflowExecution"),
                    ..Default::default()
                },
            )
        }
        "workflowExecutionUpdateAcceptedEventAttributes" => {
            A::WorkflowExecutionUpdateAcceptedEventAttributes(update_accepted(a))
        }
        "workflowExecutionUpdateCompletedEventAttributes" => {
            A::WorkflowExecutionUpdateCompletedEventAttributes(update_completed(a))
        }
        other => return closes(other, a),
    })
}

fn update_meta(v: &Value) -> Option<update::Meta> {
    match v {
        Value::Null => None,
        m => Some(update::Meta {
            update_id: s(m, "updateId"),
            identity: s(m, "identity"),
        }),
    }
}

fn update_accepted(a: &Value) -> h::WorkflowExecutionUpdateAcceptedEventAttributes {
    let request = get(a, "acceptedRequest");
    let input = get(request, "input");
    h::WorkflowExecutionUpdateAcceptedEventAttributes {
        protocol_instance_id: s(a, "protocolInstanceId"),
        accepted_request_sequencing_event_id: int(a, "acceptedRequestSequencingEventId"),
        accepted_request: Some(update::Request {
            meta: update_meta(get(request, "meta")),
            input: Some(update::Input {
                name: s(input, "name"),
                args: msg(input, "args"),
                ..Default::default()
            }),
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn update_completed(a: &Value) -> h::WorkflowExecutionUpdateCompletedEventAttributes {
    let outcome = get(a, "outcome");
    let value = match (
        msg::<common::Payloads>(outcome, "success"),
        msg(outcome, "failure"),
    ) {
        (Some(p), _) => Some(update::outcome::Value::Success(p)),
        (None, Some(f)) => Some(update::outcome::Value::Failure(f)),
        (None, None) => None,
    };
    h::WorkflowExecutionUpdateCompletedEventAttributes {
        meta: update_meta(get(a, "meta")),
        accepted_event_id: int(a, "acceptedEventId"),
        outcome: Some(update::Outcome { value }),
    }
}

fn closes(key: &str, a: &Value) -> Option<h::history_event::Attributes> {
    use h::history_event::Attributes as A;
    use temporalio_common::protos::temporal::api::enums::v1::RetryState;
    Some(match key {
        "workflowExecutionCompletedEventAttributes" => {
            A::WorkflowExecutionCompletedEventAttributes(
                h::WorkflowExecutionCompletedEventAttributes {
                    result: msg(a, "result"),
                    workflow_task_completed_event_id: int(a, "workflowTaskCompletedEventId"),
                    new_execution_run_id: s(a, "newExecutionRunId"),
                },
            )
        }
        "workflowExecutionFailedEventAttributes" => {
            A::WorkflowExecutionFailedEventAttributes(h::WorkflowExecutionFailedEventAttributes {
                failure: msg(a, "failure"),
                retry_state: en::<RetryState>(a, "retryState"),
                workflow_task_completed_event_id: int(a, "workflowTaskCompletedEventId"),
                new_execution_run_id: s(a, "newExecutionRunId"),
            })
        }
        "workflowExecutionTimedOutEventAttributes" => A::WorkflowExecutionTimedOutEventAttributes(
            h::WorkflowExecutionTimedOutEventAttributes {
                retry_state: en::<RetryState>(a, "retryState"),
                new_execution_run_id: s(a, "newExecutionRunId"),
            },
        ),
        "workflowExecutionCanceledEventAttributes" => A::WorkflowExecutionCanceledEventAttributes(
            h::WorkflowExecutionCanceledEventAttributes {
                workflow_task_completed_event_id: int(a, "workflowTaskCompletedEventId"),
                details: msg(a, "details"),
            },
        ),
        "workflowExecutionTerminatedEventAttributes" => {
            A::WorkflowExecutionTerminatedEventAttributes(
                h::WorkflowExecutionTerminatedEventAttributes {
                    reason: s(a, "reason"),
                    details: msg(a, "details"),
                    identity: s(a, "identity"),
                },
            )
        }
        "workflowExecutionContinuedAsNewEventAttributes" => {
            A::WorkflowExecutionContinuedAsNewEventAttributes(
                h::WorkflowExecutionContinuedAsNewEventAttributes {
                    new_execution_run_id: s(a, "newExecutionRunId"),
                    workflow_type: msg(a, "workflowType"),
                    task_queue: task_queue(a),
                    input: msg(a, "input"),
                    workflow_task_completed_event_id: int(a, "workflowTaskCompletedEventId"),
                    ..Default::default()
                },
            )
        }
        "upsertWorkflowSearchAttributesEventAttributes" => {
            A::UpsertWorkflowSearchAttributesEventAttributes(
                h::UpsertWorkflowSearchAttributesEventAttributes {
                    workflow_task_completed_event_id: int(a, "workflowTaskCompletedEventId"),
                    search_attributes: msg(a, "searchAttributes"),
                },
            )
        }
        other => return children(other, a),
    })
}

fn children(key: &str, a: &Value) -> Option<h::history_event::Attributes> {
    use h::history_event::Attributes as A;
    use temporalio_common::protos::temporal::api::enums::v1::{
        ParentClosePolicy, WorkflowIdReusePolicy,
    };
    let initiated = int(a, "initiatedEventId");
    Some(match key {
        "startChildWorkflowExecutionInitiatedEventAttributes" => {
            A::StartChildWorkflowExecutionInitiatedEventAttributes(
                h::StartChildWorkflowExecutionInitiatedEventAttributes {
                    workflow_id: s(a, "workflowId"),
                    workflow_type: msg(a, "workflowType"),
                    task_queue: task_queue(a),
                    input: msg(a, "input"),
                    parent_close_policy: en::<ParentClosePolicy>(a, "parentClosePolicy"),
                    workflow_id_reuse_policy: en::<WorkflowIdReusePolicy>(
                        a,
                        "workflowIdReusePolicy",
                    ),
                    workflow_task_completed_event_id: int(a, "workflowTaskCompletedEventId"),
                    ..Default::default()
                },
            )
        }
        "startChildWorkflowExecutionFailedEventAttributes" => {
            A::StartChildWorkflowExecutionFailedEventAttributes(
                h::StartChildWorkflowExecutionFailedEventAttributes {
                    workflow_id: s(a, "workflowId"),
                    workflow_type: msg(a, "workflowType"),
                    initiated_event_id: initiated,
                    ..Default::default()
                },
            )
        }
        "childWorkflowExecutionStartedEventAttributes" => {
            A::ChildWorkflowExecutionStartedEventAttributes(
                h::ChildWorkflowExecutionStartedEventAttributes {
                    workflow_execution: msg(a, "workflowExecution"),
                    workflow_type: msg(a, "workflowType"),
                    initiated_event_id: initiated,
                    ..Default::default()
                },
            )
        }
        other => return child_closes(other, a),
    })
}

fn child_closes(key: &str, a: &Value) -> Option<h::history_event::Attributes> {
    use h::history_event::Attributes as A;
    use temporalio_common::protos::temporal::api::enums::v1::RetryState;
    let initiated = int(a, "initiatedEventId");
    let started = int(a, "startedEventId");
    Some(match key {
        "childWorkflowExecutionCompletedEventAttributes" => {
            A::ChildWorkflowExecutionCompletedEventAttributes(
                h::ChildWorkflowExecutionCompletedEventAttributes {
                    result: msg(a, "result"),
                    workflow_execution: msg(a, "workflowExecution"),
                    workflow_type: msg(a, "workflowType"),
                    initiated_event_id: initiated,
                    started_event_id: started,
                    ..Default::default()
                },
            )
        }
        "childWorkflowExecutionFailedEventAttributes" => {
            A::ChildWorkflowExecutionFailedEventAttributes(
                h::ChildWorkflowExecutionFailedEventAttributes {
                    failure: msg(a, "failure"),
                    workflow_execution: msg(a, "workflowExecution"),
                    workflow_type: msg(a, "workflowType"),
                    initiated_event_id: initiated,
                    started_event_id: started,
                    retry_state: en::<RetryState>(a, "retryState"),
                    ..Default::default()
                },
            )
        }
        "childWorkflowExecutionCanceledEventAttributes" => {
            A::ChildWorkflowExecutionCanceledEventAttributes(
                h::ChildWorkflowExecutionCanceledEventAttributes {
                    details: msg(a, "details"),
                    workflow_execution: msg(a, "workflowExecution"),
                    workflow_type: msg(a, "workflowType"),
                    initiated_event_id: initiated,
                    started_event_id: started,
                    ..Default::default()
                },
            )
        }
        _ => return None,
    })
}
