//! How a workflow task's commands become history events, and how replay
//! recognizes a command among the events history holds.
//!
//! This is the one place that knows it: the engine records a completion
//! with [`record`], strict replay rebuilds the events of the task it checks
//! with [`task_events`] (which calls [`record`]), and replay checks each
//! command with [`matches`]. Each command kind has a file of its own that
//! owns both directions, and how the events that later resolve it (an
//! activity's outcome, a timer firing) read:
//!
//! | file | commands | events |
//! |---|---|---|
//! | `activity` | `ScheduleActivity`, `RequestCancelActivity` | `ActivityTaskScheduled`, `ActivityTaskCancelRequested` (and `ActivityTaskCanceled` when no worker holds it) |
//! | `timer` | `StartTimer`, `CancelTimer` | `TimerStarted`, `TimerCanceled` |
//! | `marker` | `RecordLocalActivityMarker`, `RecordSideEffect`, `SetPatchMarker` | `MarkerRecorded` |
//! | `update` | `UpdateResponse` | `WorkflowExecutionUpdateAccepted`, `WorkflowExecutionUpdateCompleted` (a rejection writes nothing) |
//! | `child` | `StartChildWorkflow`, `CancelChildWorkflow` | `StartChildWorkflowExecutionInitiated`, `RequestCancelExternalWorkflowExecutionInitiated` (naming the child) |
//! | `external` | `SignalExternalWorkflow`, `RequestCancelExternalWorkflow` | `SignalExternalWorkflowExecutionInitiated`, `RequestCancelExternalWorkflowExecutionInitiated` |
//! | `search_attributes` | `UpsertSearchAttributes` | `UpsertWorkflowSearchAttributes` |
//! | `close` | `CompleteWorkflow`, `FailWorkflow`, `CancelWorkflow`, `ContinueAsNew` | the run's closing event |
//!
//! `ScheduleLocalActivity` writes nothing: the local activity runs in the
//! worker, whose `RecordLocalActivityMarker` records its call and outcome;
//! replay matches the call with [`matches_local_call`].
//!
//! A command matches an event when it is the same kind, names the same
//! thing (activity id and type, timer, update, patch) and carries the same
//! arguments (an activity's or local activity's input, a timer's duration;
//! see `arguments`).
//! Temporal compares kind and id only; comparing arguments as well catches
//! code that, on replay, schedules the same activity for a different item.
//! Options that code may change between deployments without changing what
//! it does (timeouts, retry policy, task queue) are not compared.

mod activity;
mod arguments;
mod child;
mod close;
mod external;
mod marker;
mod search_attributes;
mod timer;
mod update;

use std::time::{Duration, SystemTime};

pub(crate) use activity::{OpenActivity, ScheduledActivity, outcome_of, resolution};
pub(crate) use child::{InitiatedChild, OpenChild};

/// What the events that resolve children and external requests mean.
pub(crate) mod resolve {
    pub(crate) use super::child::{
        closes_child, initiated_event_of, resolution as child, start_resolution as child_start,
    };
    pub(crate) use super::external::{failure as external_failure, outcome_of as external};
}
pub(crate) use arguments::same as same_arguments;
pub(crate) use marker::matches_local_call;
pub(crate) use timer::{fired_timer, timer_id};

use super::{Event, EventAttributes};
use crate::converter::{ConverterError, Payload};
use crate::protocol::{Command, UpdateResponse};

/// What a command's events refer to that the command does not carry: the
/// run as it stands when the command is applied. The engine answers from
/// its run state; replay from what the run's history has shown so far.
pub(crate) trait RunView {
    /// The run's task queue: activities scheduled without one go there.
    fn task_queue(&self) -> &str;
    /// The run's workflow type (a continue-as-new keeps it).
    fn workflow_type(&self) -> &str;
    /// The activity with this seq, while it can still be cancelled.
    fn activity(&self, seq: u32) -> Option<OpenActivity>;
    /// The `TimerStarted` event of the timer with this seq, while it can
    /// still be cancelled.
    fn timer(&self, seq: u32) -> Option<i64>;
    /// The update with this id, as it was delivered to the workflow.
    fn update(&self, id: &str) -> Option<DeliveredUpdate<'_>>;
    /// The child with this seq, while it can still be cancelled.
    fn child(&self, seq: u32) -> Option<OpenChild>;
    /// The id of the run a continue-as-new or a retry starts (empty when
    /// not known).
    fn next_run_id(&self) -> &str;
    /// Whether the run's retry policy retries this failure: `InProgress`
    /// when it does (the next run is [`next_run_id`](Self::next_run_id)),
    /// else why not. Replay does not compare it (a run's close is compared
    /// by kind), so a worker leaves the default, `RetryPolicyNotSet`.
    fn retry_state(&self, _failure: &crate::failure::Failure) -> crate::failure::RetryState {
        crate::failure::RetryState::RetryPolicyNotSet
    }
}

/// An update as the workflow received it.
#[derive(Clone, Copy, Debug)]
pub(crate) struct DeliveredUpdate<'a> {
    pub name: &'a str,
    pub input: &'a [Payload],
    /// The last event of history when the update arrived.
    pub sequencing_event_id: i64,
}

/// Where a command's events go: the `WorkflowTaskCompleted` event they
/// belong to, and the id the first of them gets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct At {
    pub completed: i64,
    pub next_event_id: i64,
}

/// The events a command writes, in order. Most write one; a rejected
/// update, a local activity's schedule and a cancel of something already
/// over write none; a cancel request for an activity no worker holds
/// writes two (requested, then canceled).
pub(crate) fn record(
    command: &Command,
    run: &impl RunView,
    at: At,
) -> Result<Vec<EventAttributes>, ConverterError> {
    Ok(match command {
        Command::ScheduleActivity(sa) => vec![activity::scheduled(sa, run, at)],
        Command::RequestCancelActivity { seq } => activity::cancel_requested(*seq, run, at),
        Command::StartTimer { seq, duration } => vec![timer::started(*seq, *duration, at)],
        Command::CancelTimer { seq } => timer::canceled(*seq, run, at).into_iter().collect(),
        Command::RecordLocalActivityMarker { .. }
        | Command::RecordSideEffect { .. }
        | Command::SetPatchMarker { .. } => marker::recorded(command, at)?.into_iter().collect(),
        Command::UpdateResponse { id, response } => update::recorded(id, response, run, at)
            .into_iter()
            .collect(),
        Command::CompleteWorkflow { .. }
        | Command::FailWorkflow { .. }
        | Command::CancelWorkflow { .. }
        | Command::ContinueAsNew { .. } => close::closed(command, run, at).into_iter().collect(),
        Command::StartChildWorkflow(sc) => vec![child::initiated(sc, run, at)],
        Command::CancelChildWorkflow { seq } => {
            child::cancel_requested(*seq, run, at).into_iter().collect()
        }
        Command::SignalExternalWorkflow {
            target,
            signal_name,
            input,
            ..
        } => vec![external::signal_initiated(target, signal_name, input, at)],
        Command::RequestCancelExternalWorkflow { target, .. } => {
            vec![external::cancel_initiated(target, at)]
        }
        Command::UpsertSearchAttributes { updates } => {
            vec![search_attributes::upserted(updates, at)]
        }
        Command::ScheduleLocalActivity(_) => Vec::new(),
    })
}

/// Whether `event` is the (first) event `command` records: same kind,
/// same identity, same arguments. `run` answers for the activities and
/// timers earlier commands started.
pub(crate) fn matches(command: &Command, event: &Event, run: &impl RunView) -> bool {
    match command {
        Command::ScheduleActivity(sa) => activity::matches_scheduled(sa, event),
        Command::RequestCancelActivity { seq } => activity::matches_cancel(*seq, event, run),
        Command::StartTimer { seq, duration } => timer::matches_started(*seq, *duration, event),
        Command::CancelTimer { seq } => timer::matches_canceled(*seq, event),
        Command::RecordLocalActivityMarker { .. }
        | Command::RecordSideEffect { .. }
        | Command::SetPatchMarker { .. } => marker::matches(command, event),
        Command::UpdateResponse { id, response } => update::matches(id, response, event),
        Command::CompleteWorkflow { .. }
        | Command::FailWorkflow { .. }
        | Command::CancelWorkflow { .. }
        | Command::ContinueAsNew { .. } => close::matches(command, event),
        Command::StartChildWorkflow(sc) => child::matches_initiated(sc, event),
        Command::CancelChildWorkflow { seq } => child::matches_cancel(*seq, event, run),
        Command::SignalExternalWorkflow {
            target,
            signal_name,
            input,
            ..
        } => external::matches_signal(target, signal_name, input, event),
        Command::RequestCancelExternalWorkflow { target, .. } => {
            external::matches_cancel(target, event)
        }
        Command::UpsertSearchAttributes { updates } => search_attributes::matches(updates, event),
        Command::ScheduleLocalActivity(_) => false,
    }
}

/// Whether the command is an update's rejection, which history never holds.
pub(crate) fn is_rejection(command: &Command) -> bool {
    matches!(
        command,
        Command::UpdateResponse {
            response: UpdateResponse::Rejected(_),
            ..
        }
    )
}

/// What a workflow task told the workflow about its history's size: live
/// from the task, on replay from its `WorkflowTaskStarted` event.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct TaskHint {
    pub suggest_continue_as_new: bool,
    pub history_size_bytes: u64,
}

/// The events the engine writes for a completed workflow task with these
/// commands, numbered after `last_event_id`: what strict replay checks a
/// fresh replay against. The task's own events (scheduled, started,
/// completed) carry only what replay reads; its commands' events come
/// from [`record`], as the engine writes them.
pub(crate) fn task_events(
    commands: &[Command],
    run: &mut impl TrackingView,
    last_event_id: i64,
    started_time: SystemTime,
    hint: TaskHint,
) -> Result<Vec<Event>, ConverterError> {
    if !commands.is_empty() && commands.iter().all(is_rejection) {
        // The engine may write nothing for such a task (speculative); a
        // replay then sees no trace of it, which is what it must match.
        return Ok(Vec::new());
    }
    let mut events = Vec::new();
    let scheduled = push(
        &mut events,
        last_event_id,
        started_time,
        EventAttributes::WorkflowTaskScheduled {
            task_queue: run.task_queue().to_string(),
            start_to_close_timeout: Duration::ZERO,
            attempt: 1,
        },
    );
    let started = push(
        &mut events,
        last_event_id,
        started_time,
        EventAttributes::WorkflowTaskStarted {
            scheduled_event_id: scheduled,
            identity: String::new(),
            suggest_continue_as_new: hint.suggest_continue_as_new,
            history_size_bytes: hint.history_size_bytes,
        },
    );
    let completed = push(
        &mut events,
        last_event_id,
        started_time,
        EventAttributes::WorkflowTaskCompleted {
            scheduled_event_id: scheduled,
            started_event_id: started,
            identity: String::new(),
            sdk_flags: Vec::new(),
        },
    );
    for command in commands {
        let at = At {
            completed,
            next_event_id: last_event_id + events.len() as i64 + 1,
        };
        for attributes in record(command, run, at)? {
            let event_id = push(&mut events, last_event_id, started_time, attributes);
            run.track(command, event_id);
        }
        if command.is_terminal() {
            break;
        }
    }
    Ok(events)
}

/// Appends an event numbered after `last_event_id` and the events before it.
fn push(
    events: &mut Vec<Event>,
    last_event_id: i64,
    time: SystemTime,
    attributes: EventAttributes,
) -> i64 {
    let event_id = last_event_id + events.len() as i64 + 1;
    events.push(Event {
        event_id,
        event_time: time,
        attributes,
    });
    event_id
}

/// A [`RunView`] that learns the activities, timers and children a task
/// starts as its events are written, so later commands of the task can
/// name them.
pub(crate) trait TrackingView: RunView {
    /// `command` wrote the event `event_id`.
    fn track(&mut self, command: &Command, event_id: i64);
}

#[cfg(test)]
mod tests;
