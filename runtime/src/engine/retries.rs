//! A run's limits and retries: its run timeout and its chain's execution
//! timeout (`WorkflowExecutionTimedOut`), the workflow retry policy that
//! starts a failed or timed-out run again as a new run of the same workflow
//! id (after a backoff, attempt + 1), and the id policies that terminate an
//! open run to start a new one.
//!
//! As in Temporal: the execution timeout bounds every run of the chain and
//! is never retried; a run timeout is retried like a failure; the retried
//! run is created at once and its first workflow task waits out the
//! backoff.

use std::time::{Duration, SystemTime};

use crate::backend::RunOutcome;
use crate::converter::Payload;
use crate::failure::{Failure, RetryState, TimeoutError, TimeoutType};
use crate::history::{EventAttributes, RunInitiator};

use super::deadlines::{Deadline, later};
use super::effects::Effect;
use super::engine_task::EngineTask;
use super::open_run::append;
use super::runs::{NewRun, new_run_id};
use super::signals::ENGINE_IDENTITY;
use super::state::{RunKey, WftState};
use super::tasks::append_buffered;

/// The reason a run terminated by a start's id policy records (Temporal's).
const TERMINATED_FOR_START: &str = "TerminateIfRunning WorkflowIdReusePolicy";

/// A retry the engine decided: the run that takes over and when.
pub(super) struct Retry {
    pub new_run_id: String,
    pub failure: Failure,
    pub delay: Duration,
    pub timed_out: bool,
}

impl EngineTask {
    /// A new run's first workflow task: ready now, or after a retry's
    /// backoff.
    pub(super) fn first_task(&mut self, key: &RunKey, backoff: Option<Duration>, now: SystemTime) {
        let Some(delay) = backoff.filter(|d| !d.is_zero()) else {
            self.effects.push(Effect::EnqueueWft(key.clone()));
            return;
        };
        let until = later(now, delay);
        if let Some(run) = self.runs.get_mut(key) {
            run.state.wft = WftState::Backoff { until };
        }
        self.deadlines
            .arm(until, Deadline::WftBackoff { run: key.clone() });
    }

    /// Arms the run's timeout, if it has one (its run timeout or its
    /// chain's execution deadline).
    pub(super) fn arm_run_timeout(&mut self, key: &RunKey) {
        let Some(at) = self.runs.get(key).and_then(|r| r.state.timeout_at()) else {
            return;
        };
        self.deadlines
            .arm(at, Deadline::RunTimeout { run: key.clone() });
    }

    /// The open run of a workflow id is terminated so a start can take its
    /// place (`TerminateIfRunning`, `TerminateExisting`).
    pub(super) fn terminate_for_start(&mut self, namespace: &str, run_id: &str) {
        if let Some(key) = self.open_key(namespace, run_id) {
            self.terminate_run(
                &key,
                TERMINATED_FOR_START.into(),
                Vec::new(),
                ENGINE_IDENTITY,
            );
        }
    }

    /// The run's timeout fell due: it times out, and is retried when it was
    /// its run timeout and its retry policy allows.
    pub(super) fn run_timed_out(&mut self, key: &RunKey, now: SystemTime) {
        self.close_pending_task(key, "the run timed out", now);
        let Some(run) = self.runs.get_mut(key) else {
            return;
        };
        let execution = run.state.execution_deadline.is_some_and(|d| d <= now);
        let timeout_type = if execution {
            TimeoutType::WorkflowExecution
        } else {
            TimeoutType::WorkflowRun
        };
        let failure = Failure::Timeout(TimeoutError {
            timeout_type,
            last_heartbeat_details: Vec::new(),
        });
        let decision = if execution {
            Err(RetryState::Timeout)
        } else {
            run.state.retry_delay(&failure, now)
        };
        // Facts that waited for a task in flight stay in history; that
        // task's completion is refused once the run is closed.
        append_buffered(run, &mut self.batch, now);
        let new_run_id = decision.is_ok().then(new_run_id);
        let retry_state = match &decision {
            Ok(_) => RetryState::InProgress,
            Err(state) => *state,
        };
        append(
            run,
            &mut self.batch,
            now,
            EventAttributes::WorkflowExecutionTimedOut {
                retry_state,
                new_execution_run_id: new_run_id.clone(),
            },
        );
        match (decision, new_run_id) {
            (Ok(delay), Some(new_run_id)) => {
                let retry = Retry {
                    new_run_id,
                    failure,
                    delay,
                    timed_out: true,
                };
                self.retry_run(key, retry, now)
            }
            _ => self.close_run(key, RunOutcome::TimedOut(failure), now),
        }
    }

    /// Closes a run that failed or timed out and starts the next attempt
    /// in the same batch, its first task after the backoff.
    pub(super) fn retry_run(&mut self, key: &RunKey, retry: Retry, now: SystemTime) {
        let Some(run) = self.runs.get(key) else {
            return;
        };
        let input: Vec<Payload> = run.state.retry_input.clone().unwrap_or_default();
        let new = NewRun::next_of(
            &run.state,
            input,
            run.state.attempt.saturating_add(1),
            RunInitiator::Retry,
            Some(retry.delay),
        );
        let outcome = RunOutcome::Retried {
            failure: retry.failure,
            timed_out: retry.timed_out,
            new_run_id: retry.new_run_id.clone(),
        };
        self.close_run(key, outcome, now);
        self.open_run_with_id(new, retry.new_run_id, now);
    }
}
