//! The run driver: a run's executor plus what is needed to map its history
//! onto it.
//!
//! A [`RunDriver`] turns history into activations (one per completed
//! workflow task on replay, then one live activation), and checks on replay
//! that the commands the code produces are the events history holds (with
//! `history::commands`, the mapping the engine writes them with). Command
//! events of a workflow task follow its `WorkflowTaskCompleted`
//! contiguously and carry its id; incoming events (activity results,
//! timers, signals) between two tasks become the jobs of the later one, in
//! the order `order` gives them, live and on replay alike.
//!
//! Cancellation: `WorkflowExecutionCancelRequested` becomes a
//! [`Job::CancelWorkflow`] (in arrival order with signals), and
//! `ActivityTaskCanceled` resolves its activity with an `ActivityError`
//! caused by a `CanceledError` (retry state `CancelRequested`); the engine
//! writes an activity cancelled at once right after its
//! `ActivityTaskCancelRequested`, among the task's command events, and it
//! is read as an incoming event after them. A cancel command with no event
//! is accepted only when the events after its task show the timer fired or
//! the activity ended while the task ran (the engine then had nothing to
//! cancel). `WorkflowExecutionTerminated` ends the history.

mod incoming;
mod order;
mod replay;
mod view;

use std::collections::HashMap;
use std::time::SystemTime;

use crate::backend::UpdateDelivery;
use crate::converter::Payload;
use crate::failure::Failure;
use crate::history::commands::{InitiatedChild, ScheduledActivity, TaskHint};
use crate::history::{Event, EventAttributes};
use crate::protocol::{Activation, Command, Job, Resolution, ScheduleActivity};
use crate::workflow::error::TaskError;
use crate::workflow::executor::Instance;

pub(crate) use view::Known;

use order::{Jobs, Place};

/// A run's executor plus what is needed to map history onto it.
pub(crate) struct RunDriver {
    instance: Box<dyn Instance>,
    namespace: String,
    run_id: String,
    workflow_id: String,
    /// The activities the code scheduled, by `ActivityTaskScheduled` event.
    activities: HashMap<i64, ScheduledActivity>,
    /// The attempt each activity's last `ActivityTaskStarted` names.
    attempts: HashMap<i64, u32>,
    /// The timers the code started: seq by timer id.
    timers: HashMap<String, u32>,
    /// The children the code started, by initiated event.
    children: HashMap<i64, InitiatedChild>,
    /// The signals and cancel requests the code sent other workflows, by
    /// initiated event.
    external: HashMap<i64, ExternalRequest>,
    /// What the events of the code's commands refer to.
    known: Known,
    jobs: Jobs,
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

struct LiveTask {
    timestamp: SystemTime,
    history_length: u64,
    hint: TaskHint,
    commands: Vec<Command>,
    /// The local activities running, with their input (their markers
    /// record it).
    pending_local: HashMap<u32, Vec<Payload>>,
}

/// A signal or cancel request the code sent another workflow: its seq and
/// kind, which the job resolving it names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ExternalRequest {
    Signal(u32),
    Cancel { seq: u32, child: bool },
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
            children: HashMap::new(),
            external: HashMap::new(),
            known: Known::default(),
            jobs: Jobs::default(),
            awaiting: None,
            last_event_id: 0,
            started_time: None,
            hint: TaskHint::default(),
            closed: false,
            live: None,
        }
    }

    /// Adds the updates a live task delivers to its activation's jobs,
    /// each right after the event it arrived after.
    pub fn deliver_updates(&mut self, updates: &[UpdateDelivery]) {
        for u in updates {
            self.known.updates.insert(u.update_id.clone(), u.clone());
            self.jobs.push(
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

    /// What the events of this run's commands refer to: its activities,
    /// timers and the updates delivered live.
    pub fn known(&self) -> &Known {
        &self.known
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
    pub fn query(&self, name: &str, input: &[Payload]) -> Result<Payload, Failure> {
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
            if let EventAttributes::WorkflowTaskCompleted { .. } = &event.attributes {
                i = self.apply_task(events, i, event)?;
            } else {
                self.apply_incoming(event)?;
            }
        }
        Ok(())
    }

    /// Applies a completed workflow task (at `events[start - 1]`): matches
    /// the live commands awaiting it, or replays it; returns the index
    /// after its command events.
    fn apply_task(
        &mut self,
        events: &[Event],
        start: usize,
        completed: &Event,
    ) -> Result<usize, TaskError> {
        let (command_events, at_once, end) = replay::task_command_events(events, start, completed);
        if let Some(last) = events[..end].last() {
            self.last_event_id = self.last_event_id.max(last.event_id);
        }
        // What arrived while the task ran: the events up to the next
        // workflow task (all the live path ever sees).
        let rest = &events[end..];
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
        // Activities the task's requests cancelled at once: their outcome
        // is for the next activation.
        for e in at_once {
            self.apply_incoming(e)?;
        }
        Ok(end)
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
            pending_local: HashMap::new(),
        });
        let jobs = self.jobs.take();
        let commands =
            self.instance
                .activate(activation(timestamp, false, history_length, hint, jobs))?;
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
        let Some(input) = live.pending_local.remove(&seq) else {
            return Err(TaskError::new(format!(
                "local activity {seq} is not pending"
            )));
        };
        live.commands.push(Command::RecordLocalActivityMarker {
            seq,
            activity_type,
            input,
            attempt,
            result: result.clone(),
        });
        let activation = activation(
            live.timestamp,
            false,
            live.history_length,
            live.hint,
            vec![Job::ResolveLocalActivity { seq, result }],
        );
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
                    live.pending_local.insert(la.seq, la.input.clone());
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

/// An activation of these jobs at a task's time, with what the task told
/// the workflow about its history.
fn activation(
    timestamp: SystemTime,
    replaying: bool,
    history_length: u64,
    hint: TaskHint,
    jobs: Vec<Job>,
) -> Activation {
    Activation {
        timestamp,
        is_replaying: replaying,
        history_length,
        history_size_bytes: hint.history_size_bytes,
        continue_as_new_suggested: hint.suggest_continue_as_new,
        jobs,
    }
}
