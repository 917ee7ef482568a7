//! Activity attempts, retries and timeouts, timers, and the deadlines that
//! drive them: when an activity closes for good its events go to history
//! (or the run's buffer while a workflow task runs); retries add none.

use std::time::SystemTime;

use crate::backend::{
    ActivityTask, ActivityTaskResult, BackendError, HeartbeatResponse, TaskToken,
};
use crate::converter::{Payload, PayloadTooLarge};
use crate::failure::{CanceledError, Failure, RetryState, ServerError, TimeoutError, TimeoutType};

use super::core::{Core, Deadline, Effect, later};
use super::state::{ActivityOutcome, ActivityPhase, Incoming, RunKey, WftState, failure_payloads};
use super::tasks::{append_incoming, task_not_found};

fn timeout_failure(timeout_type: TimeoutType, last_heartbeat_details: Vec<Payload>) -> Failure {
    Failure::Timeout(TimeoutError {
        timeout_type,
        last_heartbeat_details,
    })
}

/// Schedule-to-start timeouts are not retried.
fn schedule_to_start_outcome(details: Vec<Payload>) -> ActivityOutcome {
    ActivityOutcome::TimedOut {
        failure: timeout_failure(TimeoutType::ScheduleToStart, details),
        retry_state: RetryState::NonRetryableFailure,
    }
}

/// An activity stopped on its cancellation request with no worker's word.
pub(super) fn canceled_outcome(latest_cancel_requested_event_id: i64) -> ActivityOutcome {
    ActivityOutcome::Canceled {
        details: Vec::new(),
        latest_cancel_requested_event_id,
        identity: String::new(),
    }
}

impl Core {
    /// Hands a ready activity attempt out (memory only).
    pub(super) fn start_activity(
        &mut self,
        key: &RunKey,
        id: i64,
        attempt: u32,
    ) -> Option<ActivityTask> {
        let now = self.now();
        let incarnation = self.incarnation;
        let run = self.runs.get_mut(key)?;
        let workflow_id = run.state.workflow_id.clone();
        let act = run.state.activities.get_mut(&id)?;
        if act.attempt != attempt || act.phase != ActivityPhase::Scheduled {
            return None;
        }
        if let Some(requested) = act.cancel_requested {
            // Its cancellation was asked while an attempt ran, and that
            // attempt was lost (an engine restart, a poller gone): no worker
            // holds it now, so it stops here.
            self.close_activity(key, id, canceled_outcome(requested), now);
            return None;
        }
        if act
            .schedule_to_start
            .is_some_and(|s2s| later(act.attempt_scheduled_time, s2s) <= now)
        {
            let details = act.heartbeat_details.clone();
            self.close_activity(key, id, schedule_to_start_outcome(details), now);
            return None;
        }
        act.phase = ActivityPhase::Started { started_time: now };
        act.last_heartbeat = None;
        if let Some(hb) = act.heartbeat {
            self.deadlines.arm(
                later(now, hb),
                Deadline::ActivityHeartbeat {
                    run: key.clone(),
                    id,
                    attempt,
                    started: now,
                },
            );
        }
        if let Some(s2c) = act.start_to_close {
            self.deadlines.arm(
                later(now, s2c),
                Deadline::ActivityStartToClose {
                    run: key.clone(),
                    id,
                    attempt,
                    started: now,
                },
            );
        }
        Some(ActivityTask {
            token: TaskToken {
                namespace: key.namespace.clone(),
                run_id: key.run_id.clone(),
                task_id: id,
                attempt,
                incarnation,
            },
            workflow_id,
            activity_id: act.activity_id.clone(),
            activity_type: act.activity_type.clone(),
            input: act.input.clone(),
            attempt,
            start_to_close_timeout: act.start_to_close,
            heartbeat_timeout: act.heartbeat,
            scheduled_time: act.attempt_scheduled_time,
            heartbeat_details: act.heartbeat_details.clone(),
        })
    }

    /// Records a heartbeat of the current attempt. A stale token (a later
    /// attempt runs, the activity or run closed, the engine restarted) is
    /// told to stop rather than refused: its work is no longer wanted.
    pub(super) fn heartbeat(
        &mut self,
        token: &TaskToken,
        details: Vec<Payload>,
    ) -> Result<HeartbeatResponse, BackendError> {
        let stop = HeartbeatResponse {
            cancel_requested: true,
        };
        if token.incarnation != self.incarnation {
            return Ok(stop);
        }
        let now = self.now();
        let key = RunKey {
            namespace: token.namespace.clone(),
            run_id: token.run_id.clone(),
        };
        if !self.is_current(&key, token) {
            return Ok(stop);
        }
        if let Err(too_large) = self
            .options
            .payload_limits
            .check("heartbeat details", &details)
        {
            // Refusing only the heartbeat would leave the attempt to time
            // out without one and be retried.
            self.outcome_too_large(&key, token.task_id, too_large, now);
            return Ok(stop);
        }
        let Some(act) = self
            .runs
            .get_mut(&key)
            .and_then(|r| r.state.activities.get_mut(&token.task_id))
        else {
            return Ok(stop);
        };
        act.last_heartbeat = Some(now);
        let cancel_requested = act.cancel_requested.is_some();
        if act.heartbeat_details != details {
            act.heartbeat_details = details;
            self.batch.dirty.insert(key);
        }
        Ok(HeartbeatResponse { cancel_requested })
    }

    pub(super) fn complete_activity(
        &mut self,
        token: &TaskToken,
        result: ActivityTaskResult,
    ) -> Result<(), BackendError> {
        if token.incarnation != self.incarnation {
            return Err(task_not_found("the token is from an earlier engine start"));
        }
        let key = RunKey {
            namespace: token.namespace.clone(),
            run_id: token.run_id.clone(),
        };
        if !self.is_current(&key, token) {
            return Err(task_not_found(
                "the activity attempt is not the one started with this token",
            ));
        }
        let limits = self.options.payload_limits;
        let now = self.now();
        let size = match &result {
            ActivityTaskResult::Completed(payload) => limits.check("activity result", [payload]),
            ActivityTaskResult::Failed(failure) => {
                limits.check("activity failure details", failure_payloads(failure))
            }
            ActivityTaskResult::Canceled(details) => {
                limits.check("activity cancellation details", details)
            }
        };
        if let Err(too_large) = size {
            self.outcome_too_large(&key, token.task_id, too_large, now);
            return Ok(());
        }
        match result {
            ActivityTaskResult::Completed(payload) => {
                self.close_activity(
                    &key,
                    token.task_id,
                    ActivityOutcome::Completed(payload),
                    now,
                );
            }
            ActivityTaskResult::Failed(failure) => {
                self.attempt_failed(&key, token.task_id, failure.truncated(), false, now);
            }
            ActivityTaskResult::Canceled(details) => {
                let requested = self
                    .runs
                    .get(&key)
                    .and_then(|r| r.state.activities.get(&token.task_id))
                    .and_then(|a| a.cancel_requested);
                match requested {
                    Some(requested) => self.close_activity(
                        &key,
                        token.task_id,
                        ActivityOutcome::Canceled {
                            details,
                            latest_cancel_requested_event_id: requested,
                            identity: String::new(),
                        },
                        now,
                    ),
                    // Nobody asked: a cancellation error is the activity's
                    // own failure (not retried).
                    None => {
                        let failure = Failure::Canceled(CanceledError {
                            message: "the activity reported a cancellation nobody requested".into(),
                            details,
                        });
                        self.attempt_failed(&key, token.task_id, failure, false, now);
                    }
                }
            }
        }
        Ok(())
    }

    /// Whether `token` names the attempt of its activity that is running.
    fn is_current(&self, key: &RunKey, token: &TaskToken) -> bool {
        self.runs
            .get(key)
            .and_then(|r| r.state.activities.get(&token.task_id))
            .is_some_and(|a| {
                a.attempt == token.attempt && matches!(a.phase, ActivityPhase::Started { .. })
            })
    }

    /// An attempt reported more than a payload may hold (its result, its
    /// failure's or cancellation's details, or a heartbeat's): it fails at
    /// once, not retried, with the sizes in history, as Temporal fails it.
    /// A retry would most likely report as much, and refusing the report
    /// alone would leave the attempt to time out and retry for ever.
    fn outcome_too_large(
        &mut self,
        key: &RunKey,
        id: i64,
        too_large: PayloadTooLarge,
        now: SystemTime,
    ) {
        tracing::warn!(
            run_id = %key.run_id,
            scheduled_event_id = id,
            error = %too_large,
            "activity attempt over the payload limit; the activity fails without retries"
        );
        let failure = Failure::Server(ServerError {
            message: format!("{too_large}; the activity fails without retries"),
            non_retryable: true,
        });
        self.attempt_failed(key, id, failure, false, now);
    }

    /// An attempt failed or timed out: retry per policy (unless its
    /// cancellation was requested), or close the activity with the retry
    /// state.
    fn attempt_failed(
        &mut self,
        key: &RunKey,
        id: i64,
        failure: Failure,
        timed_out: bool,
        now: SystemTime,
    ) {
        let Some(act) = self
            .runs
            .get_mut(key)
            .and_then(|r| r.state.activities.get_mut(&id))
        else {
            return;
        };
        // Once the workflow asked for its cancellation, an activity is not
        // retried: it closes with this attempt's failure (as Temporal does).
        let next = if act.cancel_requested.is_some() {
            Err(RetryState::CancelRequested)
        } else {
            act.retry_policy.next_delay(act.attempt, &failure)
        };
        let retry_state = match next {
            Ok(delay) => {
                let until = later(now, delay);
                let in_time = act
                    .schedule_to_close
                    .is_none_or(|s2c| until < later(act.scheduled_time, s2c));
                if in_time {
                    // Retries add no events: only the state changes.
                    act.attempt += 1;
                    act.last_failure = Some(failure);
                    act.phase = ActivityPhase::Backoff { until };
                    let attempt = act.attempt;
                    self.batch.dirty.insert(key.clone());
                    self.deadlines.arm(
                        until,
                        Deadline::ActivityRetry {
                            run: key.clone(),
                            id,
                            attempt,
                        },
                    );
                    return;
                }
                RetryState::Timeout
            }
            Err(state) => state,
        };
        let outcome = if timed_out {
            ActivityOutcome::TimedOut {
                failure,
                retry_state,
            }
        } else {
            ActivityOutcome::Failed {
                failure,
                retry_state,
            }
        };
        self.close_activity(key, id, outcome, now);
    }

    /// The activity is done for good: its events go to history (or the
    /// buffer while a workflow task runs).
    fn close_activity(&mut self, key: &RunKey, id: i64, outcome: ActivityOutcome, now: SystemTime) {
        let Some(act) = self
            .runs
            .get_mut(key)
            .and_then(|r| r.state.activities.remove(&id))
        else {
            return;
        };
        self.deadlines.disarm_activity(key, id);
        let started = matches!(act.phase, ActivityPhase::Started { .. }) || act.attempt > 1;
        self.deliver(
            key,
            Incoming::ActivityClosed {
                scheduled_event_id: id,
                attempt: act.attempt,
                started,
                last_failure: act.last_failure,
                outcome,
            },
            now,
        );
    }

    /// A fact for the workflow: buffered while its task runs, else written
    /// now with a workflow task made ready.
    pub(super) fn deliver(&mut self, key: &RunKey, incoming: Incoming, now: SystemTime) {
        let Some(run) = self.runs.get_mut(key) else {
            return;
        };
        self.batch.dirty.insert(key.clone());
        if matches!(run.state.wft, WftState::Started { .. }) {
            run.state.buffered.push(incoming);
            return;
        }
        append_incoming(run, &mut self.batch, now, incoming);
        if run.state.wft == WftState::Idle {
            run.state.wft = WftState::Ready {
                scheduled_time: now,
            };
            self.effects.push(Effect::EnqueueWft(key.clone()));
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
            Deadline::Timer {
                run,
                started_event_id,
            } => self
                .runs
                .get(run)
                .is_some_and(|r| r.state.timers.contains_key(started_event_id)),
        }
    }

    /// The last heartbeat details of an activity (empty if none or gone).
    fn heartbeat_details(&self, run: &RunKey, id: i64) -> Vec<Payload> {
        self.runs
            .get(run)
            .and_then(|r| r.state.activities.get(&id))
            .map(|a| a.heartbeat_details.clone())
            .unwrap_or_default()
    }

    /// Acts on a deadline that fell due, if it still means something
    /// ([`Core::is_live`]).
    pub(super) fn on_deadline(&mut self, deadline: Deadline, now: SystemTime) {
        if !self.is_live(&deadline) {
            return;
        }
        match deadline {
            Deadline::QueryTimeout { id, delivery } => self.query_timed_out(id, delivery),
            Deadline::WftTimeout { run, .. } => {
                let message = format!(
                    "workflow task timed out after {:?}",
                    self.options.workflow_task_timeout
                );
                self.wft_failed(&run, None, message);
            }
            Deadline::WftBackoff { run } => {
                let Some(r) = self.runs.get_mut(&run) else {
                    return;
                };
                if let WftState::Backoff { until } = r.state.wft
                    && until <= now
                {
                    r.state.wft = WftState::Ready {
                        scheduled_time: now,
                    };
                    self.effects.push(Effect::EnqueueWft(run));
                }
            }
            Deadline::ActivityRetry { run, id, attempt } => {
                let Some(act) = self
                    .runs
                    .get_mut(&run)
                    .and_then(|r| r.state.activities.get_mut(&id))
                else {
                    return;
                };
                act.phase = ActivityPhase::Scheduled;
                act.attempt_scheduled_time = now;
                if let Some(s2s) = act.schedule_to_start {
                    self.deadlines.arm(
                        later(now, s2s),
                        Deadline::ActivityScheduleToStart {
                            run: run.clone(),
                            id,
                            attempt,
                        },
                    );
                }
                self.effects.push(Effect::EnqueueActivity(run, id, attempt));
            }
            Deadline::ActivityStartToClose { run, id, .. } => {
                let details = self.heartbeat_details(&run, id);
                let failure = timeout_failure(TimeoutType::StartToClose, details);
                self.attempt_failed(&run, id, failure, true, now);
            }
            Deadline::ActivityHeartbeat {
                run,
                id,
                attempt,
                started,
            } => {
                let Some(act) = self
                    .runs
                    .get(&run)
                    .and_then(|r| r.state.activities.get(&id))
                else {
                    return;
                };
                let Some(hb) = act.heartbeat else {
                    return;
                };
                let due = later(act.last_heartbeat.unwrap_or(started), hb);
                if due > now {
                    self.deadlines.arm(
                        due,
                        Deadline::ActivityHeartbeat {
                            run,
                            id,
                            attempt,
                            started,
                        },
                    );
                    return;
                }
                let failure =
                    timeout_failure(TimeoutType::Heartbeat, act.heartbeat_details.clone());
                self.attempt_failed(&run, id, failure, true, now);
            }
            Deadline::ActivityScheduleToStart { run, id, .. } => {
                let details = self.heartbeat_details(&run, id);
                self.close_activity(&run, id, schedule_to_start_outcome(details), now);
            }
            Deadline::ActivityScheduleToClose { run, id } => {
                let outcome = ActivityOutcome::TimedOut {
                    failure: timeout_failure(
                        TimeoutType::ScheduleToClose,
                        self.heartbeat_details(&run, id),
                    ),
                    retry_state: RetryState::Timeout,
                };
                self.close_activity(&run, id, outcome, now);
            }
            Deadline::Timer {
                run,
                started_event_id,
            } => {
                let Some(timer) = self
                    .runs
                    .get_mut(&run)
                    .and_then(|r| r.state.timers.remove(&started_event_id))
                else {
                    return;
                };
                self.deliver(
                    &run,
                    Incoming::TimerFired {
                        timer_id: timer.timer_id,
                        started_event_id,
                    },
                    now,
                );
            }
        }
    }
}
