//! Timers: `StartTimer` becomes `TimerStarted`, `CancelTimer` becomes
//! `TimerCanceled` (nothing when the timer fired already), and
//! `TimerFired` resolves the timer. A timer's id in history is its seq.

use std::time::Duration;

use super::{At, RunView};
use crate::history::{Event, EventAttributes};

/// The id history gives the timer with this seq.
pub(crate) fn timer_id(seq: u32) -> String {
    seq.to_string()
}

pub(super) fn started(seq: u32, duration: Duration, at: At) -> EventAttributes {
    EventAttributes::TimerStarted {
        timer_id: timer_id(seq),
        start_to_fire_timeout: duration,
        workflow_task_completed_event_id: at.completed,
    }
}

/// The cancellation's event, or none when the timer is no longer pending
/// (it fired while the task ran: nothing is left to cancel).
pub(super) fn canceled(seq: u32, run: &impl RunView, at: At) -> Option<EventAttributes> {
    let started_event_id = run.timer(seq)?;
    Some(EventAttributes::TimerCanceled {
        timer_id: timer_id(seq),
        started_event_id,
        workflow_task_completed_event_id: at.completed,
    })
}

/// Whether `event` starts this timer for this long. History keeps whole
/// milliseconds, so durations are compared at that precision.
pub(super) fn matches_started(seq: u32, duration: Duration, event: &Event) -> bool {
    matches!(
        &event.attributes,
        EventAttributes::TimerStarted { timer_id: id, start_to_fire_timeout, .. }
            if *id == timer_id(seq)
                && start_to_fire_timeout.as_millis() == duration.as_millis()
    )
}

pub(super) fn matches_canceled(seq: u32, event: &Event) -> bool {
    matches!(
        &event.attributes,
        EventAttributes::TimerCanceled { timer_id: id, .. } if *id == timer_id(seq)
    )
}

/// The id of the timer an event fires, if it fires one.
pub(crate) fn fired_timer(event: &Event) -> Option<&str> {
    match &event.attributes {
        EventAttributes::TimerFired { timer_id, .. } => Some(timer_id),
        _ => None,
    }
}
