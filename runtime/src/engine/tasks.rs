//! Workflow task rules: what a delivery, completion, failure or timeout
//! changes in a run and which events it writes, and how incoming facts
//! (activity closed, timer fired, signal) become events.
//!
//! The history layout here is what the worker's replay relies on: workflow
//! task events are written at completion (scheduled, started, completed,
//! then one event per command, then buffered events), the scheduled event
//! earlier if something else is written while the task waits for a worker
//! (`write_scheduled`); failures and timeouts only for the first in a row.

use std::time::{Duration, SystemTime};

use crate::backend::{BackendError, TaskToken, WorkflowTask};

use crate::failure::{ApplicationError, Failure};
use crate::history::{EventAttributes, WorkflowTaskFailedCause};

use super::deadlines::{Deadline, later};
use super::effects::Effect;
use super::engine_task::EngineTask;
use super::open_run::{Batch, Run, append};
use super::state::{ActivityOutcome, Incoming, RunKey, WftState, failure_payloads};
use super::updates::{deliver_updates, place_buffered_arrivals, undeliver_updates};

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
    run.state.new_events = true;
    let attributes = match incoming {
        Incoming::ActivityClosed {
            scheduled_event_id,
            attempt,
            started,
            last_failure,
            outcome,
        } => {
            // Retries add no events: the attempt that closed it is
            // recorded as started only now.
            let started_event_id = if started {
                let started = EventAttributes::ActivityTaskStarted {
                    scheduled_event_id,
                    attempt,
                    identity: String::new(),
                    last_failure,
                };
                append(run, batch, now, started)
            } else {
                0
            };
            activity_closed(scheduled_event_id, started_event_id, outcome)
        }
        Incoming::Signaled {
            signal_name,
            input,
            identity,
            external,
        } => EventAttributes::WorkflowExecutionSignaled {
            signal_name,
            input,
            identity,
            external_workflow_execution: external,
        },
        Incoming::TimerFired {
            timer_id,
            started_event_id,
        } => EventAttributes::TimerFired {
            timer_id,
            started_event_id,
        },
        Incoming::CancelRequested {
            cause,
            identity,
            external,
        } => EventAttributes::WorkflowExecutionCancelRequested {
            cause,
            identity,
            external_workflow_execution: external,
        },
        Incoming::Child(fact) => super::children::child_event(fact),
        Incoming::External(fact) => super::external::external_event(fact),
    };
    append(run, batch, now, attributes);
}

/// The event that closes an activity.
fn activity_closed(
    scheduled_event_id: i64,
    started_event_id: i64,
    outcome: ActivityOutcome,
) -> EventAttributes {
    match outcome {
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
    }
}

/// Appends everything buffered; returns whether there was anything.
/// Updates that arrived while the buffer filled learn the event they
/// follow.
/// The current workflow task's `WorkflowTaskScheduled` event id: the one
/// written while it waited, else one written now.
pub(super) fn scheduled_event(
    run: &mut Run,
    batch: &mut Batch,
    scheduled_time: SystemTime,
    timeout: Duration,
    attempt: u32,
) -> i64 {
    if let Some(id) = run.state.wft_scheduled_event.take() {
        return id;
    }
    let attributes = EventAttributes::WorkflowTaskScheduled {
        task_queue: run.state.task_queue.clone(),
        start_to_close_timeout: timeout,
        attempt,
    };
    append(run, batch, scheduled_time, attributes)
}

/// Writes a waiting workflow task's `WorkflowTaskScheduled` now, if it is
/// a first attempt whose event is not written yet: called before
/// something else is written to the run, so the task's scheduled event
/// precedes what arrived while it waited, as in Temporal (which writes it
/// when it schedules the task). A later attempt writes nothing until one
/// completes; a task that is not waiting is left alone.
pub(super) fn write_scheduled(run: &mut Run, batch: &mut Batch, default_timeout: Duration) {
    let WftState::Ready { scheduled_time } = run.state.wft else {
        return;
    };
    if run.state.wft_attempt > 1 || run.state.wft_scheduled_event.is_some() {
        return;
    }
    let timeout = run.state.task_timeout(default_timeout);
    let id = scheduled_event(run, batch, scheduled_time, timeout, 1);
    run.state.wft_scheduled_event = Some(id);
}

/// Writes what was buffered for a task that is waiting again (lost at a
/// restart, or handed back): after the task's scheduled event, which a
/// first attempt then has written, as for anything else arriving while it
/// waits.
pub(super) fn append_buffered_to_waiting(
    run: &mut Run,
    batch: &mut Batch,
    default_timeout: Duration,
    now: SystemTime,
) {
    if !run.state.buffered.is_empty() {
        write_scheduled(run, batch, default_timeout);
    }
    append_buffered(run, batch, now);
}

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

impl EngineTask {
    /// Hands a ready workflow task out (memory only; nothing is written).
    pub(super) fn start_wft(&mut self, key: &RunKey) -> Option<WorkflowTask> {
        let now = self.now();
        let incarnation = self.incarnation;
        let run = self.runs.get_mut(key)?;
        let timeout = run.state.task_timeout(self.options.workflow_task_timeout);
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
                namespace: key.namespace.to_string(),
                run_id: key.run_id.to_string(),
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
    pub(super) fn check_wft_token(&self, token: &TaskToken) -> Result<RunKey, BackendError> {
        if token.incarnation != self.incarnation {
            return Err(task_not_found("the token is from an earlier engine start"));
        }
        let run = self
            .runs
            .find(&token.namespace, &token.run_id)
            .ok_or_else(|| task_not_found("the run is not open"))?;
        match run.state.wft {
            WftState::Started {
                task_id, attempt, ..
            } if task_id == token.task_id && attempt == token.attempt => Ok(run.key.clone()),
            _ => Err(task_not_found(
                "the workflow task is not the one started with this token",
            )),
        }
    }

    pub(super) fn fail_wft(
        &mut self,
        token: &TaskToken,
        failure: Failure,
        nondeterminism: bool,
    ) -> Result<(), BackendError> {
        let key = self.check_wft_token(token)?;
        self.task_came_back(&key);
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
        let timed_out = failure.is_none();
        let Some(attempt) = self.append_task_failure(key, failure, now) else {
            return;
        };
        let Some(run) = self.runs.get_mut(key) else {
            return;
        };
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

    /// Writes a started task's scheduled and started events and its
    /// failure (`failure` given) or time-out, if it is the first attempt in
    /// a row (later attempts write nothing until one completes, as in
    /// Temporal); returns its attempt, `None` when no task is started.
    pub(super) fn append_task_failure(
        &mut self,
        key: &RunKey,
        failure: Option<(WorkflowTaskFailedCause, Failure)>,
        now: SystemTime,
    ) -> Option<u32> {
        let run = self.runs.get_mut(key)?;
        let wft_timeout = run.state.task_timeout(self.options.workflow_task_timeout);
        let WftState::Started {
            attempt,
            scheduled_time,
            started_time,
            ..
        } = run.state.wft
        else {
            return None;
        };
        if attempt > 1 {
            return Some(attempt);
        }
        let hint = can_hint(&self.options, &run.state);
        let scheduled = scheduled_event(run, &mut self.batch, scheduled_time, wft_timeout, attempt);
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
        Some(attempt)
    }

    /// Before a run is closed from outside (terminated, timed out): a
    /// waiting first attempt's scheduled event is written (Temporal wrote
    /// it when it scheduled the task), and a running first attempt's
    /// events are written with its failure, cause `ForceCloseCommand`, as
    /// Temporal force-closes it. `why` says what closed the run.
    pub(super) fn close_pending_task(&mut self, key: &RunKey, why: &str, now: SystemTime) {
        let Some(run) = self.runs.get_mut(key) else {
            return;
        };
        match run.state.wft {
            WftState::Ready { .. } => {
                write_scheduled(run, &mut self.batch, self.options.workflow_task_timeout);
            }
            WftState::Started { .. } => {
                let failure: Failure = ApplicationError::new(format!(
                    "{why} while this workflow task ran; its completion is refused"
                ))
                .with_type("ForceCloseCommand")
                .into();
                let cause = WorkflowTaskFailedCause::ForceCloseCommand;
                self.append_task_failure(key, Some((cause, failure)), now);
            }
            WftState::Idle | WftState::Backoff { .. } => {}
        }
    }

    /// A failed workflow task's backoff is over: it is handed out again.
    pub(super) fn wft_backoff_over(&mut self, run: RunKey, now: SystemTime) {
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
}
