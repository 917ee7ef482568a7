//! How nondeterminism messages name events and commands: by kind and by
//! what identifies them in the run (activity type and id, timer, update,
//! marker), so a reader finds the line of code that differs.

use super::commands::same_arguments;
use super::{Event, EventAttributes, markers};
use crate::converter::Payload;
use crate::protocol::{Command, UpdateResponse};

/// An event as a nondeterminism message shows it.
pub(crate) fn event(event: &Event) -> String {
    match &event.attributes {
        EventAttributes::ActivityTaskScheduled {
            activity_type,
            activity_id,
            ..
        } => format!("ActivityTaskScheduled(type {activity_type}, id {activity_id})"),
        EventAttributes::TimerStarted {
            timer_id,
            start_to_fire_timeout,
            ..
        } => format!("TimerStarted(id {timer_id}, {start_to_fire_timeout:?})"),
        EventAttributes::TimerCanceled { timer_id, .. } => format!("TimerCanceled(id {timer_id})"),
        EventAttributes::ActivityTaskCancelRequested {
            scheduled_event_id, ..
        } => format!("ActivityTaskCancelRequested(scheduled event {scheduled_event_id})"),
        EventAttributes::WorkflowExecutionUpdateAccepted { update_id, .. } => {
            format!("WorkflowExecutionUpdateAccepted(id {update_id:?})")
        }
        EventAttributes::WorkflowExecutionUpdateCompleted { update_id, .. } => {
            format!("WorkflowExecutionUpdateCompleted(id {update_id:?})")
        }
        EventAttributes::MarkerRecorded { marker_name, .. } => marker(event, marker_name),
        EventAttributes::StartChildWorkflowExecutionInitiated {
            workflow_type,
            workflow_id,
            ..
        } => {
            format!("StartChildWorkflowExecutionInitiated(type {workflow_type}, id {workflow_id})")
        }
        EventAttributes::SignalExternalWorkflowExecutionInitiated {
            workflow_id,
            signal_name,
            ..
        } => format!(
            "SignalExternalWorkflowExecutionInitiated(id {workflow_id}, signal {signal_name:?})"
        ),
        EventAttributes::RequestCancelExternalWorkflowExecutionInitiated {
            workflow_id, ..
        } => format!("RequestCancelExternalWorkflowExecutionInitiated(id {workflow_id})"),
        EventAttributes::UpsertWorkflowSearchAttributes {
            search_attributes, ..
        } => format!(
            "UpsertWorkflowSearchAttributes({})",
            search_attributes
                .iter()
                .map(|u| u.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ),
        other => other.name().to_string(),
    }
}

fn marker(event: &Event, marker_name: &str) -> String {
    if let Some((seq, _)) = markers::local_activity(event) {
        match markers::local_activity_call(event) {
            Some((Some(activity_type), _)) => {
                format!("MarkerRecorded(local activity {seq}, type {activity_type})")
            }
            _ => format!("MarkerRecorded(local activity {seq})"),
        }
    } else if let Some((seq, _)) = markers::side_effect(event) {
        match seq {
            Some(seq) => format!("MarkerRecorded(side effect {seq})"),
            None => "MarkerRecorded(side effect, unreadable seq)".to_string(),
        }
    } else if let Some((id, deprecated)) = markers::patch(event) {
        format!("MarkerRecorded({} {id:?})", patch_kind(deprecated))
    } else {
        format!("MarkerRecorded({marker_name})")
    }
}

fn patch_kind(deprecated: bool) -> &'static str {
    if deprecated {
        "deprecated patch"
    } else {
        "patch"
    }
}

/// A command as a nondeterminism message shows it.
pub(crate) fn command(command: &Command) -> String {
    match command {
        Command::ScheduleActivity(sa) => format!(
            "ScheduleActivity(type {}, id {})",
            sa.activity_type, sa.activity_id
        ),
        Command::ScheduleLocalActivity(sa) => format!(
            "ScheduleLocalActivity(type {}, seq {})",
            sa.activity_type, sa.seq
        ),
        Command::RecordLocalActivityMarker { seq, .. } => {
            format!("RecordMarker(local activity {seq})")
        }
        Command::RecordSideEffect { seq, .. } => format!("RecordMarker(side effect {seq})"),
        Command::SetPatchMarker {
            patch_id,
            deprecated,
        } => format!("RecordMarker({} {patch_id:?})", patch_kind(*deprecated)),
        Command::StartTimer { seq, duration } => format!("StartTimer(id {seq}, {duration:?})"),
        Command::CancelTimer { seq } => format!("CancelTimer(id {seq})"),
        Command::RequestCancelActivity { seq } => format!("RequestCancelActivity(seq {seq})"),
        Command::CancelWorkflow { .. } => "CancelWorkflow".to_string(),
        Command::UpdateResponse { id, response } => match response {
            UpdateResponse::Accepted => format!("UpdateAccepted(id {id:?})"),
            UpdateResponse::Rejected(_) => format!("UpdateRejected(id {id:?})"),
            UpdateResponse::Completed(_) => format!("UpdateCompleted(id {id:?})"),
        },
        Command::CompleteWorkflow { .. } => "CompleteWorkflow".to_string(),
        Command::FailWorkflow { .. } => "FailWorkflow".to_string(),
        Command::ContinueAsNew { .. } => "ContinueAsNew".to_string(),
        Command::StartChildWorkflow(sc) => format!(
            "StartChildWorkflow(type {}, id {})",
            sc.workflow_type, sc.workflow_id
        ),
        Command::CancelChildWorkflow { seq } => format!("CancelChildWorkflow(seq {seq})"),
        Command::SignalExternalWorkflow {
            target,
            signal_name,
            ..
        } => format!(
            "SignalExternalWorkflow(id {}, signal {signal_name:?})",
            target.workflow_id
        ),
        Command::RequestCancelExternalWorkflow { target, .. } => {
            format!("RequestCancelExternalWorkflow(id {})", target.workflow_id)
        }
        Command::UpsertSearchAttributes { updates } => format!(
            "UpsertSearchAttributes({})",
            updates
                .iter()
                .map(|u| u.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// Where an activity's or local activity's input differs between a
/// command and its event, when that is what differs: nondeterminism
/// messages say so, each input cut at [`SHOWN_INPUT`] characters.
pub(crate) fn input_difference(command: &Command, event: &Event) -> Option<String> {
    let (call, recorded, produced): (String, &[Payload], &[Payload]) =
        match (command, &event.attributes) {
            (
                Command::ScheduleActivity(sa),
                EventAttributes::ActivityTaskScheduled {
                    activity_id,
                    activity_type,
                    input,
                    ..
                },
            ) if *activity_id == sa.activity_id && *activity_type == sa.activity_type => (
                format!("activity {activity_type} {activity_id}"),
                input,
                &sa.input,
            ),
            (Command::ScheduleLocalActivity(la), _) => match markers::local_activity_call(event) {
                Some((Some(activity_type), Some(input))) if activity_type == la.activity_type => (
                    format!("local activity {activity_type} {}", la.seq),
                    input,
                    &la.input,
                ),
                _ => return None,
            },
            (
                Command::StartChildWorkflow(sc),
                EventAttributes::StartChildWorkflowExecutionInitiated {
                    workflow_id,
                    workflow_type,
                    input,
                    ..
                },
            ) if *workflow_id == sc.workflow_id && *workflow_type == sc.workflow_type => (
                format!("child workflow {workflow_type} {workflow_id}"),
                input,
                &sc.input,
            ),
            (
                Command::SignalExternalWorkflow {
                    target,
                    signal_name,
                    input: produced,
                    ..
                },
                EventAttributes::SignalExternalWorkflowExecutionInitiated {
                    workflow_id,
                    signal_name: name,
                    input,
                    ..
                },
            ) if *workflow_id == target.workflow_id && name == signal_name => (
                format!("signal {signal_name:?} to {workflow_id}"),
                input,
                produced,
            ),
            _ => return None,
        };
    if same_arguments(recorded, produced) {
        return None;
    }
    Some(format!(
        "{call} was scheduled with input {} and the code now gives {}",
        shown(recorded),
        shown(produced)
    ))
}

/// How much of an input a nondeterminism message shows.
const SHOWN_INPUT: usize = 300;

fn shown(input: &[Payload]) -> String {
    let text = format!("{input:?}");
    match text.char_indices().nth(SHOWN_INPUT) {
        Some((cut, _)) => format!("{}.. ({} characters)", &text[..cut], text.chars().count()),
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, SystemTime};

    use super::*;
    use crate::converter;
    use crate::protocol::{ActivityOptions, ScheduleActivity};

    fn at(attributes: EventAttributes) -> Event {
        Event {
            event_id: 9,
            event_time: SystemTime::UNIX_EPOCH,
            attributes,
        }
    }

    fn schedule(input: &str) -> ScheduleActivity {
        ScheduleActivity {
            seq: 1,
            activity_id: "1".into(),
            activity_type: "greet".into(),
            task_queue: String::new(),
            input: vec![converter::encode(input).unwrap()],
            options: ActivityOptions {
                start_to_close_timeout: Some(Duration::from_secs(1)),
                schedule_to_close_timeout: None,
                schedule_to_start_timeout: None,
                heartbeat_timeout: None,
                retry_policy: None,
                cancellation_type: Default::default(),
            },
        }
    }

    #[test]
    fn events_are_named_by_what_identifies_them() {
        let timer = at(EventAttributes::TimerStarted {
            timer_id: "3".into(),
            start_to_fire_timeout: Duration::from_secs(2),
            workflow_task_completed_event_id: 4,
        });
        assert_eq!(event(&timer), "TimerStarted(id 3, 2s)");
        let patch = at(EventAttributes::MarkerRecorded {
            marker_name: crate::history::PATCH_MARKER.into(),
            details: markers::patch_details("v2", true).unwrap(),
            failure: None,
            workflow_task_completed_event_id: 4,
        });
        assert_eq!(event(&patch), "MarkerRecorded(deprecated patch \"v2\")");
        let signal = at(EventAttributes::WorkflowExecutionSignaled {
            signal_name: "s".into(),
            input: Vec::new(),
            identity: String::new(),
            external_workflow_execution: None,
        });
        assert_eq!(event(&signal), "WorkflowExecutionSignaled");
    }

    #[test]
    fn commands_are_named_by_what_identifies_them() {
        assert_eq!(
            command(&Command::ScheduleActivity(schedule("x"))),
            "ScheduleActivity(type greet, id 1)"
        );
        assert_eq!(
            command(&Command::UpdateResponse {
                id: "u".into(),
                response: UpdateResponse::Accepted
            }),
            "UpdateAccepted(id \"u\")"
        );
    }

    #[test]
    fn a_changed_input_is_spelled_out() {
        let recorded = at(EventAttributes::ActivityTaskScheduled {
            activity_id: "1".into(),
            activity_type: "greet".into(),
            task_queue: "q".into(),
            input: schedule("apples").input,
            schedule_to_close_timeout: None,
            schedule_to_start_timeout: None,
            start_to_close_timeout: None,
            heartbeat_timeout: None,
            retry_policy: Default::default(),
            workflow_task_completed_event_id: 4,
        });
        let same = Command::ScheduleActivity(schedule("apples"));
        assert_eq!(input_difference(&same, &recorded), None);
        let other = Command::ScheduleActivity(schedule("pears"));
        let message = input_difference(&other, &recorded).unwrap();
        assert!(
            message.contains("apples") && message.contains("pears"),
            "{message}"
        );
    }

    #[test]
    fn a_long_input_is_cut() {
        let long = Command::ScheduleActivity(schedule(&"x".repeat(5000)));
        let recorded = at(EventAttributes::ActivityTaskScheduled {
            activity_id: "1".into(),
            activity_type: "greet".into(),
            task_queue: "q".into(),
            input: schedule("apples").input,
            schedule_to_close_timeout: None,
            schedule_to_start_timeout: None,
            start_to_close_timeout: None,
            heartbeat_timeout: None,
            retry_policy: Default::default(),
            workflow_task_completed_event_id: 4,
        });
        let message = input_difference(&long, &recorded).unwrap();
        assert!(message.len() < 600, "{message}");
        assert!(message.ends_with("characters)"), "{message}");
    }
}
