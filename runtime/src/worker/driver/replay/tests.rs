use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;
use std::time::{Duration, SystemTime};

use super::super::RunDriver;
use crate::converter::{self, Payload};
use crate::failure::{ApplicationError, Failure};
use crate::history::commands::TaskHint;
use crate::history::{Event, EventAttributes};
use crate::protocol::{Activation, ActivityOptions, Command, Job, Resolution, ScheduleActivity};
use crate::retry::RetryPolicy;
use crate::workflow::error::TaskError;
use crate::workflow::executor::Instance;

/// Workflow code that answers each activation with the next scripted
/// commands and keeps what it was given.
struct Script {
    replies: VecDeque<Vec<Command>>,
    seen: Rc<RefCell<Vec<Activation>>>,
}

impl Instance for Script {
    fn activate(&mut self, activation: Activation) -> Result<Vec<Command>, TaskError> {
        self.seen.borrow_mut().push(activation);
        Ok(self.replies.pop_front().unwrap_or_default())
    }

    fn query(&self, _: &str, _: &[Payload]) -> Result<Payload, Failure> {
        Err(ApplicationError::new("no queries here").into())
    }
}

fn driver(replies: Vec<Vec<Command>>) -> (RunDriver, Rc<RefCell<Vec<Activation>>>) {
    let seen = Rc::new(RefCell::new(Vec::new()));
    let script = Script {
        replies: replies.into(),
        seen: seen.clone(),
    };
    (RunDriver::new(Box::new(script), "ns", "wf", "run"), seen)
}

fn payload(value: &str) -> Payload {
    converter::encode(value).unwrap()
}

fn schedule(seq: u32, input: &str) -> Command {
    Command::ScheduleActivity(ScheduleActivity {
        seq,
        activity_id: seq.to_string(),
        activity_type: "pick".into(),
        task_queue: String::new(),
        input: vec![payload(input)],
        options: ActivityOptions {
            start_to_close_timeout: Some(Duration::from_secs(5)),
            schedule_to_close_timeout: None,
            schedule_to_start_timeout: None,
            heartbeat_timeout: None,
            retry_policy: None,
            cancellation_type: Default::default(),
        },
    })
}

/// Numbers events from 1.
fn history(attributes: Vec<EventAttributes>) -> Vec<Event> {
    attributes
        .into_iter()
        .enumerate()
        .map(|(i, attributes)| Event {
            event_id: i as i64 + 1,
            event_time: SystemTime::UNIX_EPOCH,
            attributes,
        })
        .collect()
}

fn started() -> EventAttributes {
    EventAttributes::WorkflowExecutionStarted {
        workflow_type: "Picker".into(),
        task_queue: "q".into(),
        input: vec![payload("in")],
        attempt: 1,
        original_execution_run_id: "run".into(),
        first_execution_run_id: "run".into(),
        randomness_seed: 7,
        request_id: "r".into(),
        continued_execution_run_id: None,
        parent: None,
        workflow_execution_timeout: None,
        workflow_run_timeout: None,
        workflow_task_timeout: None,
        retry_policy: None,
        memo: Default::default(),
        search_attributes: Default::default(),
        initiator: None,
        first_workflow_task_backoff: None,
    }
}

/// A workflow task's events, completed as event `completed`.
fn task(completed: i64) -> Vec<EventAttributes> {
    vec![
        EventAttributes::WorkflowTaskScheduled {
            task_queue: "q".into(),
            start_to_close_timeout: Duration::from_secs(10),
            attempt: 1,
        },
        EventAttributes::WorkflowTaskStarted {
            scheduled_event_id: completed - 2,
            identity: String::new(),
            suggest_continue_as_new: false,
            history_size_bytes: 0,
        },
        EventAttributes::WorkflowTaskCompleted {
            scheduled_event_id: completed - 2,
            started_event_id: completed - 1,
            identity: String::new(),
            sdk_flags: Vec::new(),
        },
    ]
}

fn scheduled(input: &str, completed: i64) -> EventAttributes {
    EventAttributes::ActivityTaskScheduled {
        activity_id: "1".into(),
        activity_type: "pick".into(),
        task_queue: "q".into(),
        input: vec![payload(input)],
        schedule_to_close_timeout: None,
        schedule_to_start_timeout: None,
        start_to_close_timeout: Some(Duration::from_secs(5)),
        heartbeat_timeout: None,
        retry_policy: RetryPolicy::default(),
        workflow_task_completed_event_id: completed,
    }
}

/// Started, one task that scheduled activity 1 with `input`.
fn scheduled_history(input: &str) -> Vec<EventAttributes> {
    let mut events = vec![started()];
    events.extend(task(4));
    events.push(scheduled(input, 4));
    events
}

fn error(result: Result<(), TaskError>) -> TaskError {
    match result {
        Ok(()) => panic!("replay should have failed"),
        Err(e) => e,
    }
}

#[test]
fn a_task_whose_commands_match_replays_with_its_jobs() {
    let (mut d, seen) = driver(vec![vec![schedule(1, "apples")]]);
    d.apply_events(&history(scheduled_history("apples")))
        .unwrap();
    let seen = seen.borrow();
    assert_eq!(seen.len(), 1);
    assert!(seen[0].is_replaying);
    assert!(matches!(
        &seen[0].jobs[..],
        [Job::Start { randomness_seed: 7, info, .. }] if info.task_queue == "q"
    ));
    assert_eq!(d.last_event_id(), 5);
    assert!(!d.is_closed());
}

#[test]
fn the_same_activity_for_another_item_is_nondeterminism() {
    let (mut d, _) = driver(vec![vec![schedule(1, "pears")]]);
    let e = error(d.apply_events(&history(scheduled_history("apples"))));
    assert!(e.nondeterminism, "{e:?}");
    assert!(
        e.message.contains("apples") && e.message.contains("pears"),
        "the message shows both inputs: {}",
        e.message
    );
}

#[test]
fn an_event_the_code_does_not_produce_is_nondeterminism() {
    let (mut d, _) = driver(vec![vec![]]);
    let e = error(d.apply_events(&history(scheduled_history("apples"))));
    assert!(e.nondeterminism);
    assert!(
        e.message.contains("which the code did not produce"),
        "{}",
        e.message
    );
}

#[test]
fn a_command_history_does_not_hold_is_nondeterminism() {
    let (mut d, _) = driver(vec![vec![schedule(1, "apples"), schedule(2, "more")]]);
    let e = error(d.apply_events(&history(scheduled_history("apples"))));
    assert!(e.nondeterminism);
    assert!(
        e.message.contains("which history does not hold"),
        "{}",
        e.message
    );
}

#[test]
fn an_activity_outcome_resolves_it_in_the_next_activation() {
    let (mut d, seen) = driver(vec![vec![schedule(1, "apples")]]);
    let mut events = scheduled_history("apples");
    events.push(EventAttributes::ActivityTaskCompleted {
        scheduled_event_id: 5,
        started_event_id: 0,
        result: payload("picked"),
        identity: String::new(),
    });
    d.apply_events(&history(events)).unwrap();
    d.start_live(SystemTime::UNIX_EPOCH, 6, TaskHint::default())
        .unwrap();
    let seen = seen.borrow();
    let live = seen.last().unwrap();
    assert!(!live.is_replaying);
    assert!(matches!(
        &live.jobs[..],
        [Job::ResolveActivity { seq: 1, result: Resolution::Completed(p) }] if *p == payload("picked")
    ));
}

#[test]
fn an_outcome_for_an_activity_the_code_never_scheduled_is_nondeterminism() {
    let (mut d, _) = driver(vec![vec![]]);
    let mut events = vec![started()];
    events.extend(task(4));
    events.push(EventAttributes::ActivityTaskCompleted {
        scheduled_event_id: 3,
        started_event_id: 0,
        result: payload("?"),
        identity: String::new(),
    });
    let e = error(d.apply_events(&history(events)));
    assert!(e.nondeterminism);
    assert!(e.message.contains("never scheduled"), "{}", e.message);
}

#[test]
fn a_cancel_of_a_timer_that_fired_while_the_task_ran_needs_no_event() {
    let start = Command::StartTimer {
        seq: 1,
        duration: Duration::from_secs(1),
    };
    let (mut d, _) = driver(vec![vec![start], vec![Command::CancelTimer { seq: 1 }]]);
    let mut events = vec![started()];
    events.extend(task(4));
    events.push(EventAttributes::TimerStarted {
        timer_id: "1".into(),
        start_to_fire_timeout: Duration::from_secs(1),
        workflow_task_completed_event_id: 4,
    });
    events.push(EventAttributes::WorkflowExecutionSignaled {
        signal_name: "go".into(),
        input: Vec::new(),
        identity: String::new(),
        external_workflow_execution: None,
    });
    events.extend(task(9));
    // The task cancelled the timer, which fired while it ran: the engine
    // wrote nothing for the cancel.
    events.push(EventAttributes::TimerFired {
        timer_id: "1".into(),
        started_event_id: 5,
    });
    d.apply_events(&history(events)).unwrap();
}

#[test]
fn a_timer_of_another_duration_is_nondeterminism() {
    let start = Command::StartTimer {
        seq: 1,
        duration: Duration::from_secs(2),
    };
    let (mut d, _) = driver(vec![vec![start]]);
    let mut events = vec![started()];
    events.extend(task(4));
    events.push(EventAttributes::TimerStarted {
        timer_id: "1".into(),
        start_to_fire_timeout: Duration::from_secs(1),
        workflow_task_completed_event_id: 4,
    });
    let e = error(d.apply_events(&history(events)));
    assert!(e.nondeterminism);
    assert!(
        e.message.contains("TimerStarted(id 1, 1s)"),
        "{}",
        e.message
    );
}

#[test]
fn live_commands_meet_the_events_the_engine_wrote_for_them() {
    let (mut d, _) = driver(vec![vec![schedule(1, "apples")]]);
    d.apply_events(&history(vec![started()])).unwrap();
    let step = d
        .start_live(SystemTime::UNIX_EPOCH, 1, TaskHint::default())
        .unwrap();
    assert!(step.done);
    assert_eq!(step.commands, vec![schedule(1, "apples")]);
    let mut events = vec![started()];
    events.extend(task(4));
    events.push(scheduled("apples", 4));
    d.apply_events(&history(events.clone())).unwrap();
    assert_eq!(d.last_event_id(), 5);

    // The engine recording something else is an error, not a silent pass.
    let (mut d, _) = driver(vec![vec![schedule(1, "apples")]]);
    d.apply_events(&history(vec![started()])).unwrap();
    d.start_live(SystemTime::UNIX_EPOCH, 1, TaskHint::default())
        .unwrap();
    let mut other = events;
    other.push(scheduled("apples", 4));
    assert!(d.apply_events(&history(other)).is_err());
}

#[test]
fn a_history_gap_is_refused() {
    let (mut d, _) = driver(vec![]);
    let mut events = history(vec![started(), started()]);
    events[1].event_id = 3;
    let e = error(d.apply_events(&events));
    assert!(e.message.contains("history gap"), "{}", e.message);
}

fn schedule_local(seq: u32, activity_type: &str, input: &str) -> Command {
    let Command::ScheduleActivity(mut la) = schedule(seq, input) else {
        unreachable!("schedule builds a ScheduleActivity");
    };
    la.activity_type = activity_type.into();
    Command::ScheduleLocalActivity(la)
}

/// Started, one task whose local activity 1 of `activity_type` was called
/// with `input` (no input recorded when `None`, as older markers are) and
/// returned "found".
fn local_history(activity_type: &str, input: Option<&str>) -> Vec<EventAttributes> {
    let recorded: Vec<Payload> = input.map(payload).into_iter().collect();
    let result = Resolution::Completed(payload("found"));
    let (mut details, failure) =
        crate::history::markers::local_activity_details(1, activity_type, &recorded, 1, &result)
            .unwrap();
    if input.is_none() {
        details.remove("input");
    }
    let mut events = vec![started()];
    events.extend(task(4));
    events.push(EventAttributes::MarkerRecorded {
        marker_name: crate::history::LOCAL_ACTIVITY_MARKER.into(),
        details,
        failure,
        workflow_task_completed_event_id: 4,
    });
    events
}

#[test]
fn a_local_activity_called_as_recorded_replays_from_its_marker() {
    let (mut d, seen) = driver(vec![vec![schedule_local(1, "lookup", "apples")]]);
    d.apply_events(&history(local_history("lookup", Some("apples"))))
        .unwrap();
    let seen = seen.borrow();
    assert!(matches!(
        &seen[1].jobs[..],
        [Job::ResolveLocalActivity { seq: 1, result: Resolution::Completed(p) }] if *p == payload("found")
    ));
}

#[test]
fn a_local_activity_for_another_item_is_nondeterminism() {
    let (mut d, _) = driver(vec![vec![schedule_local(1, "lookup", "pears")]]);
    let e = error(d.apply_events(&history(local_history("lookup", Some("apples")))));
    assert!(e.nondeterminism, "{e:?}");
    assert!(
        e.message
            .contains("local activity lookup 1 was scheduled with input")
            && e.message.contains("apples")
            && e.message.contains("pears"),
        "{}",
        e.message
    );
}

#[test]
fn a_local_activity_of_another_type_is_nondeterminism() {
    let (mut d, _) = driver(vec![vec![schedule_local(1, "fetch", "apples")]]);
    let e = error(d.apply_events(&history(local_history("lookup", Some("apples")))));
    assert!(e.nondeterminism, "{e:?}");
    assert!(
        e.message
            .contains("MarkerRecorded(local activity 1, type lookup)")
            && e.message
                .contains("ScheduleLocalActivity(type fetch, seq 1)"),
        "{}",
        e.message
    );
}

#[test]
fn a_local_activity_marker_without_its_input_replays() {
    // Markers written before weft recorded inputs.
    let (mut d, _) = driver(vec![vec![schedule_local(1, "lookup", "anything")]]);
    d.apply_events(&history(local_history("lookup", None)))
        .unwrap();
}
