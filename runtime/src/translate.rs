//! Translation between history and the executor's protocol.
//!
//! A [`RunDriver`] turns history into activations (one per completed workflow
//! task on replay, then one live activation), and checks on replay that the
//! commands the code produces match the events history holds. Command events
//! of a workflow task follow its `WorkflowTaskCompleted` contiguously and carry
//! its id; incoming events (activity results, timers, signals) between two
//! tasks become the jobs of the later one, ordered by [`Job::rank`] (start,
//! patches, signals, resolutions, local activity resolutions) both live and
//! on replay. The engine uses [`command_matches`]' twin rules
//! when it turns commands into events.
//!
//! Cancellation: `WorkflowExecutionCancelRequested` becomes a
//! [`Job::CancelWorkflow`] (in arrival order with signals), and
//! `ActivityTaskCanceled` resolves its activity with an `ActivityError`
//! caused by a `CanceledError` (retry state `CancelRequested`); the engine
//! writes an activity cancelled at once right after its
//! `ActivityTaskCancelRequested`, among the task's command events, and it is
//! read as an incoming event after them. `CancelTimer` matches
//! `TimerCanceled`, `RequestCancelActivity` matches the
//! `ActivityTaskCancelRequested` of the activity with its seq, and
//! `CancelWorkflow` matches `WorkflowExecutionCanceled`. A cancel command
//! with no event is accepted only when the events after its task show the
//! timer fired or the activity ended while the task ran (the engine then had
//! nothing to cancel). `WorkflowExecutionTerminated` ends the history.
//!
//! Signals, updates and cancel requests share a rank and keep their arrival
//! order. A signal's arrival is its event id. An update is not in history
//! until accepted, and its `WorkflowExecutionUpdateAccepted` is written
//! among the accepting task's command events, after the buffered signals
//! that arrived before it; so the engine gives each update the id of the
//! last event when it arrived (its sequencing event id: live on
//! [`UpdateDelivery`], recorded on the accepted event for replay), and
//! both live and on replay the update's job goes right after that event's
//! job ([`Place`]). An update that arrived while a workflow task ran
//! follows the signals buffered before it: the engine fixes its sequencing
//! id when the buffer is written, before any task delivers the update.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::iter::Peekable;
use std::slice::Iter;
use std::time::SystemTime;

use crate::backend::UpdateDelivery;
use crate::converter::{self, Payload};
use crate::failure::{ActivityError, CanceledError, Failure};
use crate::history::{
    Event, EventAttributes, LOCAL_ACTIVITY_MARKER, PATCH_MARKER, SIDE_EFFECT_MARKER,
};
use crate::protocol::{
    Activation, Command, Job, Resolution, ScheduleActivity, UpdateResponse, WorkflowInfo,
};
use crate::workflow::executor::{Instance, TaskError};
use crate::workflow::{ACTIVITY_CANCELED, canceled_activity};

/// What a workflow task told the workflow about its history's size: live
/// from the task, on replay from its `WorkflowTaskStarted` event.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct TaskHint {
    pub suggest_continue_as_new: bool,
    pub history_size_bytes: u64,
}

struct ScheduledActivity {
    seq: u32,
    activity_type: String,
    activity_id: String,
}

/// A run's executor plus what is needed to map history onto it.
pub(crate) struct RunDriver {
    instance: Box<dyn Instance>,
    namespace: String,
    run_id: String,
    workflow_id: String,
    activities: HashMap<i64, ScheduledActivity>,
    attempts: HashMap<i64, u32>,
    timers: HashMap<String, u32>,
    /// What the events of a live task's commands refer to.
    context: CommandContext,
    jobs: Vec<Job>,
    /// Where each of `jobs` arrived (same index).
    places: Vec<Place>,
    /// Commands of the last live task, waiting to meet their events.
    awaiting: Option<Vec<Command>>,
    last_event_id: i64,
    started_time: Option<SystemTime>,
    /// The hint of the workflow task being replayed.
    hint: TaskHint,
    closed: bool,
    /// The live task being run, when local activities are pending.
    live: Option<LiveTask>,
}

/// What the events of a live task's commands refer to and the commands do
/// not carry; strict replay rebuilds those events with it.
#[derive(Clone, Debug, Default)]
pub(crate) struct CommandContext {
    /// The updates delivered live, by id (what the engine records when it
    /// accepts one).
    pub updates: DeliveredUpdates,
    /// The `ActivityTaskScheduled` event of each activity, by seq (what an
    /// `ActivityTaskCancelRequested` names).
    pub activities: HashMap<u32, i64>,
    /// The `TimerStarted` event of each timer, by seq.
    pub timers: HashMap<u32, i64>,
}

/// Delivered updates, by update id.
pub(crate) type DeliveredUpdates = HashMap<String, UpdateDelivery>;

/// Where a job goes among the jobs of its [`Job::rank`]: an incoming
/// event's job at its event id, an update right after the event it arrived
/// after (its sequencing event id), a replayed task's marker jobs first.
/// Jobs in the same place keep the order they were added in (arrival order
/// for updates).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Place {
    after_event: i64,
    update: bool,
}

impl Place {
    const FIRST: Place = Place {
        after_event: i64::MIN,
        update: false,
    };
    const LAST: Place = Place {
        after_event: i64::MAX,
        update: false,
    };

    fn event(event_id: i64) -> Place {
        Place {
            after_event: event_id,
            update: false,
        }
    }

    fn update(sequencing_event_id: i64) -> Place {
        Place {
            after_event: sequencing_event_id,
            update: true,
        }
    }
}

/// Puts jobs in the order they must be applied: by rank, then by place (a
/// stable sort). A job without a place goes last in its rank.
fn arrange(jobs: Vec<Job>, places: Vec<Place>) -> Vec<Job> {
    let places = places.into_iter().chain(std::iter::repeat(Place::LAST));
    let mut placed: Vec<(Job, Place)> = jobs.into_iter().zip(places).collect();
    placed.sort_by_key(|(job, place)| (job.rank(), *place));
    placed.into_iter().map(|(job, _)| job).collect()
}

struct LiveTask {
    timestamp: SystemTime,
    history_length: u64,
    hint: TaskHint,
    commands: Vec<Command>,
    pending_local: HashSet<u32>,
}

/// What the live part of a workflow task produced so far.
pub(crate) struct LiveStep {
    /// Local activities to run now.
    pub local_activities: Vec<ScheduleActivity>,
    /// When true, `commands` is final: complete the task with it.
    pub done: bool,
    /// All commands of the task so far (only meaningful when `done`).
    pub commands: Vec<Command>,
}

impl RunDriver {
    pub fn new(
        instance: Box<dyn Instance>,
        namespace: &str,
        workflow_id: &str,
        run_id: &str,
    ) -> Self {
        RunDriver {
            instance,
            namespace: namespace.to_string(),
            run_id: run_id.to_string(),
            workflow_id: workflow_id.to_string(),
            activities: HashMap::new(),
            attempts: HashMap::new(),
            timers: HashMap::new(),
            jobs: Vec::new(),
            places: Vec::new(),
            awaiting: None,
            last_event_id: 0,
            started_time: None,
            hint: TaskHint::default(),
            closed: false,
            live: None,
            context: CommandContext::default(),
        }
    }

    /// Adds the updates a live task delivers to its activation's jobs,
    /// each right after the event it arrived after.
    pub fn deliver_updates(&mut self, updates: &[UpdateDelivery]) {
        for u in updates {
            self.context.updates.insert(u.update_id.clone(), u.clone());
            self.push_job(
                Job::Update {
                    id: u.update_id.clone(),
                    name: u.name.clone(),
                    input: u.input.clone(),
                    run_validator: true,
                },
                Place::update(u.sequencing_event_id),
            );
        }
    }

    fn push_job(&mut self, job: Job, place: Place) {
        // Jobs added without a place (none expected) go last in their rank.
        self.places.resize(self.jobs.len(), Place::LAST);
        self.jobs.push(job);
        self.places.push(place);
    }

    /// The updates delivered live, and the events of the run's activities
    /// and timers: what the events of this task's commands refer to.
    pub fn command_context(&self) -> &CommandContext {
        &self.context
    }

    /// Whether the run has closed: history says so, or the last live
    /// task's commands close it.
    pub fn is_closed(&self) -> bool {
        self.closed
            || self
                .awaiting
                .as_ref()
                .is_some_and(|commands| commands.iter().any(Command::is_terminal))
    }

    /// Whether no live task is half done (waiting for local activities):
    /// the state is that of the last task run.
    pub fn is_settled(&self) -> bool {
        self.live.is_none()
    }

    /// Answers a query from the run's state; changes nothing.
    pub fn query(&self, name: &str, input: &[Payload]) -> Result<Payload, crate::failure::Failure> {
        self.instance.query(name, input)
    }

    /// Id of the last event this driver has applied.
    pub fn last_event_id(&self) -> i64 {
        self.last_event_id
    }

    /// Applies events: replays completed workflow tasks, matches the last live
    /// task's commands, and gathers jobs for the next activation.
    pub fn apply_events(&mut self, events: &[Event]) -> Result<(), TaskError> {
        let mut i = 0;
        while i < events.len() {
            let event = &events[i];
            i += 1;
            if event.event_id <= self.last_event_id {
                continue;
            }
            if event.event_id != self.last_event_id + 1 {
                return Err(TaskError::new(format!(
                    "history gap: expected event {}, got {}",
                    self.last_event_id + 1,
                    event.event_id
                )));
            }
            self.last_event_id = event.event_id;
            match &event.attributes {
                EventAttributes::WorkflowTaskCompleted { .. } => {
                    let (command_events, at_once, end) = task_command_events(events, i, event);
                    i = end;
                    if let Some(last) = events[..i].last() {
                        self.last_event_id = self.last_event_id.max(last.event_id);
                    }
                    // What arrived while the task ran: the events up to the
                    // next workflow task (all the live path ever sees).
                    let rest = &events[i..];
                    let next_task = rest
                        .iter()
                        .position(|e| {
                            matches!(
                                e.attributes,
                                EventAttributes::WorkflowTaskScheduled { .. }
                                    | EventAttributes::WorkflowTaskStarted { .. }
                            )
                        })
                        .unwrap_or(rest.len());
                    let later = &rest[..next_task];
                    match self.awaiting.take() {
                        Some(commands) => self.match_all(commands, &command_events, later)?,
                        None => self.replay_task(&command_events, later)?,
                    }
                    // Activities the task's requests cancelled at once: their
                    // outcome is for the next activation.
                    for e in at_once {
                        self.apply_incoming_placed(e)?;
                    }
                }
                _ => {
                    self.apply_incoming_placed(event)?;
                }
            }
        }
        Ok(())
    }

    /// Applies an incoming event; the jobs it adds take its place (its
    /// event id).
    fn apply_incoming_placed(&mut self, event: &Event) -> Result<(), TaskError> {
        self.places.resize(self.jobs.len(), Place::LAST);
        self.apply_incoming(event)?;
        self.places
            .resize(self.jobs.len(), Place::event(event.event_id));
        Ok(())
    }

    fn apply_incoming(&mut self, event: &Event) -> Result<(), TaskError> {
        match &event.attributes {
            EventAttributes::WorkflowExecutionStarted {
                workflow_type,
                task_queue,
                input,
                attempt,
                randomness_seed,
                ..
            } => self.jobs.push(Job::Start {
                info: WorkflowInfo {
                    namespace: self.namespace.clone(),
                    workflow_id: self.workflow_id.clone(),
                    run_id: self.run_id.clone(),
                    workflow_type: workflow_type.clone(),
                    task_queue: task_queue.clone(),
                    attempt: *attempt,
                    start_time: event.event_time,
                },
                input: input.clone(),
                randomness_seed: *randomness_seed,
            }),
            EventAttributes::WorkflowTaskStarted {
                suggest_continue_as_new,
                history_size_bytes,
                ..
            } => {
                self.started_time = Some(event.event_time);
                self.hint = TaskHint {
                    suggest_continue_as_new: *suggest_continue_as_new,
                    history_size_bytes: *history_size_bytes,
                };
            }
            EventAttributes::WorkflowTaskScheduled { .. }
            | EventAttributes::WorkflowTaskFailed { .. }
            | EventAttributes::WorkflowTaskTimedOut { .. } => {}
            EventAttributes::ActivityTaskStarted {
                scheduled_event_id,
                attempt,
                ..
            } => {
                self.attempts.insert(*scheduled_event_id, *attempt);
            }
            EventAttributes::ActivityTaskCompleted {
                scheduled_event_id,
                result,
                ..
            } => {
                let seq = self.activity(*scheduled_event_id, event)?.seq;
                self.jobs.push(Job::ResolveActivity {
                    seq,
                    result: Resolution::Completed(result.clone()),
                });
            }
            EventAttributes::ActivityTaskFailed {
                scheduled_event_id,
                failure,
                retry_state,
                ..
            }
            | EventAttributes::ActivityTaskTimedOut {
                scheduled_event_id,
                failure,
                retry_state,
                ..
            } => {
                let attempt = self.attempts.get(scheduled_event_id).copied().unwrap_or(1);
                let scheduled = self.activity(*scheduled_event_id, event)?;
                let error = ActivityError {
                    activity_type: scheduled.activity_type.clone(),
                    activity_id: scheduled.activity_id.clone(),
                    retry_state: *retry_state,
                    attempt,
                    cause: Box::new(failure.clone()),
                };
                let seq = scheduled.seq;
                self.jobs.push(Job::ResolveActivity {
                    seq,
                    result: Resolution::Failed(Failure::Activity(error)),
                });
            }
            EventAttributes::ActivityTaskCanceled {
                scheduled_event_id,
                details,
                ..
            } => {
                let attempt = self.attempts.get(scheduled_event_id).copied().unwrap_or(1);
                let scheduled = self.activity(*scheduled_event_id, event)?;
                let mut error = canceled_activity(&scheduled.activity_type, &scheduled.activity_id);
                error.attempt = attempt;
                error.cause = Box::new(Failure::Canceled(CanceledError {
                    message: ACTIVITY_CANCELED.to_string(),
                    details: details.clone(),
                }));
                let seq = scheduled.seq;
                self.jobs.push(Job::ResolveActivity {
                    seq,
                    result: Resolution::Failed(Failure::Activity(error)),
                });
            }
            EventAttributes::WorkflowExecutionSignaled {
                signal_name, input, ..
            } => self.jobs.push(Job::Signal {
                name: signal_name.clone(),
                input: input.clone(),
            }),
            EventAttributes::WorkflowExecutionCancelRequested { cause, .. } => {
                self.jobs.push(Job::CancelWorkflow {
                    reason: cause.clone(),
                })
            }
            // The run ended without its code: nothing for the workflow.
            EventAttributes::WorkflowExecutionTerminated { .. } => self.closed = true,
            EventAttributes::TimerFired { timer_id, .. } => {
                let seq = *self.timers.get(timer_id).ok_or_else(|| {
                    TaskError::nondeterminism(format!(
                        "event {}: timer {timer_id} fired but this code never started it",
                        event.event_id
                    ))
                })?;
                self.jobs.push(Job::FireTimer { seq });
            }
            other => {
                return Err(TaskError::new(format!(
                    "event {}: {} outside a workflow task's commands",
                    event.event_id,
                    other.name()
                )));
            }
        }
        Ok(())
    }

    fn activity(
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

    fn activation(
        &mut self,
        timestamp: SystemTime,
        replaying: bool,
        history_length: u64,
        hint: TaskHint,
    ) -> Activation {
        let jobs = arrange(
            std::mem::take(&mut self.jobs),
            std::mem::take(&mut self.places),
        );
        Activation {
            timestamp,
            is_replaying: replaying,
            history_length,
            history_size_bytes: hint.history_size_bytes,
            continue_as_new_suggested: hint.suggest_continue_as_new,
            jobs,
        }
    }

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
    fn replay_task(&mut self, command_events: &[Event], later: &[Event]) -> Result<(), TaskError> {
        let timestamp = self.started_time.unwrap_or(SystemTime::UNIX_EPOCH);
        let length = command_events
            .first()
            .map_or(self.last_event_id, |e| e.event_id - 1);
        let hint = self.hint;
        // Markers' jobs go to their rank (patches after start, side effect
        // values first among resolutions); the updates this task accepted
        // go where they arrived, as live, and skip the validator.
        for job in marker_jobs(command_events) {
            self.push_job(job, Place::FIRST);
        }
        for (job, sequencing_event_id) in accepted_update_jobs(command_events) {
            self.push_job(job, Place::update(sequencing_event_id));
        }
        let activation = self.activation(timestamp, true, length as u64, hint);
        let mut commands = self.instance.activate(activation)?;
        let mut expected = command_events.iter().peekable();
        let mut pending_local = HashSet::new();
        loop {
            for command in commands {
                if let Command::ScheduleLocalActivity(la) = &command {
                    pending_local.insert(la.seq);
                    continue;
                }
                if is_rejection(&command) {
                    // Never recorded.
                    continue;
                }
                skip_deprecated_patches(&mut expected, Some(&command));
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
            if pending_local.is_empty() || self.closed {
                break;
            }
            skip_deprecated_patches(&mut expected, None);
            let Some(event) = expected.next() else {
                return Err(TaskError::nondeterminism(format!(
                    "the code scheduled local activities {pending_local:?} whose results history does not hold"
                )));
            };
            let (seq, result) = local_marker(event).ok_or_else(|| {
                TaskError::nondeterminism(format!(
                    "event {}: history has {}, the code waits for a local activity result",
                    event.event_id,
                    describe_event(event)
                ))
            })?;
            if !pending_local.remove(&seq) {
                return Err(TaskError::nondeterminism(format!(
                    "event {}: local activity {seq} result, which this code did not schedule",
                    event.event_id
                )));
            }
            let job = Job::ResolveLocalActivity { seq, result };
            commands = self.instance.activate(Activation {
                timestamp,
                is_replaying: true,
                history_length: length as u64,
                history_size_bytes: hint.history_size_bytes,
                continue_as_new_suggested: hint.suggest_continue_as_new,
                jobs: vec![job],
            })?;
        }
        skip_deprecated_patches(&mut expected, None);
        if let Some(extra) = expected.next() {
            return Err(TaskError::nondeterminism(format!(
                "event {}: history has {}, which the code did not produce",
                extra.event_id,
                describe_event(extra)
            )));
        }
        Ok(())
    }

    fn match_all(
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
        match command {
            Command::CancelTimer { seq } => {
                let timer_id = seq.to_string();
                let recorded = next.is_some_and(|e| {
                    matches!(&e.attributes, EventAttributes::TimerCanceled { timer_id: t, .. } if *t == timer_id)
                });
                !recorded
                    && later.iter().any(|e| {
                        matches!(&e.attributes, EventAttributes::TimerFired { timer_id: t, .. } if *t == timer_id)
                    })
            }
            Command::RequestCancelActivity { seq } => {
                let Some(scheduled) = self.context.activities.get(seq).copied() else {
                    return false;
                };
                let recorded = next.is_some_and(|e| {
                    matches!(&e.attributes, EventAttributes::ActivityTaskCancelRequested { scheduled_event_id, .. } if *scheduled_event_id == scheduled)
                });
                !recorded
                    && later
                        .iter()
                        .any(|e| activity_outcome_of(e) == Some(scheduled))
            }
            _ => false,
        }
    }

    /// Checks that a command produced the event history holds, and records
    /// the mapping later events need.
    fn check(&mut self, command: &Command, event: &Event) -> Result<(), TaskError> {
        let ok = match (command, &event.attributes) {
            (
                Command::ScheduleActivity(sa),
                EventAttributes::ActivityTaskScheduled {
                    activity_id,
                    activity_type,
                    ..
                },
            ) if *activity_id == sa.activity_id && *activity_type == sa.activity_type => {
                self.context.activities.insert(sa.seq, event.event_id);
                self.activities.insert(
                    event.event_id,
                    ScheduledActivity {
                        seq: sa.seq,
                        activity_type: sa.activity_type.clone(),
                        activity_id: sa.activity_id.clone(),
                    },
                );
                true
            }
            (Command::StartTimer { seq, .. }, EventAttributes::TimerStarted { timer_id, .. })
                if *timer_id == seq.to_string() =>
            {
                self.timers.insert(timer_id.clone(), *seq);
                self.context.timers.insert(*seq, event.event_id);
                true
            }
            (Command::CancelTimer { seq }, EventAttributes::TimerCanceled { timer_id, .. }) => {
                *timer_id == seq.to_string()
            }
            (
                Command::RequestCancelActivity { seq },
                EventAttributes::ActivityTaskCancelRequested {
                    scheduled_event_id, ..
                },
            ) => self
                .activities
                .get(scheduled_event_id)
                .is_some_and(|a| a.seq == *seq),
            (Command::CancelWorkflow { .. }, EventAttributes::WorkflowExecutionCanceled { .. }) => {
                self.closed = true;
                true
            }
            (Command::RecordLocalActivityMarker { seq, .. }, _) => {
                local_marker(event).is_some_and(|(s, _)| s == *seq)
            }
            (Command::RecordSideEffect { seq, .. }, _) => {
                side_effect_marker(event).is_some_and(|(s, _)| s == Some(*seq))
            }
            (Command::SetPatchMarker { .. }, _) => is_patch_marker_for(command, event),
            (
                Command::UpdateResponse {
                    id,
                    response: UpdateResponse::Accepted,
                },
                EventAttributes::WorkflowExecutionUpdateAccepted { update_id, .. },
            )
            | (
                Command::UpdateResponse {
                    id,
                    response: UpdateResponse::Completed(_),
                },
                EventAttributes::WorkflowExecutionUpdateCompleted { update_id, .. },
            ) => id == update_id,
            (
                Command::CompleteWorkflow { .. },
                EventAttributes::WorkflowExecutionCompleted { .. },
            )
            | (Command::FailWorkflow { .. }, EventAttributes::WorkflowExecutionFailed { .. })
            | (
                Command::ContinueAsNew { .. },
                EventAttributes::WorkflowExecutionContinuedAsNew { .. },
            ) => {
                self.closed = true;
                true
            }
            _ => false,
        };
        if ok {
            Ok(())
        } else {
            Err(TaskError::nondeterminism(format!(
                "event {}: history has {}, the code produced {}",
                event.event_id,
                self.describe(event),
                self.describe_command(command)
            )))
        }
    }

    /// An event as a nondeterminism message shows it; a cancel request
    /// names its activity as the code knows it.
    fn describe(&self, event: &Event) -> String {
        match &event.attributes {
            EventAttributes::ActivityTaskCancelRequested {
                scheduled_event_id, ..
            } => match self.activities.get(scheduled_event_id) {
                Some(a) => format!(
                    "ActivityTaskCancelRequested(activity seq {}, type {}, id {})",
                    a.seq, a.activity_type, a.activity_id
                ),
                None => describe_event(event),
            },
            _ => describe_event(event),
        }
    }

    /// A command as a nondeterminism message shows it; a cancel request
    /// names its activity as history knows it.
    fn describe_command(&self, command: &Command) -> String {
        if let Command::RequestCancelActivity { seq } = command
            && let Some(a) = self
                .context
                .activities
                .get(seq)
                .and_then(|id| self.activities.get(id))
        {
            return format!(
                "RequestCancelActivity(activity seq {seq}, type {}, id {})",
                a.activity_type, a.activity_id
            );
        }
        describe_command(command)
    }

    /// Runs the live activation of a task with the jobs gathered so far.
    pub fn start_live(
        &mut self,
        timestamp: SystemTime,
        history_length: u64,
        hint: TaskHint,
    ) -> Result<LiveStep, TaskError> {
        self.live = Some(LiveTask {
            timestamp,
            history_length,
            hint,
            commands: Vec::new(),
            pending_local: HashSet::new(),
        });
        let activation = self.activation(timestamp, false, history_length, hint);
        let commands = self.instance.activate(activation)?;
        self.absorb(commands)
    }

    /// Feeds a local activity's result into the live task.
    pub fn resolve_local(
        &mut self,
        seq: u32,
        activity_type: String,
        attempt: u32,
        result: Resolution,
    ) -> Result<LiveStep, TaskError> {
        let Some(live) = self.live.as_mut() else {
            return Err(TaskError::new(
                "local activity result outside a workflow task",
            ));
        };
        if !live.pending_local.remove(&seq) {
            return Err(TaskError::new(format!(
                "local activity {seq} is not pending"
            )));
        }
        live.commands.push(Command::RecordLocalActivityMarker {
            seq,
            activity_type,
            attempt,
            result: result.clone(),
        });
        let activation = Activation {
            timestamp: live.timestamp,
            is_replaying: false,
            history_length: live.history_length,
            history_size_bytes: live.hint.history_size_bytes,
            continue_as_new_suggested: live.hint.suggest_continue_as_new,
            jobs: vec![Job::ResolveLocalActivity { seq, result }],
        };
        let commands = self.instance.activate(activation)?;
        self.absorb(commands)
    }

    fn absorb(&mut self, commands: Vec<Command>) -> Result<LiveStep, TaskError> {
        let Some(live) = self.live.as_mut() else {
            return Err(TaskError::new("no live workflow task"));
        };
        let mut local_activities = Vec::new();
        for command in commands {
            match command {
                Command::ScheduleLocalActivity(la) => {
                    live.pending_local.insert(la.seq);
                    local_activities.push(la);
                }
                other => live.commands.push(other),
            }
        }
        let closing = live.commands.iter().any(Command::is_terminal);
        if live.pending_local.is_empty() || closing {
            let commands = self.live.take().map(|l| l.commands).unwrap_or_default();
            self.awaiting = Some(commands.clone());
            return Ok(LiveStep {
                local_activities: Vec::new(),
                done: true,
                commands,
            });
        }
        Ok(LiveStep {
            local_activities,
            done: false,
            commands: Vec::new(),
        })
    }
}

/// The command events of the workflow task completed by `completed` (at
/// `events[start - 1]`), the events of activities its cancel requests
/// stopped at once (the engine writes each right after its request), and
/// the index after them.
fn task_command_events<'a>(
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

/// The scheduled event of the activity an event ends, if it ends one.
fn activity_outcome_of(event: &Event) -> Option<i64> {
    match &event.attributes {
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
        } => Some(*scheduled_event_id),
        _ => None,
    }
}

fn is_rejection(command: &Command) -> bool {
    matches!(
        command,
        Command::UpdateResponse {
            response: UpdateResponse::Rejected(_),
            ..
        }
    )
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
        if let Some((patch_id, _)) = patch_marker(event) {
            patches.push(Job::NotifyHasPatch { patch_id });
        } else if let Some((Some(seq), value)) = side_effect_marker(event) {
            values.push(Job::ResolveSideEffect { seq, value });
        }
    }
    patches.extend(values);
    patches
}

/// Skips deprecated patch markers that `command` does not match: code that
/// no longer calls `deprecate_patch` replays history that holds its marker.
fn skip_deprecated_patches(expected: &mut Peekable<Iter<'_, Event>>, command: Option<&Command>) {
    while let Some(event) = expected.peek() {
        let deprecated = matches!(patch_marker(event), Some((_, true)));
        if deprecated && !command.is_some_and(|c| is_patch_marker_for(c, event)) {
            expected.next();
        } else {
            break;
        }
    }
}

fn is_patch_marker_for(command: &Command, event: &Event) -> bool {
    match command {
        Command::SetPatchMarker { patch_id, .. } => {
            patch_marker(event).is_some_and(|(id, _)| id == *patch_id)
        }
        _ => false,
    }
}

fn missing_event(command: &Command, last_event_id: i64) -> TaskError {
    TaskError::nondeterminism(format!(
        "after event {last_event_id}: the code produced {}, which history does not hold",
        describe_command(command)
    ))
}

/// Reads a local activity marker: its seq and result.
pub(crate) fn local_marker(event: &Event) -> Option<(u32, Resolution)> {
    let EventAttributes::MarkerRecorded {
        marker_name,
        details,
        failure,
        ..
    } = &event.attributes
    else {
        return None;
    };
    if marker_name != LOCAL_ACTIVITY_MARKER {
        return None;
    }
    let seq: u32 = converter::decode_single(details.get("seq")?).ok()?;
    let result = match failure {
        Some(f) => Resolution::Failed(f.clone()),
        None => Resolution::Completed(details.get("result")?.first()?.clone()),
    };
    Some((seq, result))
}

fn marker(event: &Event, name: &str) -> Option<(MarkerDetails, Option<Failure>)> {
    match &event.attributes {
        EventAttributes::MarkerRecorded {
            marker_name,
            details,
            failure,
            ..
        } if marker_name == name => Some((details.clone(), failure.clone())),
        _ => None,
    }
}

/// Reads a side effect marker: its seq (if readable) and value (if present).
pub(crate) fn side_effect_marker(event: &Event) -> Option<(Option<u32>, Option<Payload>)> {
    let (details, _) = marker(event, SIDE_EFFECT_MARKER)?;
    let seq = details
        .get("seq")
        .and_then(|p| converter::decode_single::<u32>(p).ok());
    let value = details.get("data").and_then(|d| d.first().cloned());
    Some((seq, value))
}

/// The details a side effect marker records: the twin of [`side_effect_marker`].
pub(crate) fn side_effect_details(
    seq: u32,
    value: Payload,
) -> Result<MarkerDetails, converter::ConverterError> {
    let mut details = BTreeMap::new();
    details.insert("seq".to_string(), vec![converter::encode(&seq)?]);
    details.insert("data".to_string(), vec![value]);
    Ok(details)
}

/// Reads a patch marker: its id and whether `deprecate_patch` recorded it.
pub(crate) fn patch_marker(event: &Event) -> Option<(String, bool)> {
    let (details, _) = marker(event, PATCH_MARKER)?;
    let patch_id: String = converter::decode_single(details.get("patch_id")?).ok()?;
    let deprecated = details
        .get("deprecated")
        .and_then(|p| converter::decode_single::<bool>(p).ok())
        .unwrap_or(false);
    Some((patch_id, deprecated))
}

/// The details a patch marker records: the twin of [`patch_marker`].
pub(crate) fn patch_details(
    patch_id: &str,
    deprecated: bool,
) -> Result<MarkerDetails, converter::ConverterError> {
    let mut details = BTreeMap::new();
    details.insert("patch_id".to_string(), vec![converter::encode(patch_id)?]);
    details.insert(
        "deprecated".to_string(),
        vec![converter::encode(&deprecated)?],
    );
    Ok(details)
}

/// The marker event a marker command becomes (`None` for other commands).
pub(crate) fn marker_event(
    command: &Command,
    workflow_task_completed_event_id: i64,
) -> Option<Result<EventAttributes, converter::ConverterError>> {
    let (marker_name, parts) = match command {
        Command::RecordLocalActivityMarker {
            seq,
            activity_type,
            attempt,
            result,
        } => (
            LOCAL_ACTIVITY_MARKER,
            local_marker_details(*seq, activity_type, *attempt, result.clone()),
        ),
        Command::RecordSideEffect { seq, value } => (
            SIDE_EFFECT_MARKER,
            side_effect_details(*seq, value.clone()).map(|d| (d, None)),
        ),
        Command::SetPatchMarker {
            patch_id,
            deprecated,
        } => (
            PATCH_MARKER,
            patch_details(patch_id, *deprecated).map(|d| (d, None)),
        ),
        _ => return None,
    };
    Some(
        parts.map(|(details, failure)| EventAttributes::MarkerRecorded {
            marker_name: marker_name.to_string(),
            details,
            failure,
            workflow_task_completed_event_id,
        }),
    )
}

/// A marker's details: named payload lists.
pub(crate) type MarkerDetails = BTreeMap<String, Vec<Payload>>;

/// The details a local activity marker records: the twin of [`local_marker`].
pub(crate) fn local_marker_details(
    seq: u32,
    activity_type: &str,
    attempt: u32,
    result: Resolution,
) -> Result<(MarkerDetails, Option<Failure>), converter::ConverterError> {
    let mut details = BTreeMap::new();
    details.insert("seq".to_string(), vec![converter::encode(&seq)?]);
    details.insert(
        "activity_type".to_string(),
        vec![converter::encode(activity_type)?],
    );
    details.insert("attempt".to_string(), vec![converter::encode(&attempt)?]);
    let failure = match result {
        Resolution::Completed(p) => {
            details.insert("result".to_string(), vec![p]);
            None
        }
        Resolution::Failed(f) => Some(f.truncated()),
    };
    Ok((details, failure))
}

fn describe_event(event: &Event) -> String {
    match &event.attributes {
        EventAttributes::ActivityTaskScheduled {
            activity_type,
            activity_id,
            ..
        } => format!("ActivityTaskScheduled(type {activity_type}, id {activity_id})"),
        EventAttributes::TimerStarted { timer_id, .. } => format!("TimerStarted(id {timer_id})"),
        EventAttributes::TimerCanceled { timer_id, .. } => format!("TimerCanceled(id {timer_id})"),
        EventAttributes::ActivityTaskCancelRequested {
            scheduled_event_id, ..
        } => format!("ActivityTaskCancelRequested(scheduled event {scheduled_event_id})"),
        EventAttributes::WorkflowExecutionUpdateAccepted { update_id, .. } => {
            format!("WorkflowExecutionUpdateAccepted(id {update_id:?})")
        }
        EventAttributes::WorkflowExecutionUpdateCompleted { update_id, .. } => {
            format!("WorkflowExecutionUpdateCompleted(id {update_id:?})")
        }
        EventAttributes::MarkerRecorded { marker_name, .. } => {
            if let Some((seq, _)) = local_marker(event) {
                format!("MarkerRecorded(local activity {seq})")
            } else if let Some((seq, _)) = side_effect_marker(event) {
                match seq {
                    Some(seq) => format!("MarkerRecorded(side effect {seq})"),
                    None => "MarkerRecorded(side effect, unreadable seq)".to_string(),
                }
            } else if let Some((id, deprecated)) = patch_marker(event) {
                let kind = if deprecated {
                    "deprecated patch"
                } else {
                    "patch"
                };
                format!("MarkerRecorded({kind} {id:?})")
            } else {
                format!("MarkerRecorded({marker_name})")
            }
        }
        other => other.name().to_string(),
    }
}

fn describe_command(command: &Command) -> String {
    match command {
        Command::ScheduleActivity(sa) => format!(
            "ScheduleActivity(type {}, id {})",
            sa.activity_type, sa.activity_id
        ),
        Command::ScheduleLocalActivity(sa) => {
            format!(
                "ScheduleLocalActivity(type {}, seq {})",
                sa.activity_type, sa.seq
            )
        }
        Command::RecordLocalActivityMarker { seq, .. } => {
            format!("RecordMarker(local activity {seq})")
        }
        Command::RecordSideEffect { seq, .. } => format!("RecordMarker(side effect {seq})"),
        Command::SetPatchMarker {
            patch_id,
            deprecated,
        } => {
            let kind = if *deprecated {
                "deprecated patch"
            } else {
                "patch"
            };
            format!("RecordMarker({kind} {patch_id:?})")
        }
        Command::StartTimer { seq, .. } => format!("StartTimer(id {seq})"),
        Command::CancelTimer { seq } => format!("CancelTimer(id {seq})"),
        Command::RequestCancelActivity { seq } => format!("RequestCancelActivity(seq {seq})"),
        Command::CancelWorkflow { .. } => "CancelWorkflow".to_string(),
        Command::UpdateResponse { id, response } => match response {
            UpdateResponse::Accepted => format!("UpdateAccepted(id {id:?})"),
            UpdateResponse::Rejected(_) => format!("UpdateRejected(id {id:?})"),
            UpdateResponse::Completed(_) => format!("UpdateCompleted(id {id:?})"),
        },
        Command::CompleteWorkflow { .. } => "CompleteWorkflow".to_string(),
        Command::FailWorkflow { .. } => "FailWorkflow".to_string(),
        Command::ContinueAsNew { .. } => "ContinueAsNew".to_string(),
    }
}

/// The events the engine writes for a completed workflow task with these
/// commands, numbered after `last_event_id`: what strict replay checks a
/// fresh replay against. Only the fields replay compares need to be exact.
pub(crate) fn task_events(
    commands: &[Command],
    context: &CommandContext,
    last_event_id: i64,
    started_time: SystemTime,
    hint: TaskHint,
) -> Result<Vec<Event>, TaskError> {
    if commands.iter().all(is_rejection) && !commands.is_empty() {
        // The engine may write nothing for such a task (speculative); a
        // replay then sees no trace of it, which is what it must match.
        return Ok(Vec::new());
    }
    let mut events = Vec::new();
    let mut push = |attributes: EventAttributes| {
        let event_id = last_event_id + events.len() as i64 + 1;
        events.push(Event {
            event_id,
            event_time: started_time,
            attributes,
        });
        event_id
    };
    let scheduled = push(EventAttributes::WorkflowTaskScheduled {
        task_queue: String::new(),
        start_to_close_timeout: std::time::Duration::ZERO,
        attempt: 1,
    });
    let started = push(EventAttributes::WorkflowTaskStarted {
        scheduled_event_id: scheduled,
        identity: String::new(),
        suggest_continue_as_new: hint.suggest_continue_as_new,
        history_size_bytes: hint.history_size_bytes,
    });
    let completed = push(EventAttributes::WorkflowTaskCompleted {
        scheduled_event_id: scheduled,
        started_event_id: started,
        identity: String::new(),
        sdk_flags: Vec::new(),
    });
    // Activities and timers this task starts, beside those of earlier tasks.
    let mut activities = context.activities.clone();
    let mut timers = context.timers.clone();
    for command in commands {
        let attributes = match command {
            Command::ScheduleActivity(sa) => EventAttributes::ActivityTaskScheduled {
                activity_id: sa.activity_id.clone(),
                activity_type: sa.activity_type.clone(),
                task_queue: sa.task_queue.clone(),
                input: sa.input.clone(),
                schedule_to_close_timeout: sa.options.schedule_to_close_timeout,
                schedule_to_start_timeout: sa.options.schedule_to_start_timeout,
                start_to_close_timeout: sa.options.start_to_close_timeout,
                heartbeat_timeout: sa.options.heartbeat_timeout,
                retry_policy: sa.options.retry_policy.clone().unwrap_or_default(),
                workflow_task_completed_event_id: completed,
            },
            Command::StartTimer { seq, duration } => EventAttributes::TimerStarted {
                timer_id: seq.to_string(),
                start_to_fire_timeout: *duration,
                workflow_task_completed_event_id: completed,
            },
            Command::CancelTimer { seq } => EventAttributes::TimerCanceled {
                timer_id: seq.to_string(),
                started_event_id: timers.get(seq).copied().unwrap_or(0),
                workflow_task_completed_event_id: completed,
            },
            Command::RequestCancelActivity { seq } => {
                EventAttributes::ActivityTaskCancelRequested {
                    scheduled_event_id: activities.get(seq).copied().unwrap_or(0),
                    workflow_task_completed_event_id: completed,
                }
            }
            Command::CancelWorkflow { details } => EventAttributes::WorkflowExecutionCanceled {
                details: details.clone(),
                workflow_task_completed_event_id: completed,
            },
            Command::CompleteWorkflow { result } => EventAttributes::WorkflowExecutionCompleted {
                result: result.clone(),
                workflow_task_completed_event_id: completed,
            },
            Command::FailWorkflow { failure } => EventAttributes::WorkflowExecutionFailed {
                failure: failure.clone(),
                retry_state: crate::failure::RetryState::RetryPolicyNotSet,
                workflow_task_completed_event_id: completed,
            },
            Command::ContinueAsNew { input } => EventAttributes::WorkflowExecutionContinuedAsNew {
                new_execution_run_id: String::new(),
                workflow_type: String::new(),
                task_queue: String::new(),
                input: input.clone(),
                workflow_task_completed_event_id: completed,
            },
            Command::ScheduleLocalActivity(_) => continue,
            Command::UpdateResponse { id, response } => match response {
                UpdateResponse::Rejected(_) => continue,
                UpdateResponse::Accepted => {
                    let delivery = context.updates.get(id);
                    EventAttributes::WorkflowExecutionUpdateAccepted {
                        update_id: id.clone(),
                        name: delivery.map(|d| d.name.clone()).unwrap_or_default(),
                        input: delivery.map(|d| d.input.clone()).unwrap_or_default(),
                        workflow_task_completed_event_id: completed,
                        accepted_request_sequencing_event_id: delivery
                            .map_or(crate::history::UNSEQUENCED, |d| d.sequencing_event_id),
                    }
                }
                UpdateResponse::Completed(outcome) => {
                    EventAttributes::WorkflowExecutionUpdateCompleted {
                        update_id: id.clone(),
                        outcome: outcome.clone(),
                        workflow_task_completed_event_id: completed,
                    }
                }
            },
            marker => match marker_event(marker, completed) {
                Some(Ok(attributes)) => attributes,
                Some(Err(e)) => return Err(TaskError::new(format!("marker details: {e}"))),
                None => continue,
            },
        };
        let event_id = push(attributes);
        match command {
            Command::ScheduleActivity(sa) => {
                activities.insert(sa.seq, event_id);
            }
            Command::StartTimer { seq, .. } => {
                timers.insert(*seq, event_id);
            }
            _ => {}
        }
    }
    Ok(events)
}
