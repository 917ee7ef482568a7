//! The workflow thread: owns every workflow run of a worker, its cache and
//! its drivers. No tokio runtime is entered here, so a tokio timer, spawn or
//! I/O that slipped into workflow code fails the task instead of working by
//! accident.

use std::collections::HashMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::mpsc;

use tokio::sync::oneshot;

use crate::backend::WorkflowTask;
use crate::failure::{ApplicationError, Failure};
use crate::history::Event;
use crate::protocol::{Command, Resolution, ScheduleActivity};
use crate::translate::{LiveStep, RunDriver};
use crate::workflow::executor::{Factory, TaskError};

/// A step of a workflow task, as the thread reports it.
pub(crate) enum TaskStep {
    /// The run is not cached: send the task again with the full history.
    NeedHistory,
    /// Local activities to run before the task can complete.
    RunLocal(Vec<ScheduleActivity>),
    /// Complete the task with these commands.
    Complete(Vec<Command>),
    /// Fail the task.
    Fail(TaskError),
}

pub(crate) enum Request {
    Task {
        task: Box<WorkflowTask>,
        history: Option<Vec<Event>>,
        reply: oneshot::Sender<TaskStep>,
    },
    ResolveLocal {
        run_id: String,
        seq: u32,
        activity_type: String,
        attempt: u32,
        result: Resolution,
        reply: oneshot::Sender<TaskStep>,
    },
    /// The engine accepted (or refused) the completion of a run's task.
    Ack { run_id: String, accepted: bool },
}

struct Cached {
    driver: RunDriver,
    last_used: u64,
}

struct State {
    namespace: String,
    factories: HashMap<String, Factory>,
    capacity: usize,
    cache: HashMap<String, Cached>,
    /// Runs with a task in progress; they enter the cache only when the
    /// engine accepts the completion.
    in_flight: HashMap<String, RunDriver>,
    clock: u64,
}

/// Spawns the workflow thread.
pub(crate) fn spawn(
    namespace: String,
    factories: HashMap<String, Factory>,
    capacity: usize,
) -> std::io::Result<mpsc::Sender<Request>> {
    let (tx, rx) = mpsc::channel();
    std::thread::Builder::new()
        .name("weft-workflows".into())
        .spawn(move || {
            let mut state = State {
                namespace,
                factories,
                capacity,
                cache: HashMap::new(),
                in_flight: HashMap::new(),
                clock: 0,
            };
            while let Ok(request) = rx.recv() {
                state.handle(request);
            }
        })?;
    Ok(tx)
}

impl State {
    fn handle(&mut self, request: Request) {
        match request {
            Request::Task {
                task,
                history,
                reply,
            } => {
                let step = self.task(&task, history);
                let _ = reply.send(step);
            }
            Request::ResolveLocal {
                run_id,
                seq,
                activity_type,
                attempt,
                result,
                reply,
            } => {
                let step = match self.in_flight.get_mut(&run_id) {
                    Some(driver) => {
                        guarded(|| driver.resolve_local(seq, activity_type, attempt, result))
                    }
                    None => Err(TaskError::new(
                        "local activity result for a run with no task",
                    )),
                };
                let _ = reply.send(self.finish_step(&run_id, step));
            }
            Request::Ack { run_id, accepted } => {
                if let Some(driver) = self.in_flight.remove(&run_id)
                    && accepted
                {
                    self.insert(run_id, driver);
                }
            }
        }
    }

    fn task(&mut self, task: &WorkflowTask, history: Option<Vec<Event>>) -> TaskStep {
        let run_id = task.token.run_id.clone();
        self.in_flight.remove(&run_id);
        let cached = self.cache.remove(&run_id).map(|c| c.driver);
        let (mut driver, events) = match (cached, history) {
            (_, Some(full)) => match self.fresh(task) {
                Ok(d) => (d, full),
                Err(step) => return step,
            },
            (Some(d), None) if d.last_event_id() + 1 >= task.first_event_id => {
                (d, task.events.clone())
            }
            (_, None) if task.first_event_id == 1 => match self.fresh(task) {
                Ok(d) => (d, task.events.clone()),
                Err(step) => return step,
            },
            _ => return TaskStep::NeedHistory,
        };
        let step = guarded(|| {
            driver.apply_events(&events)?;
            driver.start_live(task.started_time, task.history_length)
        });
        self.in_flight.insert(run_id.clone(), driver);
        self.finish_step(&run_id, step)
    }

    fn fresh(&self, task: &WorkflowTask) -> Result<RunDriver, TaskStep> {
        match self.factories.get(&task.workflow_type) {
            Some(factory) => Ok(RunDriver::new(
                factory(),
                &self.namespace,
                &task.workflow_id,
                &task.token.run_id,
            )),
            None => {
                let mut known: Vec<_> = self.factories.keys().cloned().collect();
                known.sort();
                Err(TaskStep::Fail(TaskError::new(format!(
                    "workflow type {:?} is not registered on this worker (registered: {})",
                    task.workflow_type,
                    known.join(", ")
                ))))
            }
        }
    }

    fn finish_step(&mut self, run_id: &str, step: Result<LiveStep, TaskError>) -> TaskStep {
        match step {
            Ok(step) if step.done => TaskStep::Complete(step.commands),
            Ok(step) => TaskStep::RunLocal(step.local_activities),
            Err(e) => {
                // The run's state is unknown after a failure: rebuild it by
                // replay next time.
                self.in_flight.remove(run_id);
                TaskStep::Fail(e)
            }
        }
    }

    fn insert(&mut self, run_id: String, driver: RunDriver) {
        if self.capacity == 0 {
            return;
        }
        self.clock += 1;
        if self.cache.len() >= self.capacity
            && let Some(oldest) = self
                .cache
                .iter()
                .min_by_key(|(_, c)| c.last_used)
                .map(|(k, _)| k.clone())
        {
            self.cache.remove(&oldest);
        }
        self.cache.insert(
            run_id,
            Cached {
                driver,
                last_used: self.clock,
            },
        );
    }
}

/// Runs workflow code, turning a panic into a task failure.
fn guarded<T>(f: impl FnOnce() -> Result<T, TaskError>) -> Result<T, TaskError> {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(result) => result,
        Err(panic) => Err(TaskError::new(format!(
            "workflow code panicked: {}",
            crate::panic_message(panic.as_ref())
        ))),
    }
}

/// The failure recorded for a failed workflow task.
pub(crate) fn task_failure(error: &TaskError) -> Failure {
    let type_name = if error.nondeterminism {
        "NondeterminismError"
    } else {
        "WorkflowTaskError"
    };
    ApplicationError::new(error.message.clone())
        .with_type(type_name)
        .into()
}
