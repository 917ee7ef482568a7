//! Replay of a completed workflow task: the code runs again on the jobs
//! history gives it, and each command it produces must be the event
//! history holds next (`history::commands::matches`); the live path
//! checks its own commands against the events the engine wrote for them.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashSet};
use std::iter::Peekable;
use std::slice::Iter;
use std::time::SystemTime;

use super::order::Place;
use super::{ExternalRequest, RunDriver, activation};
use crate::history::commands::{
    self, InitiatedChild, ScheduledActivity, TrackingView, is_rejection, timer_id,
};
use crate::history::{Event, EventAttributes, describe, markers};
use crate::protocol::{Command, Job, ScheduleActivity};
use crate::workflow::error::TaskError;

/// The commands of a replayed task waiting for their events.
type Expected<'a> = Peekable<Iter<'a, Event>>;

/// The local activities a replayed task scheduled, waiting for their
/// markers, by seq.
type PendingLocal = BTreeMap<u32, ScheduleActivity>;

impl RunDriver {
    /// Replays one completed workflow task against its command events.
    ///
    /// Before the code runs, the task's side effect values and patch markers
    /// are delivered as jobs (as Temporal core delivers `NotifyHasPatch`), so
    /// `side_effect` reads its recorded value and `patched` sees the marker.
    /// Deprecated patch markers may be absent from either side.
    ///
    /// A cancel command with no event is accepted when `later` (the events
    /// after the task) resolves its timer or activity: it fired or ended
    /// while the task ran, so the engine had nothing left to cancel.
    pub(super) fn replay_task(
        &mut self,
        command_events: &[Event],
        later: &[Event],
    ) -> Result<(), TaskError> {
        let timestamp = self.started_time.unwrap_or(SystemTime::UNIX_EPOCH);
        let length = command_events
            .first()
            .map_or(self.last_event_id, |e| e.event_id - 1) as u64;
        let hint = self.hint;
        // Markers' jobs go to their rank (patches after start, side effect
        // values first among resolutions); the updates this task accepted
        // go where they arrived, as live, and skip the validator.
        for job in marker_jobs(command_events) {
            self.jobs.push(job, Place::FIRST);
        }
        for (job, sequencing_event_id) in accepted_update_jobs(command_events) {
            self.jobs.push(job, Place::update(sequencing_event_id));
        }
        let jobs = self.jobs.take();
        let mut commands = self
            .instance
            .activate(activation(timestamp, true, length, hint, jobs))?;
        let mut expected = command_events.iter().peekable();
        let mut pending_local = PendingLocal::new();
        loop {
            self.check_replayed(commands, &mut expected, later, &mut pending_local)?;
            if pending_local.is_empty() || self.closed {
                break;
            }
            let job = next_local_resolution(&mut expected, &mut pending_local)?;
            commands =
                self.instance
                    .activate(activation(timestamp, true, length, hint, vec![job]))?;
        }
        skip_deprecated_patches(&mut expected, None);
        if let Some(extra) = expected.next() {
            return Err(TaskError::nondeterminism(format!(
                "event {}: history has {}, which the code did not produce",
                extra.event_id,
                describe::event(extra)
            )));
        }
        Ok(())
    }

    /// Checks the commands of one activation of a replayed task against the
    /// events expected next; local activities it schedules join
    /// `pending_local` (their markers resolve them).
    fn check_replayed(
        &mut self,
        commands: Vec<Command>,
        expected: &mut Expected<'_>,
        later: &[Event],
        pending_local: &mut PendingLocal,
    ) -> Result<(), TaskError> {
        for command in commands {
            if let Command::ScheduleLocalActivity(la) = command {
                pending_local.insert(la.seq, la);
                continue;
            }
            if is_rejection(&command) {
                // Never recorded.
                continue;
            }
            skip_deprecated_patches(expected, Some(&command));
            let deprecated_patch = matches!(
                command,
                Command::SetPatchMarker {
                    deprecated: true,
                    ..
                }
            );
            match expected.peek() {
                Some(event) if deprecated_patch && !is_patch_marker_for(&command, event) => {}
                next if self.cancel_unrecorded(&command, next.copied(), later) => {}
                Some(event) => {
                    let event = *event;
                    expected.next();
                    self.check(&command, event)?;
                }
                None if deprecated_patch => {}
                None => return Err(missing_event(&command, self.last_event_id)),
            }
        }
        Ok(())
    }

    /// Matches the commands of the last live task with the events the
    /// engine recorded for them.
    pub(super) fn match_all(
        &mut self,
        commands: Vec<Command>,
        events: &[Event],
        later: &[Event],
    ) -> Result<(), TaskError> {
        let commands: Vec<Command> = commands.into_iter().filter(|c| !is_rejection(c)).collect();
        let mismatch = || {
            TaskError::new(format!(
                "the engine recorded {} events for {} commands",
                events.len(),
                commands.len()
            ))
        };
        let mut expected = events.iter().peekable();
        for command in &commands {
            if self.cancel_unrecorded(command, expected.peek().copied(), later) {
                continue;
            }
            let event = expected.next().ok_or_else(mismatch)?;
            self.check(command, event)?;
        }
        if expected.next().is_some() {
            return Err(mismatch());
        }
        Ok(())
    }

    /// Whether `command` cancels a timer or activity whose cancellation
    /// history rightly does not hold: `next` (the event it would match) is
    /// not its event, and the events after the task show the timer fired or
    /// the activity ended while the task ran, so the engine had nothing
    /// left to cancel (and the workflow ignores that outcome).
    fn cancel_unrecorded(&self, command: &Command, next: Option<&Event>, later: &[Event]) -> bool {
        let recorded = next.is_some_and(|e| commands::matches(command, e, &self.known));
        match command {
            Command::CancelTimer { seq } => {
                let id = timer_id(*seq);
                !recorded
                    && later
                        .iter()
                        .any(|e| commands::fired_timer(e) == Some(id.as_str()))
            }
            Command::RequestCancelActivity { seq } => {
                let Some(scheduled) = self.known.activities.get(seq).copied() else {
                    return false;
                };
                !recorded
                    && later
                        .iter()
                        .any(|e| commands::outcome_of(e) == Some(scheduled))
            }
            Command::CancelChildWorkflow { seq } => {
                let initiated = self
                    .children
                    .iter()
                    .find(|(_, c)| c.seq == *seq)
                    .map(|(id, _)| *id);
                !recorded
                    && initiated.is_some_and(|id| {
                        later.iter().any(|e| {
                            commands::resolve::closes_child(e)
                                && commands::resolve::initiated_event_of(e) == Some(id)
                        })
                    })
            }
            _ => false,
        }
    }

    /// Checks that a command produced the event history holds, and records
    /// what later events need to be read.
    fn check(&mut self, command: &Command, event: &Event) -> Result<(), TaskError> {
        if !commands::matches(command, event, &self.known) {
            let detail = describe::input_difference(command, event)
                .map(|d| format!(" ({d})"))
                .unwrap_or_default();
            return Err(TaskError::nondeterminism(format!(
                "event {}: history has {}, the code produced {}{detail}",
                event.event_id,
                self.describe_event(event),
                self.describe_command(command)
            )));
        }
        self.known.track(command, event.event_id);
        match command {
            Command::ScheduleActivity(sa) => {
                self.activities.insert(
                    event.event_id,
                    ScheduledActivity {
                        seq: sa.seq,
                        activity_type: sa.activity_type.clone(),
                        activity_id: sa.activity_id.clone(),
                    },
                );
            }
            Command::StartTimer { seq, .. } => {
                self.timers.insert(timer_id(*seq), *seq);
            }
            Command::StartChildWorkflow(sc) => {
                let child = InitiatedChild {
                    seq: sc.seq,
                    workflow_id: sc.workflow_id.clone(),
                    workflow_type: sc.workflow_type.clone(),
                };
                self.children.insert(event.event_id, child);
            }
            Command::SignalExternalWorkflow { seq, .. } => {
                self.external
                    .insert(event.event_id, ExternalRequest::Signal(*seq));
            }
            Command::RequestCancelExternalWorkflow { seq, .. } => {
                let request = ExternalRequest::Cancel {
                    seq: *seq,
                    child: false,
                };
                self.external.insert(event.event_id, request);
            }
            Command::CancelChildWorkflow { seq } => {
                let request = ExternalRequest::Cancel {
                    seq: *seq,
                    child: true,
                };
                self.external.insert(event.event_id, request);
            }
            terminal if terminal.is_terminal() => self.closed = true,
            _ => {}
        }
        Ok(())
    }

    /// An event as a nondeterminism message shows it; a cancel request
    /// names its activity as the code knows it.
    fn describe_event(&self, event: &Event) -> String {
        if let EventAttributes::ActivityTaskCancelRequested {
            scheduled_event_id, ..
        } = &event.attributes
            && let Some(a) = self.activities.get(scheduled_event_id)
        {
            return format!(
                "ActivityTaskCancelRequested(activity seq {}, type {}, id {})",
                a.seq, a.activity_type, a.activity_id
            );
        }
        describe::event(event)
    }

    /// A command as a nondeterminism message shows it; a cancel request
    /// names its activity as history knows it.
    fn describe_command(&self, command: &Command) -> String {
        if let Command::RequestCancelActivity { seq } = command
            && let Some(a) = self
                .known
                .activities
                .get(seq)
                .and_then(|id| self.activities.get(id))
        {
            return format!(
                "RequestCancelActivity(activity seq {seq}, type {}, id {})",
                a.activity_type, a.activity_id
            );
        }
        describe::command(command)
    }
}

/// The job that resolves the next local activity of a replayed task from
/// its marker, which must record the call the code made: same seq, type
/// and input.
fn next_local_resolution(
    expected: &mut Expected<'_>,
    pending_local: &mut PendingLocal,
) -> Result<Job, TaskError> {
    skip_deprecated_patches(expected, None);
    let Some(event) = expected.next() else {
        return Err(TaskError::nondeterminism(format!(
            "the code scheduled local activities {:?} whose results history does not hold",
            pending_local.keys().collect::<Vec<_>>()
        )));
    };
    let (seq, result) = markers::local_activity(event).ok_or_else(|| {
        TaskError::nondeterminism(format!(
            "event {}: history has {}, the code waits for a local activity result",
            event.event_id,
            describe::event(event)
        ))
    })?;
    let Some(la) = pending_local.remove(&seq) else {
        return Err(TaskError::nondeterminism(format!(
            "event {}: local activity {seq} result, which this code did not schedule",
            event.event_id
        )));
    };
    if !commands::matches_local_call(&la, event) {
        let command = Command::ScheduleLocalActivity(la);
        let detail = describe::input_difference(&command, event)
            .map(|d| format!(" ({d})"))
            .unwrap_or_default();
        return Err(TaskError::nondeterminism(format!(
            "event {}: history has {}, the code produced {}{detail}",
            event.event_id,
            describe::event(event),
            describe::command(&command)
        )));
    }
    Ok(Job::ResolveLocalActivity { seq, result })
}

/// The command events of the workflow task completed by `completed` (at
/// `events[start - 1]`), the events of activities its cancel requests
/// stopped at once (the engine writes each right after its request), and
/// the index after them.
pub(super) fn task_command_events<'a>(
    events: &'a [Event],
    start: usize,
    completed: &Event,
) -> (Cow<'a, [Event]>, Vec<&'a Event>, usize) {
    let mut end = start;
    let mut requests = HashSet::new();
    let mut at_once = Vec::new();
    while let Some(e) = events.get(end) {
        if e.attributes.command_of() == Some(completed.event_id) {
            if let EventAttributes::ActivityTaskCancelRequested { .. } = e.attributes {
                requests.insert(e.event_id);
            }
        } else if matches!(
            &e.attributes,
            EventAttributes::ActivityTaskCanceled { latest_cancel_requested_event_id, .. }
                if requests.contains(latest_cancel_requested_event_id)
        ) {
            at_once.push(e);
        } else {
            break;
        }
        end += 1;
    }
    let slice = &events[start..end];
    if at_once.is_empty() {
        return (Cow::Borrowed(slice), at_once, end);
    }
    let commands = slice
        .iter()
        .filter(|e| e.attributes.command_of() == Some(completed.event_id))
        .cloned()
        .collect();
    (Cow::Owned(commands), at_once, end)
}

/// The updates a replayed task accepted, as jobs that skip the validator,
/// with their sequencing event ids.
fn accepted_update_jobs(command_events: &[Event]) -> Vec<(Job, i64)> {
    command_events
        .iter()
        .filter_map(|e| match &e.attributes {
            EventAttributes::WorkflowExecutionUpdateAccepted {
                update_id,
                name,
                input,
                accepted_request_sequencing_event_id,
                ..
            } => Some((
                Job::Update {
                    id: update_id.clone(),
                    name: name.clone(),
                    input: input.clone(),
                    run_validator: false,
                },
                *accepted_request_sequencing_event_id,
            )),
            _ => None,
        })
        .collect()
}

/// Jobs that deliver a replayed task's recorded side effect values and
/// patch markers before its code runs.
fn marker_jobs(command_events: &[Event]) -> Vec<Job> {
    let mut patches = Vec::new();
    let mut values = Vec::new();
    for event in command_events {
        if let Some((patch_id, _)) = markers::patch(event) {
            patches.push(Job::NotifyHasPatch { patch_id });
        } else if let Some((Some(seq), value)) = markers::side_effect(event) {
            values.push(Job::ResolveSideEffect { seq, value });
        }
    }
    patches.extend(values);
    patches
}

/// Skips deprecated patch markers that `command` does not match: code that
/// no longer calls `deprecate_patch` replays history that holds its marker.
fn skip_deprecated_patches(expected: &mut Expected<'_>, command: Option<&Command>) {
    while let Some(event) = expected.peek() {
        if markers::is_deprecated_patch(event)
            && !command.is_some_and(|c| is_patch_marker_for(c, event))
        {
            expected.next();
        } else {
            break;
        }
    }
}

fn is_patch_marker_for(command: &Command, event: &Event) -> bool {
    match command {
        Command::SetPatchMarker { patch_id, .. } => {
            markers::patch(event).is_some_and(|(id, _)| id == *patch_id)
        }
        _ => false,
    }
}

fn missing_event(command: &Command, last_event_id: i64) -> TaskError {
    TaskError::nondeterminism(format!(
        "after event {last_event_id}: the code produced {}, which history does not hold",
        describe::command(command)
    ))
}

#[cfg(test)]
mod tests;
