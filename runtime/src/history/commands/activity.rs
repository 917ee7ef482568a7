//! Activities: `ScheduleActivity` becomes `ActivityTaskScheduled`,
//! `RequestCancelActivity` becomes `ActivityTaskCancelRequested` (followed
//! at once by `ActivityTaskCanceled` when no worker holds an attempt), and
//! the activity's closing event resolves it.

use super::{At, RunView, arguments};
use crate::failure::{ActivityError, Failure, RetryState};
use crate::history::{Event, EventAttributes};
use crate::protocol::{Resolution, ScheduleActivity};

/// An activity that can still be cancelled.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct OpenActivity {
    /// Its `ActivityTaskScheduled` event.
    pub scheduled_event_id: i64,
    /// Whether a worker holds an attempt: it then learns of the request
    /// when it heartbeats, else the activity stops at once.
    pub started: bool,
}

/// What replay knows of a scheduled activity: enough to resolve its future
/// and to describe it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ScheduledActivity {
    pub seq: u32,
    pub activity_type: String,
    pub activity_id: String,
}

/// The `ActivityTaskScheduled` event, with what the command leaves out
/// filled in as Temporal does: the run's task queue, start-to-close from
/// schedule-to-close, the default retry policy.
pub(super) fn scheduled(sa: &ScheduleActivity, run: &impl RunView, at: At) -> EventAttributes {
    let o = &sa.options;
    let task_queue = if sa.task_queue.is_empty() {
        run.task_queue().to_string()
    } else {
        sa.task_queue.clone()
    };
    EventAttributes::ActivityTaskScheduled {
        activity_id: sa.activity_id.clone(),
        activity_type: sa.activity_type.clone(),
        task_queue,
        input: sa.input.clone(),
        schedule_to_close_timeout: o.schedule_to_close_timeout,
        schedule_to_start_timeout: o.schedule_to_start_timeout,
        start_to_close_timeout: o.start_to_close_timeout.or(o.schedule_to_close_timeout),
        heartbeat_timeout: o.heartbeat_timeout,
        retry_policy: o.retry_policy.clone().unwrap_or_default(),
        workflow_task_completed_event_id: at.completed,
    }
}

/// The events of a cancel request: none when the activity is over already
/// (its outcome waits to be delivered), the request, and the cancellation
/// itself when no worker holds the activity.
pub(super) fn cancel_requested(seq: u32, run: &impl RunView, at: At) -> Vec<EventAttributes> {
    let Some(open) = run.activity(seq) else {
        return Vec::new();
    };
    let requested = EventAttributes::ActivityTaskCancelRequested {
        scheduled_event_id: open.scheduled_event_id,
        workflow_task_completed_event_id: at.completed,
    };
    if open.started {
        return vec![requested];
    }
    vec![
        requested,
        EventAttributes::ActivityTaskCanceled {
            scheduled_event_id: open.scheduled_event_id,
            started_event_id: 0,
            latest_cancel_requested_event_id: at.next_event_id,
            details: Vec::new(),
            identity: String::new(),
        },
    ]
}

/// Whether `event` schedules this activity: same id, type and input (the
/// same values: see [`arguments::same`]).
pub(super) fn matches_scheduled(sa: &ScheduleActivity, event: &Event) -> bool {
    matches!(
        &event.attributes,
        EventAttributes::ActivityTaskScheduled { activity_id, activity_type, input, .. }
            if *activity_id == sa.activity_id
                && *activity_type == sa.activity_type
                && arguments::same(input, &sa.input)
    )
}

/// Whether `event` asks to cancel the activity with this seq.
pub(super) fn matches_cancel(seq: u32, event: &Event, run: &impl RunView) -> bool {
    let Some(open) = run.activity(seq) else {
        return false;
    };
    matches!(
        &event.attributes,
        EventAttributes::ActivityTaskCancelRequested { scheduled_event_id, .. }
            if *scheduled_event_id == open.scheduled_event_id
    )
}

/// The scheduled event of the activity an event closes, if it closes one.
pub(crate) fn outcome_of(event: &Event) -> Option<i64> {
    match &event.attributes {
        EventAttributes::ActivityTaskCompleted {
            scheduled_event_id, ..
        }
        | EventAttributes::ActivityTaskFailed {
            scheduled_event_id, ..
        }
        | EventAttributes::ActivityTaskTimedOut {
            scheduled_event_id, ..
        }
        | EventAttributes::ActivityTaskCanceled {
            scheduled_event_id, ..
        } => Some(*scheduled_event_id),
        _ => None,
    }
}

/// How the workflow sees an activity's closing event: its value, or an
/// [`ActivityError`] naming the activity, the last attempt and the cause
/// (a `CanceledError` with the details for a cancellation). `None` for
/// events that close no activity.
pub(crate) fn resolution(
    attributes: &EventAttributes,
    activity: &ScheduledActivity,
    attempt: u32,
) -> Option<Resolution> {
    let error = |retry_state: &RetryState, failure: &Failure| ActivityError {
        activity_type: activity.activity_type.clone(),
        activity_id: activity.activity_id.clone(),
        retry_state: *retry_state,
        attempt,
        cause: Box::new(failure.clone()),
    };
    let failure = match attributes {
        EventAttributes::ActivityTaskCompleted { result, .. } => {
            return Some(Resolution::Completed(result.clone()));
        }
        EventAttributes::ActivityTaskFailed {
            failure,
            retry_state,
            ..
        }
        | EventAttributes::ActivityTaskTimedOut {
            failure,
            retry_state,
            ..
        } => error(retry_state, failure),
        EventAttributes::ActivityTaskCanceled { details, .. } => ActivityError::canceled(
            &activity.activity_type,
            &activity.activity_id,
            attempt,
            details.clone(),
        ),
        _ => return None,
    };
    Some(Resolution::Failed(Failure::Activity(failure)))
}
