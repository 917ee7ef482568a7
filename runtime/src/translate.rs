//! Translation between history and the executor's protocol.
//!
//! A [`RunDriver`] turns history into activations (one per completed workflow
//! task on replay, then one live activation), and checks on replay that the
//! commands the code produces match the events history holds. Command events
//! of a workflow task follow its `WorkflowTaskCompleted` contiguously and carry
//! its id; incoming events (activity results, timers) between two tasks become
//! the jobs of the later one. The engine uses [`command_matches`]' twin rules
//! when it turns commands into events.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::SystemTime;

use crate::converter::{self, Payload};
use crate::failure::{ActivityError, Failure};
use crate::history::{Event, EventAttributes, LOCAL_ACTIVITY_MARKER};
use crate::protocol::{Activation, Command, Job, Resolution, ScheduleActivity, WorkflowInfo};
use crate::workflow::executor::{Instance, TaskError};

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
    jobs: Vec<Job>,
    /// Commands of the last live task, waiting to meet their events.
    awaiting: Option<Vec<Command>>,
    last_event_id: i64,
    started_time: Option<SystemTime>,
    closed: bool,
    /// The live task being run, when local activities are pending.
    live: Option<LiveTask>,
}

struct LiveTask {
    timestamp: SystemTime,
    history_length: u64,
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
            awaiting: None,
            last_event_id: 0,
            started_time: None,
            closed: false,
            live: None,
        }
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
                    let start = i;
                    while i < events.len()
                        && events[i].attributes.command_of() == Some(event.event_id)
                    {
                        i += 1;
                    }
                    let command_events = &events[start..i];
                    if let Some(last) = command_events.last() {
                        self.last_event_id = last.event_id;
                    }
                    match self.awaiting.take() {
                        Some(commands) => self.match_all(commands, command_events)?,
                        None => self.replay_task(command_events)?,
                    }
                }
                other => self.apply_incoming(event, other)?,
            }
        }
        Ok(())
    }

    fn apply_incoming(&mut self, event: &Event, attrs: &EventAttributes) -> Result<(), TaskError> {
        match attrs {
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
            EventAttributes::WorkflowTaskStarted { .. } => {
                self.started_time = Some(event.event_time)
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
    ) -> Activation {
        Activation {
            timestamp,
            is_replaying: replaying,
            history_length,
            jobs: std::mem::take(&mut self.jobs),
        }
    }

    /// Replays one completed workflow task against its command events.
    fn replay_task(&mut self, command_events: &[Event]) -> Result<(), TaskError> {
        let timestamp = self.started_time.unwrap_or(SystemTime::UNIX_EPOCH);
        let length = command_events
            .first()
            .map_or(self.last_event_id, |e| e.event_id - 1);
        let activation = self.activation(timestamp, true, length as u64);
        let mut commands = self.instance.activate(activation)?;
        let mut expected = command_events.iter();
        let mut pending_local = HashSet::new();
        loop {
            for command in commands {
                if let Command::ScheduleLocalActivity(la) = &command {
                    pending_local.insert(la.seq);
                    continue;
                }
                match expected.next() {
                    Some(event) => self.check(&command, event)?,
                    None => return Err(missing_event(&command, self.last_event_id)),
                }
            }
            if pending_local.is_empty() || self.closed {
                break;
            }
            let Some(event) = expected.next() else {
                return Err(TaskError::nondeterminism(format!(
                    "the code scheduled local activities {pending_local:?} whose results history does not hold"
                )));
            };
            let (seq, result) = local_marker(event).ok_or_else(|| {
                TaskError::nondeterminism(format!(
                    "event {}: history has {}, the code waits for a local activity result",
                    event.event_id,
                    event.attributes.name()
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
                jobs: vec![job],
            })?;
        }
        if let Some(extra) = expected.next() {
            return Err(TaskError::nondeterminism(format!(
                "event {}: history has {}, which the code did not produce",
                extra.event_id,
                extra.attributes.name()
            )));
        }
        Ok(())
    }

    fn match_all(&mut self, commands: Vec<Command>, events: &[Event]) -> Result<(), TaskError> {
        if commands.len() != events.len() {
            return Err(TaskError::new(format!(
                "the engine recorded {} events for {} commands",
                events.len(),
                commands.len()
            )));
        }
        for (command, event) in commands.iter().zip(events) {
            self.check(command, event)?;
        }
        Ok(())
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
                true
            }
            (Command::RecordLocalActivityMarker { seq, .. }, _) => {
                local_marker(event).is_some_and(|(s, _)| s == *seq)
            }
            (
                Command::CompleteWorkflow { .. },
                EventAttributes::WorkflowExecutionCompleted { .. },
            )
            | (Command::FailWorkflow { .. }, EventAttributes::WorkflowExecutionFailed { .. }) => {
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
                describe_event(event),
                describe_command(command)
            )))
        }
    }

    /// Runs the live activation of a task with the jobs gathered so far.
    pub fn start_live(
        &mut self,
        timestamp: SystemTime,
        history_length: u64,
    ) -> Result<LiveStep, TaskError> {
        self.live = Some(LiveTask {
            timestamp,
            history_length,
            commands: Vec::new(),
            pending_local: HashSet::new(),
        });
        let activation = self.activation(timestamp, false, history_length);
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
        EventAttributes::MarkerRecorded { .. } => match local_marker(event) {
            Some((seq, _)) => format!("MarkerRecorded(local activity {seq})"),
            None => "MarkerRecorded".to_string(),
        },
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
        Command::StartTimer { seq, .. } => format!("StartTimer(id {seq})"),
        Command::CompleteWorkflow { .. } => "CompleteWorkflow".to_string(),
        Command::FailWorkflow { .. } => "FailWorkflow".to_string(),
    }
}
