//! Workers: poll a task queue for workflow and activity tasks and run them.
//!
//! Workflow code runs on a dedicated thread (the `thread` module) that keeps hot runs
//! in a bounded cache and replays on a miss; activities run on the tokio
//! runtime (sync ones on its blocking pool) under a concurrency cap. A worker
//! talks to the backend only through the [`Backend`] trait.

pub(crate) mod driver;
mod local;
mod thread;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{Semaphore, oneshot, watch};
use tokio::task::JoinSet;

use crate::activity::{
    Activity, ActivityContext, ActivityGroup, ActivityInfo, ErasedActivity, HeartbeatSink,
};
use crate::backend::{
    ActivityTask, ActivityTaskResult, Backend, BackendError, WorkflowTask, WorkflowTaskCompletion,
};
use crate::client::Client;
use crate::failure::{ApplicationError, Failure};
use crate::workflow::Workflow;
use crate::workflow::executor::{self, Factory};
use thread::{QueryStep, Request, TaskStep};

/// Settings of a worker.
#[derive(Clone, Debug)]
pub struct WorkerOptions {
    /// Activities (not local ones) running at once, at most.
    pub max_concurrent_activities: usize,
    /// Workflow tasks processed at once, at most.
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
    /// counter) on the first run rather than after a cache eviction. Costs
    /// a full replay per task: for tests and development.
    pub strict_replay: bool,
}

impl Default for WorkerOptions {
    fn default() -> Self {
        WorkerOptions {
            max_concurrent_activities: 100,
            max_concurrent_workflow_tasks: 4,
            max_cached_workflows: 1000,
            identity: format!("weft-worker@{}", std::process::id()),
            strict_replay: false,
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
    client: Client,
    task_queue: String,
    options: WorkerOptions,
    workflows: HashMap<String, Factory>,
    activities: HashMap<String, ErasedActivity>,
    errors: Vec<String>,
}

impl Worker {
    /// A worker for `task_queue`, using the client's backend and namespace.
    pub fn new(client: &Client, task_queue: impl Into<String>) -> Self {
        Worker {
            client: client.clone(),
            task_queue: task_queue.into(),
            options: WorkerOptions::default(),
            workflows: HashMap::new(),
            activities: HashMap::new(),
            errors: Vec::new(),
        }
    }

    /// Replaces the worker's options.
    pub fn with_options(mut self, options: WorkerOptions) -> Self {
        self.options = options;
        self
    }

    /// Registers a workflow type.
    pub fn register_workflow<W: Workflow>(&mut self) -> &mut Self {
        self.workflows
            .insert(W::NAME.to_string(), executor::factory::<W>());
        self
    }

    /// Registers an activity function (from `#[activity]`).
    pub fn register_activity<F, I, O>(&mut self, activity: Activity<F, I, O>) -> &mut Self {
        match crate::activity::erase(activity.invoke()) {
            Some(run) => {
                self.activities.insert(activity.name().to_string(), run);
            }
            None => self.errors.push(format!(
                "activity {:?} is a method: register its instance with register_activities(Arc::new(..))",
                activity.name()
            )),
        }
        self
    }

    /// Registers every activity method of an instance holding shared dependencies.
    pub fn register_activities<T: ActivityGroup>(&mut self, instance: Arc<T>) -> &mut Self {
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
        let shared = Arc::new(self.shared()?);
        let mut tasks = JoinSet::new();
        if !shared.has_workflows() {
            tracing::debug!(task_queue = %shared.task_queue, "no workflows registered");
        }
        for _ in 0..shared.options.max_concurrent_workflow_tasks.max(1) {
            if shared.has_workflows() {
                tasks.spawn(workflow_loop(shared.clone(), stop_rx.clone()));
            }
        }
        if !shared.activities.is_empty() {
            tasks.spawn(activity_loop(shared.clone(), stop_rx.clone()));
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

    fn shared(self) -> Result<Shared, WorkerError> {
        let threads = if self.workflows.is_empty() {
            None
        } else {
            Some(thread::spawn(
                self.client.namespace().to_string(),
                self.workflows,
                self.options.max_cached_workflows,
            )?)
        };
        Ok(Shared {
            backend: self.client.backend(),
            namespace: self.client.namespace().to_string(),
            task_queue: self.task_queue,
            activity_slots: Arc::new(Semaphore::new(
                self.options.max_concurrent_activities.max(1),
            )),
            options: self.options,
            activities: self.activities,
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
            return TaskStep::Fail(executor::TaskError::new("no workflows registered"));
        };
        if thread.send(make(tx)).is_err() {
            return TaskStep::Fail(executor::TaskError::new("the workflow thread stopped"));
        }
        rx.await.unwrap_or_else(|_| {
            TaskStep::Fail(executor::TaskError::new("the workflow thread stopped"))
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

async fn workflow_loop(shared: Arc<Shared>, mut stop: watch::Receiver<bool>) {
    loop {
        let poll = shared
            .backend
            .poll_workflow_task(&shared.namespace, &shared.task_queue);
        match next(&mut stop, poll).await {
            None => return,
            Some(Ok(task)) if task.query.is_some() => run_query_task(&shared, task).await,
            Some(Ok(task)) => run_workflow_task(&shared, task).await,
            Some(Err(e)) => {
                if !backoff_after(&e).await {
                    return;
                }
            }
        }
    }
}

/// Answers a query task: from the workflow thread's cached run if it is
/// current, else from a replay of the full history.
async fn run_query_task(shared: &Shared, task: WorkflowTask) {
    let task = Box::new(task);
    let ask = |history: Option<Vec<crate::history::Event>>| async {
        let (tx, rx) = oneshot::channel();
        let Some(thread) = &shared.thread else {
            return QueryStep::Answer(Err(thread::query_failure("no workflows registered")));
        };
        let request = Request::Query {
            task: task.clone(),
            history,
            reply: tx,
        };
        if thread.send(request).is_err() {
            return QueryStep::Answer(Err(thread::query_failure("the workflow thread stopped")));
        }
        rx.await.unwrap_or_else(|_| {
            QueryStep::Answer(Err(thread::query_failure("the workflow thread stopped")))
        })
    };
    let mut step = ask(None).await;
    if matches!(step, QueryStep::NeedHistory) {
        step = match shared
            .backend
            .history(
                &shared.namespace,
                &task.workflow_id,
                Some(&task.token.run_id),
            )
            .await
        {
            Ok(history) => ask(Some(history)).await,
            Err(e) => QueryStep::Answer(Err(thread::query_failure(&format!(
                "reading history to answer the query: {e}"
            )))),
        };
    }
    let result = match step {
        QueryStep::Answer(result) => result,
        QueryStep::NeedHistory => Err(thread::query_failure(
            "history did not reach the workflow thread",
        )),
    };
    if let Err(e) = shared
        .backend
        .respond_query(task.token.clone(), result)
        .await
    {
        tracing::warn!(run_id = %task.token.run_id, error = %e, "query answer refused");
    }
}

async fn run_workflow_task(shared: &Shared, task: WorkflowTask) {
    let run_id = task.token.run_id.clone();
    let token = task.token.clone();
    let task_id = token.task_id;
    let task = Box::new(task);
    let read_history = || {
        shared
            .backend
            .history(&shared.namespace, &task.workflow_id, Some(&run_id))
    };
    let strict_history = if shared.options.strict_replay {
        match read_history().await {
            Ok(history) => Some(history),
            Err(e) => {
                let error = executor::TaskError::new(format!("reading history: {e}"));
                fail_task(shared, token, run_id, error).await;
                return;
            }
        }
    } else {
        None
    };
    let mut step = shared
        .ask(|reply| Request::Task {
            task: task.clone(),
            history: None,
            strict_history: strict_history.clone(),
            reply,
        })
        .await;
    if matches!(step, TaskStep::NeedHistory) {
        let history = match strict_history.clone() {
            Some(history) => Ok(history),
            None => read_history().await,
        };
        step = match history {
            Ok(history) => {
                shared
                    .ask(|reply| Request::Task {
                        task: task.clone(),
                        history: Some(history),
                        strict_history,
                        reply,
                    })
                    .await
            }
            Err(e) => TaskStep::Fail(executor::TaskError::new(format!("reading history: {e}"))),
        };
    }
    let local_budget = task.timeout.mul_f64(0.8);
    let local_deadline = tokio::time::Instant::now() + local_budget;
    let mut locals = local::Runner::new(shared, &task);
    let mut durable = false;
    loop {
        match step {
            TaskStep::NeedHistory => {
                step = TaskStep::Fail(executor::TaskError::new(
                    "history did not reach the workflow thread",
                ));
            }
            TaskStep::RunLocal(requests) => {
                if !durable {
                    // The task may have been handed out before the events
                    // it carries were committed; a local activity acts on
                    // the outside, so it waits until they are, within the
                    // local activities' budget.
                    let waited =
                        tokio::time::timeout_at(local_deadline, shared.backend.wait_durable())
                            .await;
                    let failed = match waited {
                        Ok(Ok(())) => None,
                        Ok(Err(e)) => {
                            Some(format!("waiting for the task's events to be durable: {e}"))
                        }
                        Err(_) => Some(format!(
                            "the task's events were not durable within {local_budget:?}, 4/5 of \
                             the workflow task timeout; its local activities did not start"
                        )),
                    };
                    if let Some(message) = failed {
                        step = TaskStep::Fail(executor::TaskError::new(message));
                        continue;
                    }
                    durable = true;
                }
                for request in requests {
                    locals.start(request);
                }
                // Local activities run while the worker holds the task; past
                // this point the engine would hand the task out again.
                let next = tokio::time::timeout_at(local_deadline, locals.next()).await;
                let done = match next {
                    Ok(Some(done)) => done,
                    Ok(None) => {
                        step =
                            TaskStep::Fail(executor::TaskError::new("local activities vanished"));
                        continue;
                    }
                    Err(_) => {
                        step = TaskStep::Fail(executor::TaskError::new(format!(
                            "local activities ({}) did not finish within {:?}, 4/5 of the workflow \
                             task timeout; a local activity must be short (retries included): \
                             use an activity for longer work",
                            locals.running_types().join(", "),
                            local_budget
                        )));
                        locals.abort();
                        continue;
                    }
                };
                step = shared
                    .ask(|reply| Request::ResolveLocal {
                        run_id: run_id.clone(),
                        task_id,
                        seq: done.seq,
                        activity_type: done.activity_type,
                        attempt: done.attempt,
                        result: done.result,
                        reply,
                    })
                    .await;
            }
            TaskStep::Complete(commands) => {
                let completion = WorkflowTaskCompletion {
                    token,
                    commands,
                    sdk_flags: Vec::new(),
                    identity: shared.options.identity.clone(),
                };
                let result = shared.backend.complete_workflow_task(completion).await;
                if let Err(e) = &result {
                    tracing::warn!(run_id, error = %e, "workflow task completion refused");
                }
                ack(shared, run_id, task_id, result.is_ok());
                return;
            }
            TaskStep::Fail(error) => {
                fail_task(shared, token, run_id, error).await;
                return;
            }
        }
    }
}

async fn fail_task(
    shared: &Shared,
    token: crate::backend::TaskToken,
    run_id: String,
    error: executor::TaskError,
) {
    tracing::warn!(run_id, error = %error.message, "workflow task failed");
    let task_id = token.task_id;
    let failure = thread::task_failure(&error);
    if let Err(e) = shared
        .backend
        .fail_workflow_task(token, failure, error.nondeterminism)
        .await
    {
        tracing::warn!(run_id, error = %e, "could not fail the workflow task");
    }
    ack(shared, run_id, task_id, false);
}

fn ack(shared: &Shared, run_id: String, task_id: i64, accepted: bool) {
    if let Some(thread) = &shared.thread {
        let _ = thread.send(Request::Ack {
            run_id,
            task_id,
            accepted,
        });
    }
}

async fn activity_loop(shared: Arc<Shared>, mut stop: watch::Receiver<bool>) {
    let mut running = JoinSet::new();
    loop {
        let permit = tokio::select! {
            biased;
            _ = stop.changed() => break,
            permit = shared.activity_slots.clone().acquire_owned() => permit,
        };
        let Ok(permit) = permit else { break };
        let poll = shared
            .backend
            .poll_activity_task(&shared.namespace, &shared.task_queue);
        match next(&mut stop, poll).await {
            None => break,
            Some(Ok(task)) => {
                let shared = shared.clone();
                running.spawn(async move {
                    run_activity_task(&shared, task).await;
                    drop(permit);
                });
            }
            Some(Err(e)) => {
                if !backoff_after(&e).await {
                    break;
                }
            }
        }
        while running.try_join_next().is_some() {}
    }
    while running.join_next().await.is_some() {}
}

async fn run_activity_task(shared: &Shared, task: ActivityTask) {
    let info = ActivityInfo {
        activity_id: task.activity_id.clone(),
        activity_type: task.activity_type.clone(),
        workflow_id: task.workflow_id.clone(),
        namespace: shared.namespace.clone(),
        attempt: task.attempt,
        is_local: false,
    };
    let limit = task.start_to_close_timeout;
    let backend = shared.backend.clone();
    let token = task.token.clone();
    let activity_type = task.activity_type.clone();
    let sink: HeartbeatSink = Arc::new(move |details| {
        let backend = backend.clone();
        let token = token.clone();
        let activity_type = activity_type.clone();
        Box::pin(async move {
            match backend.record_activity_heartbeat(token, details).await {
                Ok(response) => Some(response.cancel_requested),
                Err(e) => {
                    tracing::warn!(activity = activity_type, error = %e, "heartbeat not recorded");
                    None
                }
            }
        })
    });
    let (ctx, heart) =
        ActivityContext::with_heartbeat(info, sink, task.heartbeat_timeout, task.heartbeat_details);
    let result = run_activity(&shared.activities, ctx, task.input, limit).await;
    if let Some(details) = heart.stop() {
        // The latest details were held back by the throttle: record them
        // before the attempt's end, so a retry resumes from them.
        if let Err(e) = shared
            .backend
            .record_activity_heartbeat(task.token.clone(), details)
            .await
        {
            tracing::warn!(activity = task.activity_type, error = %e, "last heartbeat not recorded");
        }
    }
    let result = match result {
        Ok(p) => ActivityTaskResult::Completed(p),
        Err(Failure::Canceled(e)) => ActivityTaskResult::Canceled(e.details),
        Err(f) => ActivityTaskResult::Failed(f),
    };
    if let Err(e) = shared
        .backend
        .complete_activity_task(task.token, result)
        .await
    {
        tracing::warn!(activity = task.activity_type, error = %e, "activity result refused");
    }
}

/// Runs a registered activity, catching panics and unknown types.
///
/// Past `limit` (the attempt's start-to-close timeout) an async activity is
/// stopped and the attempt fails with a start-to-close `TimeoutError`; a
/// blocking one cannot be stopped and runs on, its result discarded.
pub(crate) async fn run_activity(
    activities: &HashMap<String, ErasedActivity>,
    ctx: ActivityContext,
    input: Vec<crate::converter::Payload>,
    limit: Option<Duration>,
) -> Result<crate::converter::Payload, Failure> {
    let activity_type = ctx.info().activity_type.clone();
    let Some(run) = activities.get(&activity_type) else {
        let mut known: Vec<_> = activities.keys().cloned().collect();
        known.sort();
        return Err(ApplicationError::new(format!(
            "activity type {activity_type:?} is not registered on this worker (registered: {})",
            known.join(", ")
        ))
        .with_type("NotFoundError")
        .into());
    };
    let mut handle = tokio::spawn(run(ctx, input));
    let joined = match limit {
        Some(limit) => match tokio::time::timeout(limit, &mut handle).await {
            Ok(joined) => joined,
            Err(_) => {
                handle.abort();
                // Wait until the activity's future is dropped, so nothing of
                // this attempt runs on once its failure is reported.
                let _ = handle.await;
                return Err(Failure::Timeout(crate::failure::TimeoutError {
                    timeout_type: crate::failure::TimeoutType::StartToClose,
                    last_heartbeat_details: Vec::new(),
                }));
            }
        },
        None => handle.await,
    };
    match joined {
        Ok(result) => result.map_err(Failure::truncated),
        Err(e) => Err(ApplicationError::new(format!(
            "activity {activity_type:?} panicked: {}",
            crate::join_error_message(e)
        ))
        .with_type("Panic")
        .into()),
    }
}
