//! Workflow task rules: what a delivery, completion, failure or timeout
//! changes in a run and which events it writes, and how incoming facts
//! (activity closed, timer fired, signal) become events.
//!
//! The history layout here is what the worker's replay relies on: workflow
//! task events are written lazily at completion (scheduled, started,
//! completed, then one event per command, then buffered events); failures
//! and timeouts only for the first in a row.

use std::time::{Duration, SystemTime};

use crate::backend::{BackendError, RunOutcome, TaskToken, WorkflowTask, WorkflowTaskCompletion};

use crate::failure::{CanceledError, Failure, RetryState};
use crate::history::{EventAttributes, WorkflowTaskFailedCause};
use crate::protocol::{Command, Resolution};
use crate::translate::marker_event;

use super::core::{Batch, Core, Deadline, Effect, Run, append, later};
use super::state::{
    ActivityOutcome, ActivityPhase, Incoming, PendingActivity, PendingTimer, RunKey, WftState,
    failure_payloads,
};
use super::updates::{
    apply_update_response, check_update_commands, deliver_updates, has_admitted, is_speculative,
    place_buffered_arrivals, trim_outcomes, undeliver_updates,
};

/// Backoff before retrying a failed workflow task: 100 ms doubling, at most 10 s.
fn wft_backoff(failures: u32) -> Duration {
    let exp = failures.saturating_sub(1).min(16);
    Duration::from_millis(100u64 << exp).min(Duration::from_secs(10))
}

/// What a workflow task tells the workflow about its history's size.
pub(super) struct CanHint {
    pub suggested: bool,
    pub size_bytes: u64,
}

/// Whether the engine suggests continue-as-new to a task of this run:
/// history at or over the configured event count or size.
pub(super) fn can_hint(options: &super::EngineOptions, state: &super::state::RunState) -> CanHint {
    let size_bytes = state.history_size_bytes;
    CanHint {
        suggested: state.history_length() >= options.continue_as_new_suggested_events
            || size_bytes >= options.continue_as_new_suggested_bytes,
        size_bytes,
    }
}

pub(super) fn task_not_found(what: &str) -> BackendError {
    BackendError::TaskNotFound(what.to_string())
}

/// Appends one incoming fact's events.
pub(super) fn append_incoming(
    run: &mut Run,
    batch: &mut Batch,
    now: SystemTime,
    incoming: Incoming,
) {
    match incoming {
        Incoming::ActivityClosed {
            scheduled_event_id,
            attempt,
            started,
            last_failure,
            outcome,
        } => {
            run.state.new_events = true;
            let started_event_id = if started {
                append(
                    run,
                    batch,
                    now,
                    EventAttributes::ActivityTaskStarted {
                        scheduled_event_id,
                        attempt,
                        identity: String::new(),
                        last_failure,
                    },
                )
            } else {
                0
            };
            let attributes = match outcome {
                ActivityOutcome::Completed(result) => EventAttributes::ActivityTaskCompleted {
                    scheduled_event_id,
                    started_event_id,
                    result,
                    identity: String::new(),
                },
                ActivityOutcome::Failed {
                    failure,
                    retry_state,
                } => EventAttributes::ActivityTaskFailed {
                    scheduled_event_id,
                    started_event_id,
                    failure,
                    retry_state,
                    identity: String::new(),
                },
                ActivityOutcome::TimedOut {
                    failure,
                    retry_state,
                } => EventAttributes::ActivityTaskTimedOut {
                    scheduled_event_id,
                    started_event_id,
                    failure,
                    retry_state,
                },
                ActivityOutcome::Canceled {
                    details,
                    latest_cancel_requested_event_id,
                    identity,
                } => EventAttributes::ActivityTaskCanceled {
                    scheduled_event_id,
                    started_event_id,
                    latest_cancel_requested_event_id,
                    details,
                    identity,
                },
            };
            append(run, batch, now, attributes);
        }
        Incoming::Signaled {
            signal_name,
            input,
            identity,
        } => {
            run.state.new_events = true;
            append(
                run,
                batch,
                now,
                EventAttributes::WorkflowExecutionSignaled {
                    signal_name,
                    input,
                    identity,
                },
            );
        }
        Incoming::TimerFired {
            timer_id,
            started_event_id,
        } => {
            run.state.new_events = true;
            append(
                run,
                batch,
                now,
                EventAttributes::TimerFired {
                    timer_id,
                    started_event_id,
                },
            );
        }
        Incoming::CancelRequested { cause, identity } => {
            run.state.new_events = true;
            append(
                run,
                batch,
                now,
                EventAttributes::WorkflowExecutionCancelRequested { cause, identity },
            );
        }
    }
}

/// Appends everything buffered; returns whether there was anything.
/// Updates that arrived while the buffer filled learn the event they
/// follow.
pub(super) fn append_buffered(run: &mut Run, batch: &mut Batch, now: SystemTime) -> bool {
    let buffered = std::mem::take(&mut run.state.buffered);
    let any = !buffered.is_empty();
    let base = run.state.next_event_id - 1;
    let mut ends = Vec::with_capacity(buffered.len());
    for incoming in buffered {
        append_incoming(run, batch, now, incoming);
        ends.push(run.state.next_event_id - 1);
    }
    place_buffered_arrivals(&mut run.state, base, &ends);
    any
}

impl Core {
    /// Hands a ready workflow task out (memory only; nothing is written).
    pub(super) fn start_wft(&mut self, key: &RunKey) -> Option<WorkflowTask> {
        let now = self.now();
        let timeout = self.options.workflow_task_timeout;
        let incarnation = self.incarnation;
        let run = self.runs.get_mut(key)?;
        let WftState::Ready { scheduled_time } = run.state.wft else {
            return None;
        };
        run.state.wft_seq += 1;
        let task_id = run.state.wft_seq;
        let attempt = run.state.wft_attempt;
        run.state.wft = WftState::Started {
            task_id,
            attempt,
            scheduled_time,
            started_time: now,
        };
        self.deadlines.arm(
            later(now, timeout),
            Deadline::WftTimeout {
                run: key.clone(),
                task_id,
            },
        );
        // Not written: a restart delivers them again anyway.
        let updates = deliver_updates(&mut run.state, task_id);
        let hint = can_hint(&self.options, &run.state);
        Some(WorkflowTask {
            token: TaskToken {
                namespace: key.namespace.clone(),
                run_id: key.run_id.clone(),
                task_id,
                attempt,
                incarnation,
            },
            workflow_id: run.state.workflow_id.clone(),
            workflow_type: run.state.workflow_type.clone(),
            events: run.recent.clone(),
            first_event_id: run.state.events_since,
            history_length: run.state.history_length(),
            started_time: now,
            attempt,
            timeout,
            history_size_bytes: hint.size_bytes,
            suggest_continue_as_new: hint.suggested,
            updates,
            query: None,
        })
    }

    /// The run and started workflow task a token names, or `TaskNotFound`.
    fn check_wft_token(&self, token: &TaskToken) -> Result<RunKey, BackendError> {
        if token.incarnation != self.incarnation {
            return Err(task_not_found("the token is from an earlier engine start"));
        }
        let key = RunKey {
            namespace: token.namespace.clone(),
            run_id: token.run_id.clone(),
        };
        let run = self
            .runs
            .get(&key)
            .ok_or_else(|| task_not_found("the run is not open"))?;
        match run.state.wft {
            WftState::Started {
                task_id, attempt, ..
            } if task_id == token.task_id && attempt == token.attempt => Ok(key),
            _ => Err(task_not_found(
                "the workflow task is not the one started with this token",
            )),
        }
    }

    /// Checks a completion's commands before anything changes.
    fn validate_commands(&self, commands: &[Command]) -> Result<(), BackendError> {
        let limits = &self.options.payload_limits;
        let mut terminal = false;
        for command in commands {
            if terminal {
                return Err(BackendError::InvalidArgument(
                    "a command follows the workflow's completion".into(),
                ));
            }
            match command {
                Command::ScheduleLocalActivity(sa) => {
                    return Err(BackendError::InvalidArgument(format!(
                        "local activity {} ({}) must run in the worker; \
                         ScheduleLocalActivity never reaches the engine",
                        sa.activity_id, sa.activity_type
                    )));
                }
                Command::ScheduleActivity(sa) => {
                    let what = format!("activity {} ({})", sa.activity_id, sa.activity_type);
                    if sa.activity_id.is_empty() || sa.activity_type.is_empty() {
                        return Err(BackendError::InvalidArgument(format!(
                            "{what}: activity id and type must not be empty"
                        )));
                    }
                    if sa.options.start_to_close_timeout.is_none()
                        && sa.options.schedule_to_close_timeout.is_none()
                    {
                        return Err(BackendError::InvalidArgument(format!(
                            "{what}: one of start_to_close_timeout or \
                             schedule_to_close_timeout is required"
                        )));
                    }
                    if let Some(policy) = &sa.options.retry_policy {
                        policy.validate().map_err(|e| {
                            BackendError::InvalidArgument(format!("{what}: retry policy: {e}"))
                        })?;
                    }
                    limits.check(&format!("input of {what}"), &sa.input)?;
                }
                Command::RecordLocalActivityMarker { result, .. } => match result {
                    Resolution::Completed(p) => limits.check("local activity result", [p])?,
                    Resolution::Failed(f) => {
                        limits.check("local activity failure details", failure_payloads(f))?
                    }
                },
                Command::RecordSideEffect { value, .. } => {
                    limits.check("side effect value", [value])?
                }
                Command::SetPatchMarker { patch_id, .. } => {
                    if patch_id.is_empty() {
                        return Err(BackendError::InvalidArgument(
                            "a patch id must not be empty".into(),
                        ));
                    }
                }
                Command::StartTimer { .. }
                | Command::UpdateResponse { .. }
                | Command::CancelTimer { .. }
                | Command::RequestCancelActivity { .. } => {}
                Command::CancelWorkflow { details } => {
                    terminal = true;
                    limits.check("workflow cancellation details", details)?;
                }
                Command::CompleteWorkflow { result } => {
                    terminal = true;
                    limits.check("workflow result", [result])?;
                }
                Command::FailWorkflow { failure } => {
                    terminal = true;
                    limits.check("workflow failure details", failure_payloads(failure))?;
                }
                Command::ContinueAsNew { input } => {
                    terminal = true;
                    limits.check("continue-as-new input", input)?;
                }
            }
        }
        Ok(())
    }

    pub(super) fn complete_wft(&mut self, c: WorkflowTaskCompletion) -> Result<(), BackendError> {
        let key = self.check_wft_token(&c.token)?;
        if let Err(refusal) = self.validate_commands(&c.commands) {
            // The task fails with the reason (recorded, retried with
            // backoff), rather than staying started until it times out.
            let failure: Failure = crate::failure::ApplicationError::new(refusal.to_string())
                .with_type("BadCommand")
                .into();
            let message = failure.to_string();
            self.wft_failed(
                &key,
                Some((WorkflowTaskFailedCause::BadCommand, failure)),
                message,
            );
            return Err(refusal);
        }
        let now = self.now();
        let wft_timeout = self.options.workflow_task_timeout;
        let Some(run) = self.runs.get_mut(&key) else {
            return Err(task_not_found("the run is not open"));
        };
        let WftState::Started {
            attempt,
            scheduled_time,
            started_time,
            ..
        } = run.state.wft
        else {
            return Err(task_not_found("the workflow task is not started"));
        };
        check_update_commands(&run.state, &c.commands, &self.options.payload_limits)?;
        if c.commands.iter().any(Command::is_terminal)
            && (!run.state.buffered.is_empty() || has_admitted(&run.state))
        {
            // The workflow decided to finish without seeing what arrived:
            // write nothing for this task, let a new task carry the events.
            append_buffered(run, &mut self.batch, now);
            undeliver_updates(&mut run.state);
            run.state.wft = WftState::Ready {
                scheduled_time: now,
            };
            self.batch.dirty.insert(key.clone());
            self.effects.push(Effect::EnqueueWft(key));
            return Err(BackendError::UnhandledCommand(
                "new events arrived while the workflow task ran; a new workflow task carries them"
                    .into(),
            ));
        }
        if is_speculative(&run.state, &c.commands) {
            // Only rejections, nothing new: history stays as it was.
            let mut answers = Vec::new();
            for command in c.commands {
                if let Command::UpdateResponse { id, response } = command {
                    answers.extend(apply_update_response(
                        run,
                        &mut self.batch,
                        now,
                        None,
                        id,
                        response,
                    ));
                }
            }
            run.state.wft = WftState::Idle;
            run.state.wft_attempt = 1;
            run.state.last_wft_failure = None;
            undeliver_updates(&mut run.state);
            if append_buffered(run, &mut self.batch, now) || has_admitted(&run.state) {
                run.state.wft = WftState::Ready {
                    scheduled_time: now,
                };
                self.effects.push(Effect::EnqueueWft(key.clone()));
            }
            self.batch.dirty.insert(key.clone());
            self.answer_updates(&key, answers);
            return Ok(());
        }
        let task_queue = run.state.task_queue.clone();
        // Nothing was written while the task ran (facts were buffered), so
        // this is what the task was handed.
        let hint = can_hint(&self.options, &run.state);
        let scheduled = append(
            run,
            &mut self.batch,
            scheduled_time,
            EventAttributes::WorkflowTaskScheduled {
                task_queue: task_queue.clone(),
                start_to_close_timeout: wft_timeout,
                attempt,
            },
        );
        let started = append(
            run,
            &mut self.batch,
            started_time,
            EventAttributes::WorkflowTaskStarted {
                scheduled_event_id: scheduled,
                identity: c.identity.clone(),
                suggest_continue_as_new: hint.suggested,
                history_size_bytes: hint.size_bytes,
            },
        );
        let completed = append(
            run,
            &mut self.batch,
            now,
            EventAttributes::WorkflowTaskCompleted {
                scheduled_event_id: scheduled,
                started_event_id: started,
                identity: c.identity,
                sdk_flags: c.sdk_flags,
            },
        );
        run.state.events_since = scheduled;
        run.recent.retain(|e| e.event_id >= scheduled);
        run.state.wft = WftState::Idle;
        run.state.wft_attempt = 1;
        run.state.last_wft_failure = None;
        run.state.new_events = false;
        let mut outcome = None;
        let mut continue_as_new = None;
        let mut answers = Vec::new();
        // Whether the commands produced an event the workflow must see.
        let mut wake = false;
        for command in c.commands {
            match command {
                Command::ScheduleActivity(sa) => {
                    let o = sa.options;
                    let retry_policy = o.retry_policy.unwrap_or_default();
                    // Temporal fills start-to-close from schedule-to-close.
                    let start_to_close = o.start_to_close_timeout.or(o.schedule_to_close_timeout);
                    let activity_queue = if sa.task_queue.is_empty() {
                        task_queue.clone()
                    } else {
                        sa.task_queue
                    };
                    let id = append(
                        run,
                        &mut self.batch,
                        now,
                        EventAttributes::ActivityTaskScheduled {
                            activity_id: sa.activity_id.clone(),
                            activity_type: sa.activity_type.clone(),
                            task_queue: activity_queue.clone(),
                            input: sa.input.clone(),
                            schedule_to_close_timeout: o.schedule_to_close_timeout,
                            schedule_to_start_timeout: o.schedule_to_start_timeout,
                            start_to_close_timeout: start_to_close,
                            heartbeat_timeout: o.heartbeat_timeout,
                            retry_policy: retry_policy.clone(),
                            workflow_task_completed_event_id: completed,
                        },
                    );
                    run.state.activities.insert(
                        id,
                        PendingActivity {
                            activity_id: sa.activity_id,
                            activity_type: sa.activity_type,
                            task_queue: activity_queue,
                            input: sa.input,
                            schedule_to_close: o.schedule_to_close_timeout,
                            schedule_to_start: o.schedule_to_start_timeout,
                            start_to_close,
                            heartbeat: o.heartbeat_timeout,
                            retry_policy,
                            scheduled_time: now,
                            attempt: 1,
                            attempt_scheduled_time: now,
                            last_failure: None,
                            phase: ActivityPhase::Scheduled,
                            seq: sa.seq,
                            cancel_requested: None,
                            heartbeat_details: Vec::new(),
                            last_heartbeat: None,
                        },
                    );
                    if let Some(s2c) = o.schedule_to_close_timeout {
                        self.deadlines.arm(
                            later(now, s2c),
                            Deadline::ActivityScheduleToClose {
                                run: key.clone(),
                                id,
                            },
                        );
                    }
                    if let Some(s2s) = o.schedule_to_start_timeout {
                        self.deadlines.arm(
                            later(now, s2s),
                            Deadline::ActivityScheduleToStart {
                                run: key.clone(),
                                id,
                                attempt: 1,
                            },
                        );
                    }
                    self.effects
                        .push(Effect::EnqueueActivity(key.clone(), id, 1));
                }
                Command::StartTimer { seq, duration } => {
                    let timer_id = seq.to_string();
                    let id = append(
                        run,
                        &mut self.batch,
                        now,
                        EventAttributes::TimerStarted {
                            timer_id: timer_id.clone(),
                            start_to_fire_timeout: duration,
                            workflow_task_completed_event_id: completed,
                        },
                    );
                    let fire_at = later(now, duration);
                    run.state
                        .timers
                        .insert(id, PendingTimer { timer_id, fire_at });
                    self.deadlines.arm(
                        fire_at,
                        Deadline::Timer {
                            run: key.clone(),
                            started_event_id: id,
                        },
                    );
                }
                marker @ (Command::RecordLocalActivityMarker { .. }
                | Command::RecordSideEffect { .. }
                | Command::SetPatchMarker { .. }) => {
                    let attributes = match marker_event(&marker, completed) {
                        Some(Ok(attributes)) => attributes,
                        _ => {
                            // Encoding a u32, a bool or a string cannot fail;
                            // if it ever does, stop rather than write a wrong marker.
                            self.batch
                                .fatal
                                .get_or_insert("cannot encode a marker's details".into());
                            continue;
                        }
                    };
                    append(run, &mut self.batch, now, attributes);
                }
                Command::CompleteWorkflow { result } => {
                    append(
                        run,
                        &mut self.batch,
                        now,
                        EventAttributes::WorkflowExecutionCompleted {
                            result: result.clone(),
                            workflow_task_completed_event_id: completed,
                        },
                    );
                    outcome = Some(RunOutcome::Completed(result));
                    break;
                }
                Command::FailWorkflow { failure } => {
                    let failure = failure.truncated();
                    append(
                        run,
                        &mut self.batch,
                        now,
                        EventAttributes::WorkflowExecutionFailed {
                            failure: failure.clone(),
                            retry_state: RetryState::RetryPolicyNotSet,
                            workflow_task_completed_event_id: completed,
                        },
                    );
                    outcome = Some(RunOutcome::Failed(failure));
                    break;
                }
                Command::CancelWorkflow { details } => {
                    append(
                        run,
                        &mut self.batch,
                        now,
                        EventAttributes::WorkflowExecutionCanceled {
                            details: details.clone(),
                            workflow_task_completed_event_id: completed,
                        },
                    );
                    outcome = Some(RunOutcome::Canceled(Failure::Canceled(CanceledError {
                        message: "workflow canceled".into(),
                        details,
                    })));
                    break;
                }
                Command::ContinueAsNew { input } => {
                    continue_as_new = Some((input, completed));
                    break;
                }
                Command::CancelTimer { seq } => {
                    let timer_id = seq.to_string();
                    let Some(started_event_id) = run
                        .state
                        .timers
                        .iter()
                        .find(|(_, t)| t.timer_id == timer_id)
                        .map(|(id, _)| *id)
                    else {
                        // Fired already (the firing waits in the buffer):
                        // nothing left to cancel.
                        continue;
                    };
                    run.state.timers.remove(&started_event_id);
                    self.deadlines.disarm_timer(&key, started_event_id);
                    append(
                        run,
                        &mut self.batch,
                        now,
                        EventAttributes::TimerCanceled {
                            timer_id,
                            started_event_id,
                            workflow_task_completed_event_id: completed,
                        },
                    );
                }
                Command::RequestCancelActivity { seq } => {
                    let Some(scheduled_event_id) = run
                        .state
                        .activities
                        .iter()
                        .find(|(_, a)| a.seq == seq)
                        .map(|(id, _)| *id)
                    else {
                        // Closed already (its result waits in the buffer).
                        continue;
                    };
                    let requested = append(
                        run,
                        &mut self.batch,
                        now,
                        EventAttributes::ActivityTaskCancelRequested {
                            scheduled_event_id,
                            workflow_task_completed_event_id: completed,
                        },
                    );
                    let Some(act) = run.state.activities.get_mut(&scheduled_event_id) else {
                        continue;
                    };
                    if matches!(act.phase, ActivityPhase::Started { .. }) {
                        // Its worker learns it on the next heartbeat.
                        act.cancel_requested = Some(requested);
                    } else {
                        // No worker holds it: it stops here.
                        run.state.activities.remove(&scheduled_event_id);
                        self.deadlines.disarm_activity(&key, scheduled_event_id);
                        append(
                            run,
                            &mut self.batch,
                            now,
                            EventAttributes::ActivityTaskCanceled {
                                scheduled_event_id,
                                started_event_id: 0,
                                latest_cancel_requested_event_id: requested,
                                details: Vec::new(),
                                identity: String::new(),
                            },
                        );
                        run.state.new_events = true;
                        wake = true;
                    }
                }
                Command::UpdateResponse { id, response } => {
                    answers.extend(apply_update_response(
                        run,
                        &mut self.batch,
                        now,
                        Some(completed),
                        id,
                        response,
                    ));
                }
                // Refused by validation; never reaches here.
                Command::ScheduleLocalActivity(_) => {}
            }
        }
        // Delivered and not answered (a worker bug): deliver them again.
        undeliver_updates(&mut run.state);
        trim_outcomes(&mut run.state, self.options.update_outcomes_kept);
        self.answer_updates(&key, answers);
        if let Some(outcome) = outcome {
            self.close_run(&key, outcome, now);
            return Ok(());
        }
        if let Some((input, completed)) = continue_as_new {
            self.continue_as_new(&key, input, completed, now);
            return Ok(());
        }
        let Some(run) = self.runs.get_mut(&key) else {
            return Ok(());
        };
        if append_buffered(run, &mut self.batch, now) || has_admitted(&run.state) || wake {
            run.state.wft = WftState::Ready {
                scheduled_time: now,
            };
            self.effects.push(Effect::EnqueueWft(key));
        }
        Ok(())
    }

    pub(super) fn fail_wft(
        &mut self,
        token: &TaskToken,
        failure: Failure,
        nondeterminism: bool,
    ) -> Result<(), BackendError> {
        let key = self.check_wft_token(token)?;
        self.options
            .payload_limits
            .check("workflow task failure details", failure_payloads(&failure))?;
        let failure = failure.truncated();
        let cause = if nondeterminism {
            WorkflowTaskFailedCause::NonDeterministicError
        } else {
            WorkflowTaskFailedCause::WorkflowWorkerUnhandledFailure
        };
        let message = failure.to_string();
        self.wft_failed(&key, Some((cause, failure)), message);
        Ok(())
    }

    /// A started workflow task failed (`failure` given) or timed out.
    /// Events only for the first in a row; the attempt counts up.
    pub(super) fn wft_failed(
        &mut self,
        key: &RunKey,
        failure: Option<(WorkflowTaskFailedCause, Failure)>,
        message: String,
    ) {
        let now = self.now();
        let wft_timeout = self.options.workflow_task_timeout;
        let timed_out = failure.is_none();
        let Some(run) = self.runs.get_mut(key) else {
            return;
        };
        let WftState::Started {
            attempt,
            scheduled_time,
            started_time,
            ..
        } = run.state.wft
        else {
            return;
        };
        let hint = can_hint(&self.options, &run.state);
        if attempt <= 1 {
            let scheduled = append(
                run,
                &mut self.batch,
                scheduled_time,
                EventAttributes::WorkflowTaskScheduled {
                    task_queue: run.state.task_queue.clone(),
                    start_to_close_timeout: wft_timeout,
                    attempt,
                },
            );
            let started = append(
                run,
                &mut self.batch,
                started_time,
                EventAttributes::WorkflowTaskStarted {
                    scheduled_event_id: scheduled,
                    identity: String::new(),
                    suggest_continue_as_new: hint.suggested,
                    history_size_bytes: hint.size_bytes,
                },
            );
            let attributes = match failure {
                Some((cause, failure)) => EventAttributes::WorkflowTaskFailed {
                    scheduled_event_id: scheduled,
                    started_event_id: started,
                    cause,
                    failure,
                    identity: String::new(),
                },
                None => EventAttributes::WorkflowTaskTimedOut {
                    scheduled_event_id: scheduled,
                    started_event_id: started,
                },
            };
            append(run, &mut self.batch, now, attributes);
        }
        run.state.wft_attempt = attempt.saturating_add(1);
        run.state.last_wft_failure = Some(message);
        undeliver_updates(&mut run.state);
        append_buffered(run, &mut self.batch, now);
        self.batch.dirty.insert(key.clone());
        if timed_out {
            // A timed-out task is handed out again at once.
            run.state.wft = WftState::Ready {
                scheduled_time: now,
            };
            self.effects.push(Effect::EnqueueWft(key.clone()));
        } else {
            let until = later(now, wft_backoff(attempt));
            run.state.wft = WftState::Backoff { until };
            self.deadlines
                .arm(until, Deadline::WftBackoff { run: key.clone() });
        }
    }
}
