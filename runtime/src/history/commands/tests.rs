use std::collections::HashMap;
use std::time::{Duration, SystemTime};

use super::*;
use crate::converter;
use crate::failure::{ApplicationError, Failure, RetryState};
use crate::protocol::{ActivityOptions, ExternalTarget, Resolution, ScheduleActivity, StartChild};
use crate::retry::RetryPolicy;

/// A run as a test sets it up.
#[derive(Default)]
struct View {
    activities: HashMap<u32, OpenActivity>,
    timers: HashMap<u32, i64>,
    updates: HashMap<String, (String, Vec<Payload>, i64)>,
    children: HashMap<u32, OpenChild>,
}

impl RunView for View {
    fn task_queue(&self) -> &str {
        "main-queue"
    }
    fn workflow_type(&self) -> &str {
        "Greeter"
    }
    fn activity(&self, seq: u32) -> Option<OpenActivity> {
        self.activities.get(&seq).copied()
    }
    fn timer(&self, seq: u32) -> Option<i64> {
        self.timers.get(&seq).copied()
    }
    fn update(&self, id: &str) -> Option<DeliveredUpdate<'_>> {
        self.updates
            .get(id)
            .map(|(name, input, sequencing)| DeliveredUpdate {
                name,
                input,
                sequencing_event_id: *sequencing,
            })
    }
    fn child(&self, seq: u32) -> Option<OpenChild> {
        self.children.get(&seq).cloned()
    }

    fn next_run_id(&self) -> &str {
        "next-run"
    }
}

impl TrackingView for View {
    fn track(&mut self, command: &Command, event_id: i64) {
        match command {
            Command::ScheduleActivity(sa) => {
                self.activities.insert(
                    sa.seq,
                    OpenActivity {
                        scheduled_event_id: event_id,
                        started: true,
                    },
                );
            }
            Command::StartTimer { seq, .. } => {
                self.timers.insert(*seq, event_id);
            }
            _ => {}
        }
    }
}

const AT: At = At {
    completed: 4,
    next_event_id: 5,
};

fn payload(value: &str) -> Payload {
    converter::encode(value).unwrap()
}

fn schedule(seq: u32, input: &str) -> ScheduleActivity {
    ScheduleActivity {
        seq,
        activity_id: seq.to_string(),
        activity_type: "greet".into(),
        task_queue: String::new(),
        input: vec![payload(input)],
        options: ActivityOptions {
            start_to_close_timeout: None,
            schedule_to_close_timeout: Some(Duration::from_secs(30)),
            schedule_to_start_timeout: None,
            heartbeat_timeout: None,
            retry_policy: None,
            cancellation_type: Default::default(),
        },
    }
}

fn event(attributes: EventAttributes) -> Event {
    Event {
        event_id: AT.next_event_id,
        event_time: SystemTime::UNIX_EPOCH,
        attributes,
    }
}

/// The view the commands of [`one_of_each`] refer to.
fn view() -> View {
    let mut view = View::default();
    view.activities.insert(
        2,
        OpenActivity {
            scheduled_event_id: 3,
            started: true,
        },
    );
    view.timers.insert(7, 2);
    view.updates
        .insert("u1".into(), ("add".into(), vec![payload("five")], 3));
    view.children.insert(
        4,
        OpenChild {
            workflow_id: "kid-4".into(),
            run_id: Some("run-4".into()),
        },
    );
    view
}

/// One command of every kind. The match in [`kind`] is exhaustive, so a
/// new command kind does not compile until it is listed here too.
fn one_of_each() -> Vec<Command> {
    let failure: Failure = ApplicationError::new("no").into();
    let commands = vec![
        Command::ScheduleActivity(schedule(1, "World")),
        Command::ScheduleLocalActivity(schedule(9, "local")),
        Command::RecordLocalActivityMarker {
            seq: 9,
            activity_type: "greet".into(),
            input: vec![payload("local")],
            attempt: 1,
            result: Resolution::Completed(payload("hi")),
        },
        Command::RecordSideEffect {
            seq: 1,
            value: payload("42"),
        },
        Command::SetPatchMarker {
            patch_id: "fix".into(),
            deprecated: false,
        },
        Command::StartTimer {
            seq: 3,
            duration: Duration::from_secs(60),
        },
        Command::CancelTimer { seq: 7 },
        Command::RequestCancelActivity { seq: 2 },
        Command::UpdateResponse {
            id: "u1".into(),
            response: UpdateResponse::Accepted,
        },
        Command::UpdateResponse {
            id: "u1".into(),
            response: UpdateResponse::Completed(Ok(payload("ok"))),
        },
        Command::UpdateResponse {
            id: "u2".into(),
            response: UpdateResponse::Rejected(failure.clone()),
        },
        Command::CompleteWorkflow {
            result: payload("done"),
        },
        Command::FailWorkflow { failure },
        Command::CancelWorkflow {
            details: Vec::new(),
        },
        Command::ContinueAsNew {
            input: vec![payload("again")],
        },
        Command::StartChildWorkflow(start_child("Greet", "World")),
        Command::CancelChildWorkflow { seq: 4 },
        Command::SignalExternalWorkflow {
            seq: 1,
            target: target("other"),
            signal_name: "poke".into(),
            input: vec![payload("7")],
        },
        Command::RequestCancelExternalWorkflow {
            seq: 1,
            target: target("another"),
        },
        Command::UpsertSearchAttributes {
            updates: vec![
                crate::search_attributes::SearchAttributeKey::<i64>::new("Priority").value_set(1),
            ],
        },
    ];
    for command in &commands {
        kind(command);
    }
    commands
}

fn kind(command: &Command) -> &'static str {
    match command {
        Command::ScheduleActivity(_) => "schedule activity",
        Command::ScheduleLocalActivity(_) => "schedule local activity",
        Command::RecordLocalActivityMarker { .. } => "local activity marker",
        Command::RecordSideEffect { .. } => "side effect",
        Command::SetPatchMarker { .. } => "patch",
        Command::StartTimer { .. } => "start timer",
        Command::CancelTimer { .. } => "cancel timer",
        Command::RequestCancelActivity { .. } => "cancel activity",
        Command::UpdateResponse { .. } => "update response",
        Command::CompleteWorkflow { .. } => "complete",
        Command::FailWorkflow { .. } => "fail",
        Command::CancelWorkflow { .. } => "cancel",
        Command::ContinueAsNew { .. } => "continue as new",
        Command::StartChildWorkflow(_) => "start child",
        Command::CancelChildWorkflow { .. } => "cancel child",
        Command::SignalExternalWorkflow { .. } => "signal external",
        Command::RequestCancelExternalWorkflow { .. } => "cancel external",
        Command::UpsertSearchAttributes { .. } => "upsert search attributes",
    }
}

fn target(workflow_id: &str) -> ExternalTarget {
    ExternalTarget {
        workflow_id: workflow_id.into(),
        run_id: None,
        child_workflow_only: false,
    }
}

fn start_child(workflow_type: &str, input: &str) -> StartChild {
    StartChild {
        seq: 5,
        workflow_id: "kid-5".into(),
        workflow_type: workflow_type.into(),
        task_queue: String::new(),
        input: vec![payload(input)],
        parent_close_policy: Default::default(),
        id_reuse_policy: Default::default(),
        cancellation_type: Default::default(),
        run_options: Default::default(),
    }
}

#[test]
fn a_child_with_other_input_or_type_does_not_match() {
    let start = |ty: &str, input: &str| Command::StartChildWorkflow(start_child(ty, input));
    let recorded = event(
        record(&start("Greet", "Ada"), &view(), AT)
            .unwrap()
            .remove(0),
    );
    assert!(matches!(
        &recorded.attributes,
        EventAttributes::StartChildWorkflowExecutionInitiated { task_queue, .. } if task_queue == "main-queue"
    ));
    assert!(matches(&start("Greet", "Ada"), &recorded, &view()));
    assert!(!matches(&start("Greet", "Bob"), &recorded, &view()));
    assert!(!matches(&start("Wave", "Ada"), &recorded, &view()));
}

#[test]
fn cancelling_a_child_names_it_and_a_closed_one_writes_nothing() {
    let events = record(&Command::CancelChildWorkflow { seq: 4 }, &view(), AT).unwrap();
    assert_eq!(
        events,
        vec![
            EventAttributes::RequestCancelExternalWorkflowExecutionInitiated {
                workflow_id: "kid-4".into(),
                run_id: Some("run-4".into()),
                child_workflow_only: true,
                workflow_task_completed_event_id: AT.completed,
            }
        ]
    );
    let closed = record(&Command::CancelChildWorkflow { seq: 9 }, &view(), AT).unwrap();
    assert!(closed.is_empty());
}

#[test]
fn a_signal_to_another_workflow_matches_only_its_name_target_and_input() {
    let signal = |id: &str, name: &str, input: &str| Command::SignalExternalWorkflow {
        seq: 1,
        target: target(id),
        signal_name: name.into(),
        input: vec![payload(input)],
    };
    let recorded = event(
        record(&signal("w", "go", "1"), &view(), AT)
            .unwrap()
            .remove(0),
    );
    assert!(matches(&signal("w", "go", "1"), &recorded, &view()));
    assert!(!matches(&signal("v", "go", "1"), &recorded, &view()));
    assert!(!matches(&signal("w", "stop", "1"), &recorded, &view()));
    assert!(!matches(&signal("w", "go", "2"), &recorded, &view()));
}

#[test]
fn every_command_matches_the_event_it_records_and_no_other() {
    let view = view();
    let commands = one_of_each();
    let recorded: Vec<Option<Event>> = commands
        .iter()
        .map(|c| record(c, &view, AT).unwrap().into_iter().next().map(event))
        .collect();
    for (command, own) in commands.iter().zip(&recorded) {
        let silent = matches!(command, Command::ScheduleLocalActivity(_)) || is_rejection(command);
        assert_eq!(
            own.is_none(),
            silent,
            "{}: records an event unless it is silent",
            kind(command)
        );
        for (other, event) in commands.iter().zip(&recorded) {
            let Some(event) = event else { continue };
            let same = std::ptr::eq(command, other);
            assert_eq!(
                matches(command, event, &view),
                same,
                "{} against the event of {}",
                kind(command),
                kind(other)
            );
        }
    }
}

#[test]
fn a_scheduled_activity_is_filled_in_as_temporal_does() {
    let events = record(&Command::ScheduleActivity(schedule(1, "x")), &view(), AT).unwrap();
    let [
        EventAttributes::ActivityTaskScheduled {
            task_queue,
            start_to_close_timeout,
            retry_policy,
            workflow_task_completed_event_id,
            ..
        },
    ] = events.as_slice()
    else {
        panic!("one ActivityTaskScheduled, got {events:?}");
    };
    assert_eq!(task_queue, "main-queue");
    assert_eq!(*start_to_close_timeout, Some(Duration::from_secs(30)));
    assert_eq!(*retry_policy, RetryPolicy::default());
    assert_eq!(*workflow_task_completed_event_id, AT.completed);
}

#[test]
fn an_activity_with_other_input_in_the_same_slot_does_not_match() {
    let recorded = record(
        &Command::ScheduleActivity(schedule(1, "apples")),
        &view(),
        AT,
    )
    .unwrap();
    let recorded = event(recorded.into_iter().next().unwrap());
    let other = Command::ScheduleActivity(schedule(1, "pears"));
    assert!(!matches(&other, &recorded, &view()));
    let mut other_type = schedule(1, "apples");
    other_type.activity_type = "weigh".into();
    assert!(!matches(
        &Command::ScheduleActivity(other_type),
        &recorded,
        &view()
    ));
}

#[test]
fn options_may_change_between_deployments() {
    let recorded = record(&Command::ScheduleActivity(schedule(1, "x")), &view(), AT).unwrap();
    let recorded = event(recorded.into_iter().next().unwrap());
    let mut changed = schedule(1, "x");
    changed.options.start_to_close_timeout = Some(Duration::from_secs(1));
    changed.options.retry_policy = Some(RetryPolicy {
        maximum_attempts: 3,
        ..RetryPolicy::default()
    });
    changed.task_queue = "elsewhere".into();
    assert!(matches(
        &Command::ScheduleActivity(changed),
        &recorded,
        &view()
    ));
}

#[test]
fn a_timer_of_another_duration_does_not_match() {
    let start = |ms| Command::StartTimer {
        seq: 3,
        duration: Duration::from_millis(ms),
    };
    let recorded = event(record(&start(1_000), &view(), AT).unwrap().remove(0));
    assert!(matches(&start(1_000), &recorded, &view()));
    assert!(!matches(&start(2_000), &recorded, &view()));
    // History keeps milliseconds: what it cannot hold is not compared.
    let fine = Command::StartTimer {
        seq: 3,
        duration: Duration::from_micros(1_000_400),
    };
    assert!(matches(&fine, &recorded, &view()));
}

#[test]
fn a_cancel_request_for_an_activity_no_worker_holds_cancels_it_at_once() {
    let mut view = view();
    view.activities.get_mut(&2).unwrap().started = false;
    let events = record(&Command::RequestCancelActivity { seq: 2 }, &view, AT).unwrap();
    assert_eq!(
        events,
        vec![
            EventAttributes::ActivityTaskCancelRequested {
                scheduled_event_id: 3,
                workflow_task_completed_event_id: AT.completed,
            },
            EventAttributes::ActivityTaskCanceled {
                scheduled_event_id: 3,
                started_event_id: 0,
                latest_cancel_requested_event_id: AT.next_event_id,
                details: Vec::new(),
                identity: String::new(),
            },
        ]
    );
}

#[test]
fn cancelling_what_is_over_writes_nothing() {
    let view = View::default();
    for command in [
        Command::RequestCancelActivity { seq: 2 },
        Command::CancelTimer { seq: 7 },
    ] {
        assert_eq!(record(&command, &view, AT).unwrap(), Vec::new());
    }
}

#[test]
fn an_accepted_update_records_how_it_arrived() {
    let command = Command::UpdateResponse {
        id: "u1".into(),
        response: UpdateResponse::Accepted,
    };
    let events = record(&command, &view(), AT).unwrap();
    assert_eq!(
        events,
        vec![EventAttributes::WorkflowExecutionUpdateAccepted {
            update_id: "u1".into(),
            name: "add".into(),
            input: vec![payload("five")],
            workflow_task_completed_event_id: AT.completed,
            accepted_request_sequencing_event_id: 3,
        }]
    );
}

#[test]
fn closing_events_carry_the_run_and_truncated_failures() {
    let long: Failure = ApplicationError::new("x".repeat(100_000)).into();
    let events = record(
        &Command::FailWorkflow {
            failure: long.clone(),
        },
        &view(),
        AT,
    )
    .unwrap();
    assert_eq!(
        events,
        vec![EventAttributes::WorkflowExecutionFailed {
            failure: long.truncated(),
            retry_state: RetryState::RetryPolicyNotSet,
            workflow_task_completed_event_id: AT.completed,
            new_execution_run_id: None,
        }]
    );
    let events = record(
        &Command::ContinueAsNew {
            input: vec![payload("again")],
        },
        &view(),
        AT,
    )
    .unwrap();
    assert_eq!(
        events,
        vec![EventAttributes::WorkflowExecutionContinuedAsNew {
            new_execution_run_id: "next-run".into(),
            workflow_type: "Greeter".into(),
            task_queue: "main-queue".into(),
            input: vec![payload("again")],
            workflow_task_completed_event_id: AT.completed,
        }]
    );
}

#[test]
fn task_events_number_the_task_and_let_later_commands_name_earlier_ones() {
    let mut view = View::default();
    let commands = vec![
        Command::ScheduleActivity(schedule(1, "x")),
        Command::StartTimer {
            seq: 1,
            duration: Duration::from_secs(1),
        },
        Command::RequestCancelActivity { seq: 1 },
        Command::CancelTimer { seq: 1 },
        Command::CompleteWorkflow {
            result: payload("done"),
        },
    ];
    let hint = TaskHint {
        suggest_continue_as_new: true,
        history_size_bytes: 1234,
    };
    let events = task_events(&commands, &mut view, 10, SystemTime::UNIX_EPOCH, hint).unwrap();
    let names: Vec<(i64, &str)> = events
        .iter()
        .map(|e| (e.event_id, e.attributes.name()))
        .collect();
    assert_eq!(
        names,
        vec![
            (11, "WorkflowTaskScheduled"),
            (12, "WorkflowTaskStarted"),
            (13, "WorkflowTaskCompleted"),
            (14, "ActivityTaskScheduled"),
            (15, "TimerStarted"),
            (16, "ActivityTaskCancelRequested"),
            (17, "TimerCanceled"),
            (18, "WorkflowExecutionCompleted"),
        ]
    );
    assert!(matches!(
        events[3].attributes,
        EventAttributes::ActivityTaskScheduled {
            workflow_task_completed_event_id: 13,
            ..
        }
    ));
    assert!(matches!(
        events[5].attributes,
        EventAttributes::ActivityTaskCancelRequested {
            scheduled_event_id: 14,
            ..
        }
    ));
    assert!(matches!(
        events[6].attributes,
        EventAttributes::TimerCanceled {
            started_event_id: 15,
            ..
        }
    ));
    assert!(matches!(
        events[1].attributes,
        EventAttributes::WorkflowTaskStarted {
            suggest_continue_as_new: true,
            history_size_bytes: 1234,
            ..
        }
    ));
}

#[test]
fn a_task_of_rejections_only_writes_nothing() {
    let commands = vec![Command::UpdateResponse {
        id: "u".into(),
        response: UpdateResponse::Rejected(ApplicationError::new("no").into()),
    }];
    let events = task_events(
        &commands,
        &mut View::default(),
        3,
        SystemTime::UNIX_EPOCH,
        TaskHint::default(),
    )
    .unwrap();
    assert!(events.is_empty());
}

#[test]
fn activity_outcomes_resolve_with_the_activity_named() {
    let activity = ScheduledActivity {
        seq: 4,
        activity_type: "greet".into(),
        activity_id: "4".into(),
    };
    let completed = EventAttributes::ActivityTaskCompleted {
        scheduled_event_id: 5,
        started_event_id: 6,
        result: payload("hi"),
        identity: String::new(),
    };
    assert_eq!(
        resolution(&completed, &activity, 1),
        Some(Resolution::Completed(payload("hi")))
    );
    let canceled = EventAttributes::ActivityTaskCanceled {
        scheduled_event_id: 5,
        started_event_id: 6,
        latest_cancel_requested_event_id: 7,
        details: vec![payload("partial")],
        identity: String::new(),
    };
    let Some(Resolution::Failed(Failure::Activity(error))) = resolution(&canceled, &activity, 3)
    else {
        panic!("a cancellation resolves with an activity error");
    };
    assert_eq!(error.attempt, 3);
    assert_eq!(error.retry_state, RetryState::CancelRequested);
    assert!(matches!(&*error.cause, Failure::Canceled(c) if c.details == vec![payload("partial")]));
    let fired = EventAttributes::TimerFired {
        timer_id: "1".into(),
        started_event_id: 2,
    };
    assert_eq!(resolution(&fired, &activity, 1), None);
}
