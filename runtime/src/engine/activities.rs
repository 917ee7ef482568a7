//! Activity attempts, retries and timeouts, timers, and the deadlines that
//! drive them: when an activity closes for good its events go to history
//! (or the run's buffer while a workflow task runs); retries add none.

use std::time::SystemTime;

use crate::backend::{
    ActivityTask, ActivityTaskResult, BackendError, HeartbeatResponse, TaskToken,
};
use crate::converter::{Payload, PayloadTooLarge};
use crate::failure::{CanceledError, Failure, RetryState, ServerError, TimeoutError, TimeoutType};
use crate::history::EventAttributes;

use super::deadlines::{Deadline, later};
use super::effects::Effect;
use super::engine_task::EngineTask;
use super::state::{
    ActivityOutcome, ActivityPhase, Incoming, PendingActivity, RunKey, WftState, failure_payloads,
};
use super::tasks::{append_incoming, task_not_found, write_scheduled};

fn timeout_failure(timeout_type: TimeoutType, last_heartbeat_details: Vec<Payload>) -> Failure {
    Failure::Timeout(TimeoutError {
        timeout_type,
        last_heartbeat_details,
    })
}

/// An attempt's failure as the next attempt records it (its
/// `ActivityTaskStarted`'s `last_failure`, `describe`'s last failure): a
/// timeout names no heartbeat details there, as on Temporal; the next
/// attempt is handed them as its own, and only a final
/// `ActivityTaskTimedOut` carries them in its failure.
fn retried_failure(failure: Failure) -> Failure {
    match failure {
        Failure::Timeout(timeout) => Failure::Timeout(TimeoutError {
            last_heartbeat_details: Vec::new(),
            ..timeout
        }),
        other => other,
    }
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

/// The pending activity an `ActivityTaskScheduled` event starts, its first
/// attempt waiting for a worker (`None` for other events).
pub(super) fn scheduled_activity(
    seq: u32,
    event: &EventAttributes,
    now: SystemTime,
) -> Option<PendingActivity> {
    let EventAttributes::ActivityTaskScheduled {
        activity_id,
        activity_type,
        task_queue,
        input,
        schedule_to_close_timeout,
        schedule_to_start_timeout,
        start_to_close_timeout,
        heartbeat_timeout,
        retry_policy,
        ..
    } = event
    else {
        return None;
    };
    Some(PendingActivity {
        activity_id: activity_id.clone(),
        activity_type: activity_type.clone(),
        task_queue: task_queue.clone(),
        input: input.clone(),
        schedule_to_close: *schedule_to_close_timeout,
        schedule_to_start: *schedule_to_start_timeout,
        start_to_close: *start_to_close_timeout,
        heartbeat: *heartbeat_timeout,
        retry_policy: retry_policy.clone(),
        scheduled_time: now,
        attempt: 1,
        attempt_scheduled_time: now,
        last_failure: None,
        phase: ActivityPhase::Scheduled,
        seq,
        cancel_requested: None,
        heartbeat_details: Vec::new(),
        last_heartbeat: None,
    })
}

impl EngineTask {
    /// Keeps an activity a workflow task scheduled (event `id`), arms its
    /// schedule deadlines and queues its first attempt once the schedule
    /// is durable.
    pub(super) fn track_activity(
        &mut self,
        key: &RunKey,
        id: i64,
        activity: PendingActivity,
        now: SystemTime,
    ) {
        let Some(run) = self.runs.get_mut(key) else {
            return;
        };
        if let Some(s2c) = activity.schedule_to_close {
            self.deadlines.arm(
                later(now, s2c),
                Deadline::ActivityScheduleToClose {
                    run: key.clone(),
                    id,
                },
            );
        }
        if let Some(s2s) = activity.schedule_to_start {
            self.deadlines.arm(
                later(now, s2s),
                Deadline::ActivityScheduleToStart {
                    run: key.clone(),
                    id,
                    attempt: 1,
                },
            );
        }
        run.state.activities.insert(id, activity);
        self.effects
            .push(Effect::EnqueueActivity(key.clone(), id, 1));
    }

    /// The workflow asked (event `requested`) to cancel activity `id`: its
    /// worker learns it on the next heartbeat, or, when no worker held it
    /// (`at_once`: its `ActivityTaskCanceled` is written), it is gone.
    pub(super) fn request_activity_cancel(
        &mut self,
        key: &RunKey,
        id: i64,
        requested: i64,
        at_once: bool,
    ) {
        let Some(run) = self.runs.get_mut(key) else {
            return;
        };
        if at_once {
            run.state.activities.remove(&id);
            run.state.new_events = true;
            self.deadlines.disarm_activity(key, id);
        } else if let Some(act) = run.state.activities.get_mut(&id) {
            act.cancel_requested = Some(requested);
        }
    }

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
        let workflow_type = run.state.workflow_type.clone();
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
                namespace: key.namespace.to_string(),
                run_id: key.run_id.to_string(),
                task_id: id,
                attempt,
                incarnation,
            },
            workflow_id,
            workflow_type,
            activity_id: act.activity_id.clone(),
            activity_type: act.activity_type.clone(),
            input: act.input.clone(),
            attempt,
            start_to_close_timeout: act.start_to_close,
            heartbeat_timeout: act.heartbeat,
            scheduled_time: act.attempt_scheduled_time,
            started_time: now,
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
        let Some(key) = self.open_key(&token.namespace, &token.run_id) else {
            return Ok(stop);
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
        let Some(key) = self.open_key(&token.namespace, &token.run_id) else {
            return Err(task_not_found("the run is not open"));
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
                    act.last_failure = Some(retried_failure(failure));
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
    /// now (after a waiting task's scheduled event) with a workflow task
    /// made ready.
    pub(super) fn deliver(&mut self, key: &RunKey, incoming: Incoming, now: SystemTime) {
        if let Some((held_key, held)) = &mut self.held
            && held_key == key
        {
            held.push(incoming);
            return;
        }
        let Some(run) = self.runs.get_mut(key) else {
            return;
        };
        self.batch.dirty.insert(key.clone());
        if matches!(run.state.wft, WftState::Started { .. }) {
            run.state.buffered.push(incoming);
            return;
        }
        write_scheduled(run, &mut self.batch, self.options.workflow_task_timeout);
        append_incoming(run, &mut self.batch, now, incoming);
        if run.state.wft == WftState::Idle {
            run.state.wft = WftState::Ready {
                scheduled_time: now,
            };
            self.effects.push(Effect::EnqueueWft(key.clone()));
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

    /// A retry's backoff is over: the next attempt waits for a worker.
    pub(super) fn retry_activity(&mut self, run: RunKey, id: i64, attempt: u32, now: SystemTime) {
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

    /// An attempt's heartbeat deadline: it timed out unless it heartbeated
    /// since, in which case the check moves to the new due time.
    pub(super) fn check_heartbeat(
        &mut self,
        run: RunKey,
        id: i64,
        attempt: u32,
        started: SystemTime,
        now: SystemTime,
    ) {
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
        self.activity_timed_out(&run, id, TimeoutType::Heartbeat, now);
    }

    /// One of an activity's timeouts fired: an attempt's (start-to-close,
    /// heartbeat) is retried as its policy allows; schedule-to-start is
    /// not retried; schedule-to-close ends the activity.
    pub(super) fn activity_timed_out(
        &mut self,
        run: &RunKey,
        id: i64,
        timeout_type: TimeoutType,
        now: SystemTime,
    ) {
        let details = self.heartbeat_details(run, id);
        match timeout_type {
            TimeoutType::StartToClose | TimeoutType::Heartbeat => {
                let failure = timeout_failure(timeout_type, details);
                self.attempt_failed(run, id, failure, true, now);
            }
            TimeoutType::ScheduleToStart => {
                self.close_activity(run, id, schedule_to_start_outcome(details), now);
            }
            // (A workflow's timeouts never reach an activity.)
            TimeoutType::ScheduleToClose
            | TimeoutType::WorkflowRun
            | TimeoutType::WorkflowExecution => {
                let outcome = ActivityOutcome::TimedOut {
                    failure: timeout_failure(TimeoutType::ScheduleToClose, details),
                    retry_state: RetryState::Timeout,
                };
                self.close_activity(run, id, outcome, now);
            }
        }
    }
}
