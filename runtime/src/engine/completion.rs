//! Completing a workflow task: the completion is checked, then written as
//! the task's own events followed by its commands' events (from
//! `history::commands`, the mapping replay checks against), and each
//! command's effect on the run is applied (an activity to dispatch, a timer
//! to arm, an update to answer, the run to close).
//!
//! A completion that closes the run while something the workflow has not
//! seen is waiting is refused, and a new task carries what arrived; one
//! whose only commands reject updates, with nothing new, writes nothing.

use std::time::SystemTime;

use crate::backend::{BackendError, RunOutcome, WorkflowTaskCompletion};
use crate::converter::Payload;
use crate::failure::{ApplicationError, CanceledError, Failure, RetryState};
use crate::history::commands::{self, At, DeliveredUpdate, OpenActivity, OpenChild, RunView};
use crate::history::{EventAttributes, WorkflowTaskFailedCause};
use crate::protocol::{Command, Resolution, StartChild};

use super::effects::Effect;
use super::engine_task::EngineTask;
use super::limits::{Pending, check_pending};
use super::open_run::append;
use super::retries::Retry;
use super::state::{
    ActivityPhase, ChildFact, Incoming, PendingActivity, RunKey, RunState, WftState,
    failure_payloads,
};
use super::tasks::{append_buffered, can_hint, scheduled_event, task_not_found};
use super::updates::{
    apply_update_response, check_update_commands, has_admitted, is_speculative, undeliver_updates,
};

/// Why a completion that closes the run is refused while events wait.
const UNHANDLED_COMMAND: &str =
    "new events arrived while the workflow task ran; a new workflow task carries them";

/// The engine's run state, as the command mapping asks about it.
struct EngineView<'a> {
    state: &'a RunState,
    next_run_id: &'a str,
    now: SystemTime,
}

impl RunView for EngineView<'_> {
    fn task_queue(&self) -> &str {
        &self.state.task_queue
    }

    fn workflow_type(&self) -> &str {
        &self.state.workflow_type
    }

    fn activity(&self, seq: u32) -> Option<OpenActivity> {
        self.state
            .activities
            .iter()
            .find(|(_, a)| a.seq == seq)
            .map(|(id, a)| OpenActivity {
                scheduled_event_id: *id,
                started: matches!(a.phase, ActivityPhase::Started { .. }),
            })
    }

    fn timer(&self, seq: u32) -> Option<i64> {
        let timer_id = commands::timer_id(seq);
        self.state
            .timers
            .iter()
            .find(|(_, t)| t.timer_id == timer_id)
            .map(|(id, _)| *id)
    }

    fn update(&self, id: &str) -> Option<DeliveredUpdate<'_>> {
        self.state.updates.get(id).map(|r| DeliveredUpdate {
            name: &r.name,
            input: &r.input,
            sequencing_event_id: r.arrived.event_id(),
        })
    }

    fn retry_state(&self, failure: &Failure) -> RetryState {
        match self.state.retry_delay(failure, self.now) {
            Ok(_) => RetryState::InProgress,
            Err(state) => state,
        }
    }

    fn child(&self, seq: u32) -> Option<OpenChild> {
        self.state
            .children
            .values()
            .find(|c| c.seq == seq)
            .map(|c| OpenChild {
                workflow_id: c.workflow_id.clone(),
                run_id: Some(c.run_id.clone()),
            })
    }

    fn next_run_id(&self) -> &str {
        self.next_run_id
    }
}

/// What a command's events were, once written.
struct Written {
    /// The id of its first event.
    first: i64,
    /// How many events it wrote.
    count: usize,
    /// What a cancel named (a timer's started event, an activity's
    /// scheduled event).
    target: Option<i64>,
    /// The activity a schedule starts.
    scheduled: Option<PendingActivity>,
}

/// What applying a completion's commands left to do.
#[derive(Default)]
struct Applied {
    /// The run closes this way.
    outcome: Option<RunOutcome>,
    /// The run continues as new: (new run id, its input).
    continued: Option<(String, Vec<Payload>)>,
    /// The run failed and its retry policy retries it.
    retried: Option<Retry>,
    /// A command wrote an event the workflow must see (an activity
    /// cancelled at once).
    wake: bool,
    /// Update callers to answer: (update id, answer).
    answers: Vec<(String, Result<Payload, BackendError>)>,
}

impl EngineTask {
    pub(super) fn complete_wft(&mut self, c: WorkflowTaskCompletion) -> Result<(), BackendError> {
        let key = self.check_wft_token(&c.token)?;
        self.task_came_back(&key);
        if let Err(refusal) = self
            .validate_commands(&c.commands)
            .and_then(|()| self.validate_upserts(&key, &c.commands))
        {
            return Err(self.refuse_completion(&key, WorkflowTaskFailedCause::BadCommand, refusal));
        }
        let Some(run) = self.runs.get(&key) else {
            return Err(task_not_found("the run is not open"));
        };
        let pending = Pending {
            activities: run.state.activities.len(),
            children: run.state.children.len(),
        };
        if let Err((cause, message)) =
            check_pending(pending, &c.commands, &self.options.pending_limits)
        {
            return Err(self.refuse_completion(
                &key,
                cause,
                BackendError::InvalidArgument(message),
            ));
        }
        let Some(run) = self.runs.get(&key) else {
            return Err(task_not_found("the run is not open"));
        };
        check_update_commands(&run.state, &c.commands, &self.options.payload_limits)?;
        if c.commands.iter().any(Command::is_terminal) && has_unseen(&run.state) {
            return Err(self.retry_with_new_events(&key));
        }
        if is_speculative(&run.state, &c.commands) {
            self.complete_speculative(&key, c.commands);
            return Ok(());
        }
        let completed = self.append_task_events(&key, c.identity, c.sdk_flags)?;
        let applied = self.apply_commands(&key, c.commands, completed);
        self.finish_completion(&key, applied);
        Ok(())
    }

    /// A completion whose commands cannot be written: the task fails with
    /// the reason (recorded, retried with backoff), rather than staying
    /// started until it times out.
    fn refuse_completion(
        &mut self,
        key: &RunKey,
        cause: WorkflowTaskFailedCause,
        refusal: BackendError,
    ) -> BackendError {
        let failure: Failure = ApplicationError::new(refusal.to_string())
            .with_type(format!("{cause:?}"))
            .into();
        let message = failure.to_string();
        tracing::warn!(run_id = %key.run_id, ?cause, %message, "workflow task refused");
        self.wft_failed(key, Some((cause, failure)), message);
        refusal
    }

    /// The workflow decided to finish without seeing what arrived: its
    /// task fails with cause `UnhandledCommand` (as Temporal fails it), and
    /// a new task, a first attempt, carries the events.
    fn retry_with_new_events(&mut self, key: &RunKey) -> BackendError {
        let now = self.now();
        let failure: Failure = ApplicationError::new(UNHANDLED_COMMAND)
            .with_type("UnhandledCommand")
            .into();
        let cause = WorkflowTaskFailedCause::UnhandledCommand;
        self.append_task_failure(key, Some((cause, failure)), now);
        if let Some(run) = self.runs.get_mut(key) {
            run.state.wft_attempt = 1;
            append_buffered(run, &mut self.batch, now);
            undeliver_updates(&mut run.state);
            run.state.wft = WftState::Ready {
                scheduled_time: now,
            };
            self.batch.dirty.insert(key.clone());
            self.effects.push(Effect::EnqueueWft(key.clone()));
        }
        BackendError::UnhandledCommand(UNHANDLED_COMMAND.into())
    }

    /// A task that only rejected updates and saw nothing new: history
    /// stays as it was; the callers get their rejections.
    fn complete_speculative(&mut self, key: &RunKey, commands: Vec<Command>) {
        let now = self.now();
        let Some(run) = self.runs.get_mut(key) else {
            return;
        };
        let mut answers = Vec::new();
        for command in commands {
            if let Command::UpdateResponse { id, response } = command {
                answers.extend(apply_update_response(&mut run.state, id, response));
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
        self.answer_updates(key, answers);
    }

    /// Writes the task's scheduled (unless written while it waited),
    /// started and completed events (nothing was written while it ran:
    /// what arrived was buffered, so this is what the task was handed) and
    /// settles the run's task state; returns
    /// the completed event's id.
    fn append_task_events(
        &mut self,
        key: &RunKey,
        identity: String,
        sdk_flags: Vec<u32>,
    ) -> Result<i64, BackendError> {
        let now = self.now();
        let Some(run) = self.runs.get_mut(key) else {
            return Err(task_not_found("the run is not open"));
        };
        let wft_timeout = run.state.task_timeout(self.options.workflow_task_timeout);
        let WftState::Started {
            attempt,
            scheduled_time,
            started_time,
            ..
        } = run.state.wft
        else {
            return Err(task_not_found("the workflow task is not started"));
        };
        let hint = can_hint(&self.options, &run.state);
        // The first event the task's worker has not seen: the next task
        // carries the events from here on, so a worker that kept the run
        // cached goes on from where it stopped (a scheduled event written
        // while the task waited was handed to it with the task).
        let unseen = run.state.next_event_id;
        let scheduled = scheduled_event(run, &mut self.batch, scheduled_time, wft_timeout, attempt);
        let started = append(
            run,
            &mut self.batch,
            started_time,
            EventAttributes::WorkflowTaskStarted {
                scheduled_event_id: scheduled,
                identity: identity.clone(),
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
                identity,
                sdk_flags,
            },
        );
        run.state.events_since = unseen;
        run.recent.retain(|e| e.event_id >= unseen);
        run.state.wft = WftState::Idle;
        run.state.wft_attempt = 1;
        run.state.last_wft_failure = None;
        run.state.new_events = false;
        Ok(completed)
    }

    /// Writes each command's events and applies its effect, up to the
    /// command that closes the run.
    fn apply_commands(&mut self, key: &RunKey, commands: Vec<Command>, completed: i64) -> Applied {
        // The run a continue-as-new or a retry starts.
        let next_run_id = if commands.iter().any(|c| {
            matches!(
                c,
                Command::ContinueAsNew { .. } | Command::FailWorkflow { .. }
            )
        }) {
            super::runs::new_run_id()
        } else {
            String::new()
        };
        let mut applied = Applied::default();
        self.held = Some((key.clone(), Vec::new()));
        for command in commands {
            let Some(events) = self.record(key, &command, completed, &next_run_id) else {
                continue;
            };
            self.apply_command(key, command, events, &next_run_id, &mut applied);
            if applied.outcome.is_some() || applied.continued.is_some() || applied.retried.is_some()
            {
                break;
            }
        }
        let held = self.held.take().map(|(_, held)| held).unwrap_or_default();
        // A run the task closed records nothing after its close event.
        if applied.outcome.is_none() && applied.continued.is_none() && applied.retried.is_none() {
            let now = self.now();
            for incoming in held {
                self.deliver_held(key, incoming, now);
            }
        }
        applied
    }

    /// Delivers a fact a command produced; a child's started event id is
    /// known once it is written.
    fn deliver_held(&mut self, key: &RunKey, incoming: Incoming, now: SystemTime) {
        let started_child = match &incoming {
            Incoming::Child(ChildFact::Started {
                initiated_event_id, ..
            }) => Some(*initiated_event_id),
            _ => None,
        };
        let next = self.runs.get(key).map(|run| run.state.next_event_id);
        self.deliver(key, incoming, now);
        if let (Some(initiated), Some(started_event_id), Some(run)) =
            (started_child, next, self.runs.get_mut(key))
            && let Some(child) = run.state.children.get_mut(&initiated)
        {
            child.started_event_id = started_event_id;
        }
    }

    /// The events a command writes, from the command mapping; `None` (and
    /// the engine stops) when they cannot be encoded.
    fn record(
        &mut self,
        key: &RunKey,
        command: &Command,
        completed: i64,
        next_run_id: &str,
    ) -> Option<Vec<EventAttributes>> {
        let run = self.runs.get(key)?;
        let view = EngineView {
            state: &run.state,
            next_run_id,
            now: self.now(),
        };
        let at = At {
            completed,
            next_event_id: run.state.next_event_id,
        };
        match commands::record(command, &view, at) {
            Ok(events) => Some(events),
            Err(e) => {
                // Encoding a u32, a bool or a string cannot fail; if it
                // ever does, stop rather than write a wrong event.
                self.batch
                    .fatal
                    .get_or_insert(format!("cannot record a command's events: {e}"));
                None
            }
        }
    }

    /// Appends a command's events and applies what it does to the run.
    fn apply_command(
        &mut self,
        key: &RunKey,
        command: Command,
        events: Vec<EventAttributes>,
        next_run_id: &str,
        applied: &mut Applied,
    ) {
        let now = self.now();
        let scheduled = match (&command, events.first()) {
            (Command::ScheduleActivity(sa), Some(event)) => {
                super::activities::scheduled_activity(sa.seq, event, now)
            }
            _ => None,
        };
        // What a cancel names: the timer's started event, the activity's
        // scheduled event.
        let target = events.first().and_then(cancel_target);
        let Some(run) = self.runs.get_mut(key) else {
            return;
        };
        let ids: Vec<i64> = events
            .into_iter()
            .map(|event| append(run, &mut self.batch, now, event))
            .collect();
        let Some(&first) = ids.first() else {
            // Nothing written: a rejection answers its caller all the same.
            if let Command::UpdateResponse { id, response } = command {
                applied
                    .answers
                    .extend(apply_update_response(&mut run.state, id, response));
            }
            return;
        };
        let written = Written {
            first,
            count: ids.len(),
            target,
            scheduled,
        };
        self.apply_effect(key, command, written, next_run_id, applied, now);
    }

    /// What a command does to the run once its events are written.
    fn apply_effect(
        &mut self,
        key: &RunKey,
        command: Command,
        written: Written,
        next_run_id: &str,
        applied: &mut Applied,
        now: SystemTime,
    ) {
        let Written {
            first,
            count,
            target,
            scheduled,
        } = written;
        match command {
            Command::ScheduleActivity(_) => {
                if let Some(activity) = scheduled {
                    self.track_activity(key, first, activity, now);
                }
            }
            Command::StartTimer { duration, seq } => {
                self.track_timer(key, first, commands::timer_id(seq), duration, now)
            }
            Command::CancelTimer { .. } => {
                if let Some(started_event_id) = target {
                    self.forget_timer(key, started_event_id);
                }
            }
            Command::RequestCancelActivity { .. } => {
                if let Some(scheduled_event_id) = target {
                    let at_once = count > 1;
                    self.request_activity_cancel(key, scheduled_event_id, first, at_once);
                    applied.wake |= at_once;
                }
            }
            Command::UpdateResponse { id, response } => {
                if let Some(run) = self.runs.get_mut(key) {
                    applied
                        .answers
                        .extend(apply_update_response(&mut run.state, id, response));
                }
            }
            Command::CompleteWorkflow { .. }
            | Command::FailWorkflow { .. }
            | Command::CancelWorkflow { .. }
            | Command::ContinueAsNew { .. } => {
                self.close_effect(key, command, next_run_id, applied, now)
            }
            Command::StartChildWorkflow(child) => {
                let task_queue = self.child_queue(key, &child);
                self.start_child(key, first, child, task_queue, now);
            }
            Command::CancelChildWorkflow { seq } => self.cancel_child(key, first, seq, now),
            Command::SignalExternalWorkflow {
                target,
                signal_name,
                input,
                ..
            } => self.signal_external(key, first, target, signal_name, input, now),
            Command::RequestCancelExternalWorkflow { target, .. } => {
                self.cancel_external(key, first, target, now)
            }
            Command::UpsertSearchAttributes { updates } => {
                if let Some(run) = self.runs.get_mut(key) {
                    run.state.run_options.search_attributes.apply(&updates);
                }
            }
            Command::RecordLocalActivityMarker { .. }
            | Command::RecordSideEffect { .. }
            | Command::SetPatchMarker { .. }
            | Command::ScheduleLocalActivity(_) => {}
        }
    }

    /// What a command that closes the run leaves for the flush: its
    /// outcome, a retry of the run, or the run it continues as.
    fn close_effect(
        &self,
        key: &RunKey,
        command: Command,
        next_run_id: &str,
        applied: &mut Applied,
        now: SystemTime,
    ) {
        match command {
            Command::CompleteWorkflow { result } => {
                applied.outcome = Some(RunOutcome::Completed(result));
            }
            Command::FailWorkflow { failure } => {
                let failure = failure.truncated();
                let delay = self
                    .runs
                    .get(key)
                    .map(|r| r.state.retry_delay(&failure, now));
                match delay {
                    Some(Ok(delay)) => {
                        applied.retried = Some(Retry {
                            new_run_id: next_run_id.to_string(),
                            failure,
                            delay,
                            timed_out: false,
                        })
                    }
                    _ => applied.outcome = Some(RunOutcome::Failed(failure)),
                }
            }
            Command::CancelWorkflow { details } => {
                applied.outcome = Some(RunOutcome::Canceled(Failure::Canceled(CanceledError {
                    message: "workflow canceled".into(),
                    details,
                })));
            }
            Command::ContinueAsNew { input } => {
                applied.continued = Some((next_run_id.to_string(), input));
            }
            _ => {}
        }
    }

    /// The queue a child's tasks go to: its own, or its parent's.
    fn child_queue(&self, parent: &RunKey, child: &StartChild) -> String {
        if child.task_queue.is_empty() {
            self.runs
                .get(parent)
                .map(|r| r.state.task_queue.clone())
                .unwrap_or_default()
        } else {
            child.task_queue.clone()
        }
    }

    /// After the commands: answers updates, closes or continues the run,
    /// or writes what arrived meanwhile and schedules the next task when
    /// the workflow has something to see.
    fn finish_completion(&mut self, key: &RunKey, applied: Applied) {
        let now = self.now();
        if let Some(run) = self.runs.get_mut(key) {
            // Delivered and not answered (a worker bug): deliver them again.
            undeliver_updates(&mut run.state);
            super::updates::trim_outcomes(&mut run.state, self.options.update_outcomes_kept);
        }
        self.answer_updates(key, applied.answers);
        if let Some(outcome) = applied.outcome {
            self.close_run(key, outcome, now);
            return;
        }
        if let Some((new_run_id, input)) = applied.continued {
            self.continue_as_new(key, new_run_id, input, now);
            return;
        }
        if let Some(retry) = applied.retried {
            self.retry_run(key, retry, now);
            return;
        }
        let over = self
            .runs
            .get(key)
            .and_then(|run| history_over_limit(&run.state, &self.options));
        if let Some(reason) = over {
            self.terminate_run(key, reason, Vec::new(), "");
            return;
        }
        let Some(run) = self.runs.get_mut(key) else {
            return;
        };
        if append_buffered(run, &mut self.batch, now) || has_admitted(&run.state) || applied.wake {
            run.state.wft = WftState::Ready {
                scheduled_time: now,
            };
            self.effects.push(Effect::EnqueueWft(key.clone()));
        }
    }

    /// Checks that the run's search attributes stay within their total
    /// size once the completion's upserts are applied.
    fn validate_upserts(&self, key: &RunKey, commands: &[Command]) -> Result<(), BackendError> {
        let mut updates = commands.iter().filter_map(|c| match c {
            Command::UpsertSearchAttributes { updates } => Some(updates),
            _ => None,
        });
        let Some(first) = updates.next() else {
            return Ok(());
        };
        let Some(run) = self.runs.get(key) else {
            return Ok(());
        };
        let mut attributes = run.state.run_options.search_attributes.clone();
        attributes.apply(first);
        updates.for_each(|u| attributes.apply(u));
        crate::visibility::check_total(&attributes)
    }

    /// Checks a completion's commands before anything changes.
    fn validate_commands(&self, commands: &[Command]) -> Result<(), BackendError> {
        let mut terminal = false;
        for command in commands {
            if terminal {
                return Err(BackendError::InvalidArgument(
                    "a command follows the workflow's completion".into(),
                ));
            }
            terminal = command.is_terminal();
            self.validate_command(command)?;
        }
        Ok(())
    }

    fn validate_command(&self, command: &Command) -> Result<(), BackendError> {
        let limits = &self.options.payload_limits;
        match command {
            Command::ScheduleLocalActivity(sa) => Err(BackendError::InvalidArgument(format!(
                "local activity {} ({}) must run in the worker; \
                 ScheduleLocalActivity never reaches the engine",
                sa.activity_id, sa.activity_type
            ))),
            Command::ScheduleActivity(sa) => validate_activity(sa, limits),
            Command::RecordLocalActivityMarker { input, result, .. } => {
                limits.check("local activity input", input)?;
                match result {
                    Resolution::Completed(p) => Ok(limits.check("local activity result", [p])?),
                    Resolution::Failed(f) => {
                        Ok(limits.check("local activity failure details", failure_payloads(f))?)
                    }
                }
            }
            Command::RecordSideEffect { value, .. } => {
                Ok(limits.check("side effect value", [value])?)
            }
            Command::SetPatchMarker { patch_id, .. } if patch_id.is_empty() => Err(
                BackendError::InvalidArgument("a patch id must not be empty".into()),
            ),
            Command::SetPatchMarker { .. }
            | Command::StartTimer { .. }
            | Command::UpdateResponse { .. }
            | Command::CancelTimer { .. }
            | Command::RequestCancelActivity { .. } => Ok(()),
            Command::CancelWorkflow { details } => {
                Ok(limits.check("workflow cancellation details", details)?)
            }
            Command::CompleteWorkflow { result } => Ok(limits.check("workflow result", [result])?),
            Command::FailWorkflow { failure } => {
                Ok(limits.check("workflow failure details", failure_payloads(failure))?)
            }
            Command::ContinueAsNew { input } => Ok(limits.check("continue-as-new input", input)?),
            Command::StartChildWorkflow(child) => {
                let attributes = &child.run_options.search_attributes;
                crate::visibility::check_attributes(
                    attributes.iter().map(|(n, v)| (n, Some(v))),
                    &self.options.search_attributes,
                )?;
                crate::visibility::check_total(attributes)?;
                validate_child(child, limits)
            }
            Command::SignalExternalWorkflow {
                target,
                signal_name,
                input,
                ..
            } => {
                check_named("target workflow id", &target.workflow_id)?;
                check_named("signal name", signal_name)?;
                Ok(limits.check(&format!("input of signal {signal_name:?}"), input)?)
            }
            Command::RequestCancelExternalWorkflow { target, .. } => {
                check_named("target workflow id", &target.workflow_id)
            }
            Command::CancelChildWorkflow { .. } => Ok(()),
            Command::UpsertSearchAttributes { updates } => crate::visibility::check_attributes(
                updates.iter().map(|u| (u.name.as_str(), u.value.as_ref())),
                &self.options.search_attributes,
            ),
        }
    }
}

/// Why a run's history is over the engine's limits, if it is: Temporal
/// terminates such a run, and so does the engine, when a task completes.
fn history_over_limit(state: &RunState, options: &super::EngineOptions) -> Option<String> {
    let events = u64::try_from(state.next_event_id.saturating_sub(1)).unwrap_or(0);
    if events > options.history_max_events {
        return Some(format!(
            "history of {events} events is over the limit of {} events; \
             a long-running workflow continues as new before it",
            options.history_max_events
        ));
    }
    let bytes = state.history_size_bytes;
    (bytes > options.history_max_bytes).then(|| {
        format!(
            "history of {bytes} bytes is over the limit of {} bytes; \
             a long-running workflow continues as new before it",
            options.history_max_bytes
        )
    })
}

/// The event a cancel command's event names: a timer's started event, an
/// activity's scheduled event.
fn cancel_target(event: &EventAttributes) -> Option<i64> {
    match event {
        EventAttributes::TimerCanceled {
            started_event_id, ..
        } => Some(*started_event_id),
        EventAttributes::ActivityTaskCancelRequested {
            scheduled_event_id, ..
        } => Some(*scheduled_event_id),
        _ => None,
    }
}

/// Whether something the workflow has not seen waits: facts that arrived
/// while its task ran, or updates not yet delivered.
fn has_unseen(state: &RunState) -> bool {
    !state.buffered.is_empty() || has_admitted(state)
}

fn validate_child(
    child: &StartChild,
    limits: &crate::converter::PayloadLimits,
) -> Result<(), BackendError> {
    check_named("child workflow id", &child.workflow_id)?;
    check_named("child workflow type", &child.workflow_type)?;
    let what = format!("input of child workflow {}", child.workflow_id);
    Ok(limits.check(&what, &child.input)?)
}

/// A name a command carries: not empty, at most `MAX_ID_BYTES`.
fn check_named(what: &str, value: &str) -> Result<(), BackendError> {
    super::runs::check_id(what, value)
}

fn validate_activity(
    sa: &crate::protocol::ScheduleActivity,
    limits: &crate::converter::PayloadLimits,
) -> Result<(), BackendError> {
    let what = format!("activity {} ({})", sa.activity_id, sa.activity_type);
    if sa.activity_id.is_empty() || sa.activity_type.is_empty() {
        return Err(BackendError::InvalidArgument(format!(
            "{what}: activity id and type must not be empty"
        )));
    }
    if sa.options.start_to_close_timeout.is_none() && sa.options.schedule_to_close_timeout.is_none()
    {
        return Err(BackendError::InvalidArgument(format!(
            "{what}: one of start_to_close_timeout or schedule_to_close_timeout is required"
        )));
    }
    if let Some(policy) = &sa.options.retry_policy {
        policy
            .validate()
            .map_err(|e| BackendError::InvalidArgument(format!("{what}: retry policy: {e}")))?;
    }
    Ok(limits.check(&format!("input of {what}"), &sa.input)?)
}
