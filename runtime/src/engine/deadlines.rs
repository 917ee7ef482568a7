//! Deadlines: what the engine must do at a time (a workflow task's
//! timeout or backoff, an activity's retry and timeouts, a timer, a
//! query's timeout, a schedule's next action), kept in time order, checked against the state when
//! they fall due, so a stale one is simply ignored.

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, SystemTime};

use super::engine_task::EngineTask;
use super::requests::QueueKey;
use super::schedules::ScheduleKey;
use super::state::{ActivityPhase, RunKey, WftState};
use crate::failure::TimeoutType;

/// Something the engine must do at a time; checked against the current
#[derive(Clone, Debug)]
pub(crate) enum Deadline {
    WftTimeout {
        run: RunKey,
        task_id: i64,
    },
    WftBackoff {
        run: RunKey,
    },
    ActivityRetry {
        run: RunKey,
        id: i64,
        attempt: u32,
    },
    /// `started` tells this dispatch of the attempt from an earlier one that
    /// never reached its worker.
    ActivityStartToClose {
        run: RunKey,
        id: i64,
        attempt: u32,
        started: SystemTime,
    },
    ActivityScheduleToStart {
        run: RunKey,
        id: i64,
        attempt: u32,
    },
    /// Checks the attempt heartbeated within its heartbeat timeout
    /// (re-armed from the last heartbeat, not on each one).
    ActivityHeartbeat {
        run: RunKey,
        id: i64,
        attempt: u32,
        started: SystemTime,
    },
    ActivityScheduleToClose {
        run: RunKey,
        id: i64,
    },
    Timer {
        run: RunKey,
        started_event_id: i64,
    },
    QueryTimeout {
        id: i64,
        delivery: u32,
    },
    /// The run's run timeout or its chain's execution deadline.
    RunTimeout {
        run: RunKey,
    },
    /// A schedule's next action is due (`generation` tells the one armed
    /// last from stale ones).
    Schedule {
        key: ScheduleKey,
        generation: u64,
    },
    /// Logs that a task of `task_type` waits on a queue no worker has
    /// polled; armed a grace period after it arrived, so a worker started
    /// a moment later is not reported.
    Unpolled {
        queue: QueueKey,
        activity: bool,
        task_type: String,
    },
}

#[derive(Default)]
pub(crate) struct Deadlines {
    map: BTreeMap<(SystemTime, u64), Deadline>,
    seq: u64,
    owned: HashMap<Owner, (SystemTime, u64)>,
}

/// What a long-lived deadline belongs to, so it can be dropped when that
/// ends early (a cancelled timer, a closed activity) instead of lingering
/// until it falls due.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum Owner {
    Timer(RunKey, i64),
    ScheduleToClose(RunKey, i64),
    RunTimeout(RunKey),
}

impl Deadline {
    fn owner(&self) -> Option<Owner> {
        match self {
            Deadline::Timer {
                run,
                started_event_id,
            } => Some(Owner::Timer(run.clone(), *started_event_id)),
            Deadline::ActivityScheduleToClose { run, id } => {
                Some(Owner::ScheduleToClose(run.clone(), *id))
            }
            Deadline::RunTimeout { run } => Some(Owner::RunTimeout(run.clone())),
            _ => None,
        }
    }
}

impl Deadlines {
    pub fn arm(&mut self, at: SystemTime, deadline: Deadline) {
        self.seq += 1;
        if let Some(owner) = deadline.owner()
            && let Some(old) = self.owned.insert(owner, (at, self.seq))
        {
            self.map.remove(&old);
        }
        self.map.insert((at, self.seq), deadline);
    }

    /// Drops a timer's deadline (it was cancelled, or its run closed).
    pub fn disarm_timer(&mut self, run: &RunKey, started_event_id: i64) {
        if let Some(key) = self
            .owned
            .remove(&Owner::Timer(run.clone(), started_event_id))
        {
            self.map.remove(&key);
        }
    }

    /// Drops a run's timeout (it closed).
    pub fn disarm_run_timeout(&mut self, run: &RunKey) {
        if let Some(key) = self.owned.remove(&Owner::RunTimeout(run.clone())) {
            self.map.remove(&key);
        }
    }

    /// Drops an activity's schedule-to-close deadline (it closed).
    pub fn disarm_activity(&mut self, run: &RunKey, id: i64) {
        if let Some(key) = self.owned.remove(&Owner::ScheduleToClose(run.clone(), id)) {
            self.map.remove(&key);
        }
    }

    pub fn first(&self) -> Option<(SystemTime, &Deadline)> {
        self.map.first_key_value().map(|(k, d)| (k.0, d))
    }

    pub fn pop_first(&mut self) -> Option<Deadline> {
        let deadline = self.map.pop_first()?.1;
        if let Some(owner) = deadline.owner() {
            self.owned.remove(&owner);
        }
        Some(deadline)
    }

    pub fn next(&self) -> Option<SystemTime> {
        self.first().map(|(at, _)| at)
    }

    pub fn pop_due(&mut self, now: SystemTime) -> Option<Deadline> {
        if self.next()? > now {
            return None;
        }
        self.pop_first()
    }
}

/// `t + d`, saturating far in the future instead of overflowing.
///
/// Rounded up to a whole millisecond: the engine's `now()` is cut to
/// milliseconds, so a deadline between two of them would never read as due
/// and the loop would spin until the next one (forever on a virtual clock).
pub(crate) fn later(t: SystemTime, d: Duration) -> SystemTime {
    const FAR: Duration = Duration::from_secs(10_000 * 365 * 86_400);
    let d = d.min(FAR);
    let sub_ms = d.subsec_nanos() % 1_000_000;
    let d = if sub_ms == 0 {
        d
    } else {
        d + Duration::from_nanos(u64::from(1_000_000 - sub_ms))
    };
    t.checked_add(d).unwrap_or(t)
}

impl EngineTask {
    pub(super) fn fire_due(&mut self) {
        let now = self.now();
        while let Some(deadline) = self.deadlines.pop_due(now) {
            self.on_deadline(deadline, now);
        }
    }

    /// Whether a deadline still means something: what it would act on is
    /// still there, in the state it was armed for. `on_deadline` acts only
    /// on these; time skipping skips only to these.
    pub(super) fn is_live(&self, deadline: &Deadline) -> bool {
        let activity =
            |run: &RunKey, id: &i64| self.runs.get(run).and_then(|r| r.state.activities.get(id));
        match deadline {
            Deadline::QueryTimeout { id, .. } => self.queries.contains_key(id),
            Deadline::Schedule { key, generation } => {
                self.schedule_deadline_is_live(key, *generation)
            }
            Deadline::WftTimeout { run, task_id } => self.runs.get(run).is_some_and(
                |r| matches!(r.state.wft, WftState::Started { task_id: t, .. } if t == *task_id),
            ),
            Deadline::WftBackoff { run } => self
                .runs
                .get(run)
                .is_some_and(|r| matches!(r.state.wft, WftState::Backoff { .. })),
            Deadline::ActivityRetry { run, id, attempt } => activity(run, id).is_some_and(|a| {
                a.attempt == *attempt && matches!(a.phase, ActivityPhase::Backoff { .. })
            }),
            Deadline::ActivityStartToClose {
                run,
                id,
                attempt,
                started,
            }
            | Deadline::ActivityHeartbeat {
                run,
                id,
                attempt,
                started,
            } => activity(run, id).is_some_and(|a| {
                a.attempt == *attempt
                    && matches!(a.phase, ActivityPhase::Started { started_time } if started_time == *started)
            }),
            Deadline::ActivityScheduleToStart { run, id, attempt } => activity(run, id)
                .is_some_and(|a| a.attempt == *attempt && a.phase == ActivityPhase::Scheduled),
            Deadline::ActivityScheduleToClose { run, id } => activity(run, id).is_some(),
            Deadline::Unpolled {
                queue, activity, ..
            } => {
                if *activity {
                    self.act_queues.get(queue).is_some_and(|q| q.waits_unpolled())
                } else {
                    self.wft_queues.get(queue).is_some_and(|q| q.waits_unpolled())
                }
            }
            Deadline::Timer {
                run,
                started_event_id,
            } => self
                .runs
                .get(run)
                .is_some_and(|r| r.state.timers.contains_key(started_event_id)),
            Deadline::RunTimeout { run } => self.runs.contains_key(run),
        }
    }

    /// Acts on a deadline that fell due, if it still means something
    /// ([`EngineTask::is_live`]).
    pub(super) fn on_deadline(&mut self, deadline: Deadline, now: SystemTime) {
        if !self.is_live(&deadline) {
            return;
        }
        match deadline {
            Deadline::QueryTimeout { id, delivery } => self.query_timed_out(id, delivery),
            Deadline::Schedule { key, .. } => self.schedule_due(&key, now),
            Deadline::WftTimeout { run, .. } => {
                let default = self.options.workflow_task_timeout;
                let timeout = self
                    .runs
                    .get(&run)
                    .map_or(default, |r| r.state.task_timeout(default));
                let message = format!("workflow task timed out after {timeout:?}");
                self.wft_failed(&run, None, message);
            }
            Deadline::WftBackoff { run } => self.wft_backoff_over(run, now),
            Deadline::ActivityRetry { run, id, attempt } => {
                self.retry_activity(run, id, attempt, now)
            }
            Deadline::ActivityHeartbeat {
                run,
                id,
                attempt,
                started,
            } => self.check_heartbeat(run, id, attempt, started, now),
            Deadline::ActivityStartToClose { run, id, .. } => {
                self.activity_timed_out(&run, id, TimeoutType::StartToClose, now)
            }
            Deadline::ActivityScheduleToStart { run, id, .. } => {
                self.activity_timed_out(&run, id, TimeoutType::ScheduleToStart, now)
            }
            Deadline::ActivityScheduleToClose { run, id } => {
                self.activity_timed_out(&run, id, TimeoutType::ScheduleToClose, now)
            }
            Deadline::Timer {
                run,
                started_event_id,
            } => self.fire_timer(&run, started_event_id, now),
            Deadline::RunTimeout { run } => self.run_timed_out(&run, now),
            Deadline::Unpolled {
                queue,
                activity,
                task_type,
            } => {
                let kind = if activity { "activity" } else { "workflow" };
                let warning = super::queues::no_worker(kind, &task_type, &queue.1);
                tracing::warn!(namespace = %queue.0, "{warning}");
            }
        }
    }
}

#[cfg(test)]
mod later_tests {
    use std::time::UNIX_EPOCH;

    use super::*;

    #[test]
    fn deadlines_round_up_to_whole_milliseconds() {
        let t = UNIX_EPOCH + Duration::from_millis(1_000);
        assert_eq!(
            later(t, Duration::from_micros(1_500)),
            t + Duration::from_millis(2)
        );
        assert_eq!(
            later(t, Duration::from_millis(3)),
            t + Duration::from_millis(3)
        );
        assert_eq!(
            later(t, Duration::from_nanos(1)),
            t + Duration::from_millis(1)
        );
        assert!(later(t, Duration::MAX) > t);
    }
}
