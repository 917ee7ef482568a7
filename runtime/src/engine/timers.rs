//! Durable timers: a `TimerStarted` arms a deadline, a `TimerCanceled`
//! drops it, and a deadline that falls due writes `TimerFired` (or buffers
//! it while a workflow task runs).

use std::time::{Duration, SystemTime};

use super::deadlines::{Deadline, later};
use super::engine_task::EngineTask;
use super::state::{Incoming, PendingTimer, RunKey};

impl EngineTask {
    /// Keeps a timer a workflow task started (event `started_event_id`)
    /// and arms its deadline.
    pub(super) fn track_timer(
        &mut self,
        key: &RunKey,
        started_event_id: i64,
        timer_id: String,
        duration: Duration,
        now: SystemTime,
    ) {
        let Some(run) = self.runs.get_mut(key) else {
            return;
        };
        let fire_at = later(now, duration);
        run.state
            .timers
            .insert(started_event_id, PendingTimer { timer_id, fire_at });
        self.deadlines.arm(
            fire_at,
            Deadline::Timer {
                run: key.clone(),
                started_event_id,
            },
        );
    }

    /// A timer the workflow cancelled: it will not fire.
    pub(super) fn forget_timer(&mut self, key: &RunKey, started_event_id: i64) {
        if let Some(run) = self.runs.get_mut(key) {
            run.state.timers.remove(&started_event_id);
        }
        self.deadlines.disarm_timer(key, started_event_id);
    }

    /// A timer's deadline fell due: it fires.
    pub(super) fn fire_timer(&mut self, key: &RunKey, started_event_id: i64, now: SystemTime) {
        let Some(timer) = self
            .runs
            .get_mut(key)
            .and_then(|r| r.state.timers.remove(&started_event_id))
        else {
            return;
        };
        self.deliver(
            key,
            Incoming::TimerFired {
                timer_id: timer.timer_id,
                started_event_id,
            },
            now,
        );
    }
}
