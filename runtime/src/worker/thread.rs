//! The workflow thread: owns every workflow run of a worker, its cache and
//! its drivers. No tokio runtime is entered here, so a tokio timer, spawn or
//! I/O that slipped into workflow code fails the task instead of working by
//! accident.

use std::collections::{BTreeMap, HashMap};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, mpsc};
use std::time::SystemTime;

use tokio::sync::oneshot;

use super::clock_shift;
use super::driver::{LiveStep, RunDriver};
use crate::backend::WorkflowTask;
use crate::converter::Payload;
use crate::failure::{ApplicationError, Failure};
use crate::history::Event;
use crate::history::commands::{TaskHint, task_events};
use crate::protocol::{Command, Resolution, ScheduleActivity};
use crate::workflow::error::TaskError;
use crate::workflow::executor::Factory;

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

/// What the thread says about a query task.
pub(crate) enum QueryStep {
    /// No current cached run: send the query again with the full history.
    NeedHistory,
    /// The answer.
    Answer(Result<Payload, Failure>),
}

pub(crate) enum Request {
    /// A query task: answered from the cached run when it is current,
    /// else from a fresh replay of `history`; nothing is cached or changed.
    Query {
        task: Arc<WorkflowTask>,
        history: Option<Vec<Event>>,
        reply: oneshot::Sender<QueryStep>,
    },
    Task {
        task: Arc<WorkflowTask>,
        history: Option<Vec<Event>>,
        /// Strict mode: the run's full history when the task started, to
        /// replay from scratch once the live task is done.
        strict_history: Option<Vec<Event>>,
        reply: oneshot::Sender<TaskStep>,
    },
    ResolveLocal {
        run_id: String,
        task_id: i64,
        seq: u32,
        activity_type: String,
        attempt: u32,
        result: Resolution,
        reply: oneshot::Sender<TaskStep>,
    },
    /// The engine accepted (or refused) the completion of a run's task.
    Ack {
        run_id: String,
        task_id: i64,
        accepted: bool,
    },
}

struct Cached {
    driver: RunDriver,
    last_used: u64,
}

/// What the workflow thread measures and intercepts.
pub(crate) struct Telemetry {
    /// The meter workflow code records into (`ctx.metric_meter()`).
    pub meter: crate::telemetry::MetricMeter,
    /// The worker's workflow interceptors.
    pub interceptors: super::intercept::Chain,
    /// Where to report the cache's size, with metrics.
    pub cache_size: Option<(
        crate::telemetry::Metrics,
        crate::telemetry::sdk::QueueLabels,
    )>,
}

struct State {
    telemetry: Telemetry,
    namespace: String,
    factories: HashMap<String, Factory>,
    capacity: usize,
    cache: HashMap<String, Cached>,
    /// The cached runs by last use, oldest first (eviction order).
    lru: BTreeMap<u64, String>,
    /// Runs with a task in progress; they enter the cache only when the
    /// engine accepts the completion.
    in_flight: HashMap<String, (i64, RunDriver)>,
    /// Strict mode: what the check of each in-flight task needs.
    strict: HashMap<String, StrictCheck>,
    clock: u64,
}

/// What strict mode needs to replay a run from scratch after its task.
struct StrictCheck {
    workflow_type: String,
    workflow_id: String,
    history: Vec<Event>,
    started_time: SystemTime,
    hint: TaskHint,
}

/// What the task tells the workflow about its history's size.
fn hint_of(task: &WorkflowTask) -> TaskHint {
    TaskHint {
        suggest_continue_as_new: task.suggest_continue_as_new,
        history_size_bytes: task.history_size_bytes,
    }
}

/// Spawns the workflow thread.
///
/// Workflow code logs (`tracing`) to the subscriber in effect where the
/// worker was started, a scoped one (`tracing::subscriber::set_default`)
/// included, as code on the starting thread would; with none, to the
/// global default of the moment it logs.
pub(crate) fn spawn(
    namespace: String,
    factories: HashMap<String, Factory>,
    capacity: usize,
    telemetry: Telemetry,
) -> std::io::Result<mpsc::Sender<Request>> {
    let (tx, rx) = mpsc::channel();
    let dispatch = tracing::dispatcher::get_default(|d| d.clone());
    let inherit = !dispatch.is::<tracing::subscriber::NoSubscriber>();
    std::thread::Builder::new()
        .name("weft-workflows".into())
        .spawn(move || {
            let _scope = inherit.then(|| tracing::dispatcher::set_default(&dispatch));
            crate::telemetry::set_thread_meter(telemetry.meter.clone());
            let mut state = State {
                telemetry,
                namespace,
                factories,
                capacity,
                cache: HashMap::new(),
                lru: BTreeMap::new(),
                in_flight: HashMap::new(),
                strict: HashMap::new(),
                clock: 0,
            };
            while let Ok(request) = rx.recv() {
                state.handle(request);
                if let Some((metrics, queue)) = &state.telemetry.cache_size {
                    metrics.sdk().cache_size(queue, state.cache.len());
                }
            }
        })?;
    Ok(tx)
}

impl State {
    fn handle(&mut self, request: Request) {
        match request {
            Request::Query {
                task,
                history,
                reply,
            } => {
                let step = self.query(&task, history);
                let _ = reply.send(step);
            }
            Request::Task {
                task,
                history,
                strict_history,
                reply,
            } => {
                match strict_history {
                    Some(history) => {
                        let check = StrictCheck {
                            workflow_type: task.workflow_type.clone(),
                            workflow_id: task.workflow_id.clone(),
                            history,
                            started_time: task.started_time,
                            hint: hint_of(&task),
                        };
                        self.strict.insert(task.token.run_id.clone(), check);
                    }
                    None => {
                        self.strict.remove(&task.token.run_id);
                    }
                }
                let step = self.task(&task, history);
                let _ = reply.send(step);
            }
            Request::ResolveLocal {
                run_id,
                task_id,
                seq,
                activity_type,
                attempt,
                result,
                reply,
            } => {
                let step =
                    self.resolve_local(&run_id, task_id, seq, activity_type, attempt, result);
                let _ = reply.send(step);
            }
            Request::Ack {
                run_id,
                task_id,
                accepted,
            } => {
                // A later task of the run may have taken the driver already.
                if self
                    .in_flight
                    .get(&run_id)
                    .is_some_and(|(id, _)| *id == task_id)
                    && let Some((_, driver)) = self.in_flight.remove(&run_id)
                    && accepted
                {
                    self.insert(run_id, driver);
                }
            }
        }
    }

    /// Feeds a local activity's result into the run's live task.
    fn resolve_local(
        &mut self,
        run_id: &str,
        task_id: i64,
        seq: u32,
        activity_type: String,
        attempt: u32,
        result: Resolution,
    ) -> TaskStep {
        let current = self.in_flight.get(run_id).map(|(id, _)| *id);
        if current.is_some_and(|id| id != task_id) {
            // A later task of the run owns the driver now; this result
            // belongs to a task the engine handed out again.
            return TaskStep::Fail(TaskError::new(
                "local activity result for a task that is no longer current",
            ));
        }
        let step = match self.in_flight.get_mut(run_id) {
            Some((_, driver)) => {
                guarded(|| driver.resolve_local(seq, activity_type, attempt, result))
            }
            None => Err(TaskError::new(
                "local activity result for a run with no task",
            )),
        };
        self.finish_step(run_id, step)
    }

    fn task(&mut self, task: &WorkflowTask, history: Option<Vec<Event>>) -> TaskStep {
        let run_id = task.token.run_id.clone();
        // A driver whose completion is not acknowledged yet is still usable:
        // the engine hands out the run's next task only after deciding on
        // that completion, and the task's first event tells which way it
        // went (accepted: the completion's own events come next; refused:
        // the task starts earlier, and the run is rebuilt from history).
        // A cache of 0 promises a replay for every task, so it never
        // reuses a driver, not even one whose completion is unacknowledged.
        let in_flight = self.in_flight.remove(&run_id).map(|(_, d)| d);
        let cached = self
            .take_cached(&run_id)
            .or(in_flight.filter(|_| self.capacity > 0));
        let (mut driver, events) = match (cached, &history) {
            (_, Some(full)) => match self.fresh(task) {
                Ok(d) => (d, full.as_slice()),
                Err(step) => return step,
            },
            (Some(d), None) if d.last_event_id() + 1 == task.first_event_id => {
                (d, task.events.as_slice())
            }
            (_, None) if task.first_event_id == 1 => match self.fresh(task) {
                Ok(d) => (d, task.events.as_slice()),
                Err(step) => return step,
            },
            _ => return TaskStep::NeedHistory,
        };
        let step = guarded(|| {
            driver.apply_events(events)?;
            driver.deliver_updates(&task.updates);
            driver.start_live(task.started_time, task.history_length, hint_of(task))
        });
        self.in_flight
            .insert(run_id.clone(), (task.token.task_id, driver));
        self.finish_step(&run_id, step)
    }

    /// Answers a query task from committed state: the cached (or just
    /// completed) run when the task says it is current, else a fresh
    /// replay of the full history (events applied, no live activation).
    fn query(&mut self, task: &WorkflowTask, history: Option<Vec<Event>>) -> QueryStep {
        let Some(request) = &task.query else {
            return QueryStep::Answer(Err(ApplicationError::new("not a query task").into()));
        };
        let ask = |driver: &RunDriver| {
            guarded(|| Ok(driver.query(&request.query_name, &request.input)))
                .unwrap_or_else(|e| Err(query_failure(&e.message)))
        };
        if let Some(history) = history {
            let mut driver = match self.fresh(task) {
                Ok(driver) => driver,
                Err(TaskStep::Fail(e)) => return QueryStep::Answer(Err(query_failure(&e.message))),
                Err(_) => return QueryStep::Answer(Err(query_failure("no workflow factory"))),
            };
            if let Err(e) = guarded(|| driver.apply_events(&history)) {
                return QueryStep::Answer(Err(query_failure(&format!(
                    "replaying the run to answer the query failed: {}",
                    e.message
                ))));
            }
            return QueryStep::Answer(ask(&driver));
        }
        let run_id = &task.token.run_id;
        let cached = self
            .cache
            .get(run_id)
            .map(|c| &c.driver)
            .or_else(|| self.in_flight.get(run_id).map(|(_, d)| d));
        match cached {
            Some(driver)
                if task.first_event_id > 0
                    && driver.is_settled()
                    && driver.last_event_id() + 1 == task.first_event_id =>
            {
                QueryStep::Answer(ask(driver))
            }
            _ => QueryStep::NeedHistory,
        }
    }

    fn fresh(&self, task: &WorkflowTask) -> Result<RunDriver, TaskStep> {
        match self.factories.get(&task.workflow_type) {
            Some(factory) => Ok(RunDriver::new(
                self.instance(
                    factory,
                    &task.workflow_type,
                    &task.workflow_id,
                    &task.token.run_id,
                ),
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

    /// A fresh instance of a run, seen through the worker's interceptors.
    fn instance(
        &self,
        factory: &Factory,
        workflow_type: &str,
        workflow_id: &str,
        run_id: &str,
    ) -> Box<dyn crate::workflow::executor::Instance> {
        let run = crate::telemetry::WorkflowRun {
            namespace: self.namespace.clone(),
            workflow_id: workflow_id.to_string(),
            run_id: run_id.to_string(),
            workflow_type: workflow_type.to_string(),
        };
        super::intercept::wrap(factory(), run, &self.telemetry.interceptors)
    }

    fn finish_step(&mut self, run_id: &str, step: Result<LiveStep, TaskError>) -> TaskStep {
        let step = match step {
            Ok(step) if step.done => match self.strict.remove(run_id) {
                Some(check) => self
                    .strict_check(run_id, check, &step.commands)
                    .map(|()| step),
                None => Ok(step),
            },
            other => other,
        };
        match step {
            Ok(step) if step.done => TaskStep::Complete(step.commands),
            Ok(step) => TaskStep::RunLocal(step.local_activities),
            Err(e) => {
                // The run's state is unknown after a failure: rebuild it by
                // replay next time.
                self.in_flight.remove(run_id);
                self.strict.remove(run_id);
                TaskStep::Fail(e)
            }
        }
    }

    /// Strict mode: replays the run from scratch in a fresh instance (its
    /// history, then this task as the engine would record it) and fails the
    /// task if the fresh replay does not produce the same commands. The
    /// replay runs in a later millisecond of the wall clock than the live
    /// code (see `clock_shift`).
    fn strict_check(
        &self,
        run_id: &str,
        check: StrictCheck,
        commands: &[Command],
    ) -> Result<(), TaskError> {
        let live = clock_shift::LiveMillisecond::now();
        let Some(factory) = self.factories.get(&check.workflow_type) else {
            return Err(TaskError::new(format!(
                "workflow type {:?} is not registered on this worker",
                check.workflow_type
            )));
        };
        let mut known = self
            .in_flight
            .get(run_id)
            .map(|(_, d)| d.known().clone())
            .unwrap_or_default();
        let instance = self.instance(factory, &check.workflow_type, &check.workflow_id, run_id);
        let mut driver = RunDriver::new(instance, &self.namespace, &check.workflow_id, run_id);
        let last = check.history.last().map_or(0, |e| e.event_id);
        let task = task_events(commands, &mut known, last, check.started_time, check.hint)
            .map_err(|e| TaskError::new(format!("strict replay: {e}")))?;
        let mut events = check.history;
        let earlier = events.len();
        events.extend(task);
        guarded(|| {
            driver.apply_events(&events[..earlier])?;
            // The task's own reads of the wall clock must differ from the
            // live code's; the earlier tasks' replay may have taken the
            // time already.
            live.wait_until_past();
            driver.apply_events(&events[earlier..])
        })
        .map_err(|e| {
            TaskError::nondeterminism(format!(
                "strict replay: a fresh replay of this run disagrees with the live code \
                 (history below is what the live code produced in this task): {}",
                e.message
            ))
        })
    }

    /// Caches a run whose completion the engine accepted, evicting the
    /// least recently used past capacity. A closed run is not cached: no
    /// task will come for it, and it would push out runs that are alive
    /// (a query on it replays its history).
    fn insert(&mut self, run_id: String, driver: RunDriver) {
        if self.capacity == 0 || driver.is_closed() {
            return;
        }
        self.take_cached(&run_id);
        while self.cache.len() >= self.capacity {
            let Some((_, oldest)) = self.lru.pop_first() else {
                break;
            };
            self.cache.remove(&oldest);
        }
        self.clock += 1;
        self.lru.insert(self.clock, run_id.clone());
        self.cache.insert(
            run_id,
            Cached {
                driver,
                last_used: self.clock,
            },
        );
    }

    /// Takes a run out of the cache.
    fn take_cached(&mut self, run_id: &str) -> Option<RunDriver> {
        let cached = self.cache.remove(run_id)?;
        self.lru.remove(&cached.last_used);
        Some(cached.driver)
    }
}

/// Runs workflow code, turning a panic into a task failure.
fn guarded<T>(f: impl FnOnce() -> Result<T, TaskError>) -> Result<T, TaskError> {
    match crate::panic::in_workflow_code(|| catch_unwind(AssertUnwindSafe(f))) {
        Ok(result) => result,
        Err(panic) => {
            let message = crate::panic::message(panic.as_ref());
            // The panic is reported once; its retries are counted here.
            let message = match crate::panic::last_in_workflow() {
                Some((place, 1)) => format!("{message} (at {place})"),
                Some((place, n)) => {
                    format!("{message} (at {place}; seen {n} times, reported the first)")
                }
                None => message,
            };
            // A tokio future awaited in workflow code (through the escape
            // hatch) panics here, since no runtime is entered on this thread.
            let hint = if message.contains("Tokio") || message.contains("reactor") {
                " (workflow code runs outside any tokio runtime: a tokio timer, spawn or I/O \
                 cannot work there; use ctx.sleep(..) for timers and activities for I/O)"
            } else {
                ""
            };
            Err(TaskError::new(format!(
                "workflow code panicked: {message}{hint}"
            )))
        }
    }
}

/// A query that could not be answered.
pub(crate) fn query_failure(message: &str) -> Failure {
    ApplicationError::new(message.to_string())
        .with_type("QueryFailed")
        .into()
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
