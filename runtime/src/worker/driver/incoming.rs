//! Incoming events: what arrived between workflow tasks (the start, signals,
//! cancel requests, activity outcomes, timers firing) becomes the jobs of
//! the next activation, each in the place of its event.

use super::order::Place;
use super::{ExternalRequest, RunDriver};
use crate::history::commands::{self, ScheduledActivity, TaskHint, resolve};
use crate::history::{Event, EventAttributes};
use crate::protocol::{Job, WorkflowInfo};
use crate::workflow::error::TaskError;

impl RunDriver {
    /// Applies one event that is not a workflow task's command: a job for
    /// the next activation, or what later events need to be read.
    pub(super) fn apply_incoming(&mut self, event: &Event) -> Result<(), TaskError> {
        let place = Place::event(event.event_id);
        match &event.attributes {
            EventAttributes::WorkflowExecutionStarted { .. } => {
                if let Some(job) = self.start_job(event) {
                    self.jobs.push(job, place);
                }
            }
            EventAttributes::WorkflowTaskStarted {
                suggest_continue_as_new,
                history_size_bytes,
                ..
            } => {
                let hint = TaskHint {
                    suggest_continue_as_new: *suggest_continue_as_new,
                    history_size_bytes: *history_size_bytes,
                };
                (self.started_time, self.hint) = (Some(event.event_time), hint);
            }
            EventAttributes::WorkflowTaskScheduled { .. }
            | EventAttributes::WorkflowTaskFailed { .. }
            | EventAttributes::WorkflowTaskTimedOut { .. } => {}
            EventAttributes::ActivityTaskStarted {
                scheduled_event_id,
                attempt,
                ..
            } => _ = self.attempts.insert(*scheduled_event_id, *attempt),
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
            } => self.resolve_activity(event, *scheduled_event_id, place)?,
            EventAttributes::WorkflowExecutionSignaled {
                signal_name, input, ..
            } => {
                let (name, input) = (signal_name.clone(), input.clone());
                self.jobs.push(Job::Signal { name, input }, place)
            }
            EventAttributes::WorkflowExecutionCancelRequested { cause, .. } => self.jobs.push(
                Job::CancelWorkflow {
                    reason: cause.clone(),
                },
                place,
            ),
            // The run ended without its code: nothing for the workflow.
            EventAttributes::WorkflowExecutionTerminated { .. } => self.closed = true,
            EventAttributes::TimerFired { timer_id, .. } => {
                self.fire_timer(event, timer_id, place)?
            }
            EventAttributes::ChildWorkflowExecutionStarted { .. }
            | EventAttributes::StartChildWorkflowExecutionFailed { .. }
            | EventAttributes::ChildWorkflowExecutionCompleted { .. }
            | EventAttributes::ChildWorkflowExecutionFailed { .. }
            | EventAttributes::ChildWorkflowExecutionCanceled { .. }
            | EventAttributes::ChildWorkflowExecutionTerminated { .. }
            | EventAttributes::ChildWorkflowExecutionTimedOut { .. } => {
                self.resolve_child(event, place)?
            }
            EventAttributes::ExternalWorkflowExecutionSignaled { .. }
            | EventAttributes::SignalExternalWorkflowExecutionFailed { .. }
            | EventAttributes::ExternalWorkflowExecutionCancelRequested { .. }
            | EventAttributes::RequestCancelExternalWorkflowExecutionFailed { .. } => {
                self.resolve_external(event, place)?
            }
            _ => return Err(unexpected(event)),
        }
        Ok(())
    }

    /// A timer fired: the job that resolves the timer this code started.
    fn fire_timer(&mut self, event: &Event, timer_id: &str, place: Place) -> Result<(), TaskError> {
        let seq = *self.timers.get(timer_id).ok_or_else(|| {
            TaskError::nondeterminism(format!(
                "event {}: timer {timer_id} fired but this code never started it",
                event.event_id
            ))
        })?;
        self.jobs.push(Job::FireTimer { seq }, place);
        Ok(())
    }

    /// An activity's closing event resolves the activity's future.
    fn resolve_activity(
        &mut self,
        event: &Event,
        scheduled_event_id: i64,
        place: Place,
    ) -> Result<(), TaskError> {
        let attempt = self.attempts.get(&scheduled_event_id).copied().unwrap_or(1);
        let activity = self.activity(scheduled_event_id, event)?;
        let seq = activity.seq;
        if let Some(result) = commands::resolution(&event.attributes, activity, attempt) {
            self.jobs.push(Job::ResolveActivity { seq, result }, place);
        }
        Ok(())
    }

    /// A child's start or close resolves the code's child future.
    fn resolve_child(&mut self, event: &Event, place: Place) -> Result<(), TaskError> {
        let initiated = resolve::initiated_event_of(event).unwrap_or_default();
        let Some(child) = self.children.get(&initiated) else {
            return Err(TaskError::nondeterminism(format!(
                "event {}: {} for a child this code never started (initiated event {initiated})",
                event.event_id,
                event.attributes.name()
            )));
        };
        let seq = child.seq;
        if let Some(start) = resolve::child_start(&event.attributes) {
            if let crate::protocol::ChildStart::Started { run_id } = &start
                && let Some(open) = self.known.children.get_mut(&seq)
            {
                open.run_id = Some(run_id.clone());
            }
            self.jobs
                .push(Job::ResolveChildStart { seq, result: start }, place);
        } else if let Some(result) = resolve::child(&event.attributes) {
            self.known.children.remove(&seq);
            self.jobs.push(Job::ResolveChild { seq, result }, place);
        }
        Ok(())
    }

    /// A signal's or cancel request's outcome resolves the code's future.
    fn resolve_external(&mut self, event: &Event, place: Place) -> Result<(), TaskError> {
        let (initiated, _) = resolve::external(event).unwrap_or_default();
        let Some(request) = self.external.get(&initiated).copied() else {
            return Err(TaskError::nondeterminism(format!(
                "event {}: {} for a request this code never sent (initiated event {initiated})",
                event.event_id,
                event.attributes.name()
            )));
        };
        let failure = resolve::external_failure(&event.attributes);
        let job = match request {
            ExternalRequest::Signal(seq) => Job::ResolveSignalExternal { seq, failure },
            ExternalRequest::Cancel { seq, child } => Job::ResolveRequestCancelExternal {
                seq,
                child,
                failure,
            },
        };
        self.jobs.push(job, place);
        Ok(())
    }

    /// The start job, with the run's facts; remembers the run's task queue
    /// and type, which its commands' events refer to.
    fn start_job(&mut self, event: &Event) -> Option<Job> {
        let EventAttributes::WorkflowExecutionStarted {
            workflow_type,
            task_queue,
            input,
            attempt,
            randomness_seed,
            search_attributes,
            ..
        } = &event.attributes
        else {
            return None;
        };
        self.known.task_queue = task_queue.clone();
        self.known.workflow_type = workflow_type.clone();
        Some(Job::Start {
            info: WorkflowInfo {
                namespace: self.namespace.clone(),
                workflow_id: self.workflow_id.clone(),
                run_id: self.run_id.clone(),
                workflow_type: workflow_type.clone(),
                task_queue: task_queue.clone(),
                attempt: *attempt,
                start_time: event.event_time,
                search_attributes: search_attributes.clone(),
            },
            input: input.clone(),
            randomness_seed: *randomness_seed,
        })
    }

    /// The activity an outcome event names, or a nondeterminism error when
    /// this code never scheduled it.
    pub(super) fn activity(
        &self,
        scheduled_event_id: i64,
        event: &Event,
    ) -> Result<&ScheduledActivity, TaskError> {
        self.activities.get(&scheduled_event_id).ok_or_else(|| {
            TaskError::nondeterminism(format!(
                "event {}: {} for scheduled event {scheduled_event_id}, which this code never scheduled",
                event.event_id,
                event.attributes.name()
            ))
        })
    }
}

/// An event that only a workflow task's commands write, found between them.
fn unexpected(event: &Event) -> TaskError {
    TaskError::new(format!(
        "event {}: {} outside a workflow task's commands",
        event.event_id,
        event.attributes.name()
    ))
}
