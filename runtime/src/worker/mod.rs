//! Workers: poll a task queue for workflow and activity tasks and run them.
//!
//! Workflow code runs on a dedicated thread (the `thread` module) that keeps hot runs
//! in a bounded cache and replays on a miss; activities run on the tokio
//! runtime (sync ones on its blocking pool) under a concurrency cap. A worker
//! talks to the backend only through the [`Backend`] trait.

mod activity_tasks;
mod clock_shift;
pub(crate) mod driver;
pub(crate) mod intercept;
mod local;
mod telemetry;
mod thread;
mod workflow_tasks;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{Semaphore, oneshot, watch};
use tokio::task::JoinSet;

use crate::activity::{ActivityGroup, ErasedActivity, FunctionActivity};
use crate::backend::{Backend, BackendError, Connection};
use crate::telemetry::{ActivityInterceptor, Metrics, WorkflowInterceptor};
use crate::workflow::Workflow;
use crate::workflow::executor::{self, Factory, RunSettings};
use thread::{Request, TaskStep};

#[cfg(feature = "temporal")]
pub(crate) use activity_tasks::run_activity;

/// Activity polls a worker keeps in flight at most.
const ACTIVITY_POLLERS: usize = 5;

/// Settings of a worker.
#[derive(Clone, Debug)]
pub struct WorkerOptions {
    /// Activities (not local ones) running at once, at most.
    pub max_concurrent_activities: usize,
    /// Workflow tasks processed at once, at most (default 4). A slot
    /// stays taken until the backend acknowledges the task's completion,
    /// after its commit: with many workflows in flight, slots rather than
    /// CPU can bound throughput (`weft-bench hello` at 1,000 in flight uses
    /// 256).
    pub max_concurrent_workflow_tasks: usize,
    /// Runs kept in memory between tasks; others are rebuilt by replay
    /// (0 replays every task, which tests use to check replay).
    pub max_cached_workflows: usize,
    /// Name recorded in history as the worker's identity.
    pub identity: String,
    /// After each workflow task, replay the run from scratch in a fresh
    /// instance and fail the task with a nondeterminism error if the fresh
    /// replay's commands differ from the live code's. Catches code that
    /// depends on something other than history (a random hasher, a static
    /// counter) on the first run rather than after a cache eviction. The
    /// replay reads the same workflow time (`ctx.now()`) but runs in a later
    /// millisecond of the wall clock, so a wall-clock reading at millisecond
    /// precision or finer that reaches a command differs every time (a
    /// coarser one only when a boundary falls between the runs). Costs a
    /// full replay per task, plus under a millisecond of waiting: for tests
    /// and development.
    pub strict_replay: bool,
    /// The start-to-close timeout of activities that get none from their
    /// call or their `#[activity(..)]` declaration. Without one, such a
    /// call fails its workflow task (retried until a fix is deployed).
    pub default_start_to_close_timeout: Option<Duration>,
}

impl Default for WorkerOptions {
    fn default() -> Self {
        WorkerOptions {
            max_concurrent_activities: 100,
            max_concurrent_workflow_tasks: 4,
            max_cached_workflows: 1000,
            identity: format!("weft-worker@{}", std::process::id()),
            strict_replay: false,
            default_start_to_close_timeout: None,
        }
    }
}

/// Errors from building or running a worker.
#[derive(Debug, thiserror::Error)]
pub enum WorkerError {
    /// A registration was wrong.
    #[error("worker configuration: {0}")]
    Config(String),
    /// The backend failed.
    #[error(transparent)]
    Backend(#[from] BackendError),
    /// The workflow thread could not be started.
    #[error("cannot start the workflow thread: {0}")]
    Thread(#[from] std::io::Error),
}

/// Polls one task queue and runs the workflows and activities registered on it.
pub struct Worker {
    connection: Connection,
    task_queue: String,
    options: WorkerOptions,
    workflows: HashMap<String, fn(RunSettings) -> Factory>,
    activities: HashMap<String, ErasedActivity>,
    activity_interceptors: Vec<Arc<dyn ActivityInterceptor>>,
    workflow_interceptors: Vec<Arc<dyn WorkflowInterceptor>>,
    errors: Vec<String>,
}

impl Worker {
    /// A worker for `task_queue`, on a client's backend and namespace
    /// (`Worker::new(&client, "queue")`) or any [`Connection`].
    pub fn new(connection: impl Into<Connection>, task_queue: impl Into<String>) -> Self {
        Worker {
            connection: connection.into(),
            task_queue: task_queue.into(),
            options: WorkerOptions::default(),
            workflows: HashMap::new(),
            activities: HashMap::new(),
            activity_interceptors: Vec::new(),
            workflow_interceptors: Vec::new(),
            errors: Vec::new(),
        }
    }

    /// Wraps every activity attempt this worker runs (local activities
    /// too) in `interceptor`; the first added is outermost.
    pub fn activity_interceptor(mut self, interceptor: impl ActivityInterceptor) -> Self {
        self.activity_interceptors.push(Arc::new(interceptor));
        self
    }

    /// Passes the jobs, commands and queries of every run this worker
    /// runs through `interceptor`; the first added is outermost.
    pub fn workflow_interceptor(mut self, interceptor: impl WorkflowInterceptor) -> Self {
        self.workflow_interceptors.push(Arc::new(interceptor));
        self
    }

    /// Replaces the worker's options.
    pub fn with_options(mut self, options: WorkerOptions) -> Self {
        self.options = options;
        self
    }

    /// Registers a workflow type.
    ///
    /// The registrations chain, so a worker is set up in one expression:
    ///
    /// ```no_run
    /// # use weft::prelude::*;
    /// # #[activity(start_to_close_timeout = "5s")]
    /// # async fn reserve(item: String) -> Result<String, ApplicationError> { Ok(item) }
    /// # #[workflow]
    /// # async fn checkout(ctx: WorkflowContext, item: String) -> WorkflowResult<String> {
    /// #     Ok(ctx.activity(RESERVE, item).await?)
    /// # }
    /// # fn f(client: &Client) -> Result<(), weft::worker::WorkerError> {
    /// let worker = Worker::new(client, "shop")
    ///     .register_workflow::<Checkout>()
    ///     .register_activity(RESERVE)
    ///     .start()?;
    /// # Ok(()) }
    /// ```
    #[must_use = "registering returns the worker; start it or keep it"]
    pub fn register_workflow<W: Workflow>(mut self) -> Self {
        self.workflows
            .insert(W::NAME.to_string(), executor::factory::<W>);
        self
    }

    /// Registers an activity function by the value `#[activity]` defines
    /// for it (`ORDER_APPLES` for `fn order_apples`). Method activities run
    /// on an instance: register it with [`Worker::register_activities`].
    #[must_use = "registering returns the worker; start it or keep it"]
    pub fn register_activity<A: FunctionActivity>(mut self, activity: A) -> Self {
        match activity.erased() {
            Some(run) => {
                self.activities
                    .insert(activity.activity_name().to_string(), run);
            }
            None => self.errors.push(format!(
                "activity {:?} has no runner of its own",
                activity.activity_name()
            )),
        }
        self
    }

    /// Registers every activity method of an instance holding shared dependencies.
    #[must_use = "registering returns the worker; start it or keep it"]
    pub fn register_activities<T: ActivityGroup>(mut self, instance: Arc<T>) -> Self {
        for (name, run) in instance.activities() {
            self.activities.insert(name.to_string(), run);
        }
        self
    }

    /// Starts polling in the background; the handle shuts the worker down.
    pub fn start(self) -> Result<WorkerHandle, WorkerError> {
        if !self.errors.is_empty() {
            return Err(WorkerError::Config(self.errors.join("; ")));
        }
        let (stop_tx, stop_rx) = watch::channel(false);
        #[cfg(feature = "temporal")]
        if let Some(host) = crate::temporal::worker_host(self.connection.backend().as_ref()) {
            let tasks = crate::temporal::start_worker(&host, self.temporal_parts(), stop_rx)
                .map_err(WorkerError::Config)?;
            return Ok(WorkerHandle {
                stop: stop_tx,
                tasks,
            });
        }
        let shared = Arc::new(self.shared()?);
        let mut tasks = JoinSet::new();
        if !shared.has_workflows() {
            tracing::debug!(task_queue = %shared.task_queue, "no workflows registered");
        }
        for _ in 0..shared.options.max_concurrent_workflow_tasks.max(1) {
            if shared.has_workflows() {
                tasks.spawn(workflow_tasks::workflow_loop(
                    shared.clone(),
                    stop_rx.clone(),
                ));
            }
        }
        if !shared.activities.is_empty() {
            // Several polls in flight (Temporal's default is 5), so a
            // poll's round trip to a remote server does not bound the
            // activities started per second; each poll holds a slot.
            let pollers = shared
                .options
                .max_concurrent_activities
                .clamp(1, ACTIVITY_POLLERS);
            for _ in 0..pollers {
                tasks.spawn(activity_tasks::activity_loop(
                    shared.clone(),
                    stop_rx.clone(),
                ));
            }
        }
        Ok(WorkerHandle {
            stop: stop_tx,
            tasks,
        })
    }

    /// Runs until `shutdown` resolves, then shuts down gracefully.
    pub async fn run_until<F: std::future::Future<Output = ()>>(
        self,
        shutdown: F,
    ) -> Result<(), WorkerError> {
        let handle = self.start()?;
        shutdown.await;
        handle.shutdown().await;
        Ok(())
    }

    /// The worker's registrations, for a worker on Temporal's core.
    #[cfg(feature = "temporal")]
    fn temporal_parts(self) -> crate::temporal::WorkerParts {
        let settings = RunSettings {
            default_start_to_close_timeout: self.options.default_start_to_close_timeout,
            // Core resolves them as local activities, after their command.
            side_effects: executor::SideEffectMode::Resolved,
        };
        crate::temporal::WorkerParts {
            namespace: self.connection.namespace().to_string(),
            task_queue: self.task_queue,
            identity: self.options.identity.clone(),
            max_cached_workflows: self.options.max_cached_workflows,
            max_concurrent_workflow_tasks: self.options.max_concurrent_workflow_tasks,
            max_concurrent_activities: self.options.max_concurrent_activities,
            factories: self
                .workflows
                .into_iter()
                .map(|(name, factory)| (name, factory(settings)))
                .collect(),
            workflow_interceptors: self.workflow_interceptors.into(),
            activities: self.activities,
            activity_interceptors: self.activity_interceptors.into(),
            metrics: self.connection.metrics().cloned(),
            converter: self.connection.converter().cloned(),
        }
    }

    fn shared(self) -> Result<Shared, WorkerError> {
        let metrics = self.connection.metrics().cloned();
        let settings = RunSettings {
            default_start_to_close_timeout: self.options.default_start_to_close_timeout,
            side_effects: executor::SideEffectMode::Marker,
        };
        let factories: HashMap<String, Factory> = self
            .workflows
            .into_iter()
            .map(|(name, factory)| (name, factory(settings)))
            .collect();
        let threads = if factories.is_empty() {
            None
        } else {
            let cache_size = metrics.clone().map(|m| {
                let queue = crate::telemetry::sdk::QueueLabels {
                    namespace: self.connection.namespace().to_string(),
                    task_queue: self.task_queue.clone(),
                };
                (m, queue)
            });
            let telemetry = thread::Telemetry {
                meter: crate::telemetry::MetricMeter::new(metrics.clone()),
                interceptors: self.workflow_interceptors.into(),
                cache_size,
            };
            Some(thread::spawn(
                self.connection.namespace().to_string(),
                factories,
                self.options.max_cached_workflows,
                telemetry,
            )?)
        };
        Ok(Shared {
            backend: self.connection.backend(),
            namespace: self.connection.namespace().to_string(),
            task_queue: self.task_queue,
            activity_slots: Arc::new(Semaphore::new(
                self.options.max_concurrent_activities.max(1),
            )),
            options: self.options,
            activities: self.activities,
            activity_interceptors: self.activity_interceptors.into(),
            metrics,
            thread: threads,
        })
    }
}

/// A running worker.
pub struct WorkerHandle {
    stop: watch::Sender<bool>,
    tasks: JoinSet<()>,
}

impl WorkerHandle {
    /// Stops polling and waits for the tasks in progress to finish; work not
    /// yet taken stays in the backend for another worker.
    pub async fn shutdown(mut self) {
        let _ = self.stop.send(true);
        while self.tasks.join_next().await.is_some() {}
    }
}

struct Shared {
    backend: Arc<dyn Backend>,
    namespace: String,
    task_queue: String,
    options: WorkerOptions,
    activities: HashMap<String, ErasedActivity>,
    activity_interceptors: Arc<[Arc<dyn ActivityInterceptor>]>,
    metrics: Option<Metrics>,
    activity_slots: Arc<Semaphore>,
    thread: Option<std::sync::mpsc::Sender<Request>>,
}

impl Shared {
    fn has_workflows(&self) -> bool {
        self.thread.is_some()
    }

    async fn ask(&self, make: impl FnOnce(oneshot::Sender<TaskStep>) -> Request) -> TaskStep {
        let (tx, rx) = oneshot::channel();
        let Some(thread) = &self.thread else {
            return TaskStep::Fail(crate::workflow::error::TaskError::new(
                "no workflows registered",
            ));
        };
        if thread.send(make(tx)).is_err() {
            return TaskStep::Fail(crate::workflow::error::TaskError::new(
                "the workflow thread stopped",
            ));
        }
        rx.await.unwrap_or_else(|_| {
            TaskStep::Fail(crate::workflow::error::TaskError::new(
                "the workflow thread stopped",
            ))
        })
    }
}

/// Waits for the next task or the stop signal.
async fn next<T>(
    stop: &mut watch::Receiver<bool>,
    poll: impl std::future::Future<Output = Result<Option<T>, BackendError>>,
) -> Option<Result<T, BackendError>> {
    if *stop.borrow() {
        return None;
    }
    tokio::select! {
        biased;
        _ = stop.changed() => None,
        polled = poll => polled.transpose(),
    }
}

async fn backoff_after(error: &BackendError) -> bool {
    if matches!(error, BackendError::Stopped(_)) {
        tracing::error!(%error, "backend stopped; worker loop ends");
        return false;
    }
    tracing::warn!(%error, "poll failed; retrying");
    tokio::time::sleep(Duration::from_millis(200)).await;
    true
}
