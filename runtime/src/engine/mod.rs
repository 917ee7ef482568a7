//! The embedded engine: the default [`Backend`], running inside the
//! application's process.
//!
//! Owns runs, their histories, task queues, timers, activity attempts and
//! retries, and the stores that keep them ([`SqliteStore`], [`MemoryStore`]).
//! One engine task holds the authoritative state; a writer thread commits
//! its changes in order with group commit. Nothing is acknowledged, and no
//! activity or query task handed out, before the commit that holds it is
//! durable; workflow tasks, which only compute, are handed out at once, and
//! their completions commit after what they read. If a commit fails
//! the engine stops (every pending and later call gets
//! [`BackendError::Stopped`]). Time comes only from the [`Clock`].
//!
//! [`Engine`] is a cheap handle: clone it for each worker and client.

mod activities;
mod backlog;
mod cancel;
mod children;
mod clock;
mod completion;
mod deadlines;
mod effects;
mod encoding;
mod engine_task;
mod external;
mod limits;
mod names;
mod open_run;
mod pacing;
mod queries;
mod queues;
mod reads;
mod requests;
mod restore;
mod retries;
mod runs;
mod schedules;
mod signals;
mod sqlite;
mod state;
pub mod store;
mod tasks;
mod timers;
mod updates;
mod visibility;
mod writer;

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use futures::future::BoxFuture;
use tokio::sync::{mpsc, oneshot};

use crate::backend::{
    ActivityTask, ActivityTaskResult, Backend, BackendError, CancelRequest, Description,
    HeartbeatResponse, QueryRequest, RunOutcome, SignalRequest, StartWorkflowRequest,
    StartWorkflowResponse, TaskToken, TerminateRequest, UpdateRequest, UpdateWithStartResponse,
    WorkflowTask, WorkflowTaskCompletion,
};
use crate::converter::{Payload, PayloadLimits};
use crate::failure::Failure;
use crate::history::Event;
use crate::search_attributes::SearchAttributeType;
use crate::telemetry::Metrics;
use crate::visibility::{WorkflowExecutionCount, WorkflowExecutionInfo};

use self::engine_task::EngineTask;
use self::requests::{Lookup, Request, SignalWithStart, StoredRx, Target, Tx, not_found};
use self::schedules::ScheduleCall;
use self::state::RunState;
use self::writer::StoredRun;
use crate::schedule::{Backfill, OverlapPolicy, Schedule, ScheduleDescription, ScheduleListEntry};

pub use self::clock::VirtualClock;
pub use self::limits::PendingLimits;
pub use self::sqlite::{APPLICATION_ID, FORMAT_VERSION, IntegrityCheck, OpenError, SqliteStore};
pub use self::store::{MemoryStore, Store};

/// Where the engine reads time and waits for it. Tests swap in a virtual clock.
pub trait Clock: Send + Sync + 'static {
    /// The current time.
    fn now(&self) -> SystemTime;
    /// Resolves at `deadline` (or immediately if past).
    fn sleep_until(&self, deadline: SystemTime) -> BoxFuture<'static, ()>;
    /// Called when nothing can happen before `deadline` (no workflow task or
    /// activity scheduled or running): a time-skipping clock jumps to it and
    /// returns true. Real clocks wait (the default).
    fn skip_to(&self, deadline: SystemTime) -> bool {
        let _ = deadline;
        false
    }
    /// Whether this clock skips time at all (the engine only looks for idle
    /// moments, a walk over every open run, when it does).
    fn skips_time(&self) -> bool {
        false
    }
}

/// The machine's clock, waiting with tokio timers.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> SystemTime {
        SystemTime::now()
    }

    fn sleep_until(&self, deadline: SystemTime) -> BoxFuture<'static, ()> {
        let wait = deadline
            .duration_since(SystemTime::now())
            .unwrap_or(Duration::ZERO);
        Box::pin(tokio::time::sleep(wait))
    }
}

/// How an engine behaves.
#[derive(Clone)]
pub struct EngineOptions {
    /// How long a worker may hold a workflow task before it is handed out again.
    pub workflow_task_timeout: Duration,
    /// Size limits on every payload that enters.
    pub payload_limits: PayloadLimits,
    /// Where time comes from.
    pub clock: Arc<dyn Clock>,
    /// Workflow tasks suggest continue-as-new once history holds this many
    /// events (Temporal's default: 4,096).
    pub continue_as_new_suggested_events: u64,
    /// ... or once history is this many bytes (serialized events; default
    /// 4 MiB, Temporal's default).
    pub continue_as_new_suggested_bytes: u64,
    /// A run whose history holds more events than this when one of its
    /// workflow tasks completes is terminated, as Temporal does (default
    /// 51,200, Temporal's): continue as new well before it.
    pub history_max_events: u64,
    /// ... or more bytes (serialized events; default 50 MiB, Temporal's).
    pub history_max_bytes: u64,
    /// Completed update outcomes kept per workflow (continue-as-new chain),
    /// so a retried update id returns its first outcome (default 1,000).
    /// The oldest completed are dropped first; a retry of a dropped id is
    /// a new update, validated and applied again.
    pub update_outcomes_kept: usize,
    /// Signal request ids kept per workflow (continue-as-new chain), so a
    /// retried signal is applied once (default 1,000). The oldest are
    /// dropped first; a retry of a dropped id is a new signal.
    pub signal_request_ids_kept: usize,
    /// Group commit (default `true`): the writer commits everything queued
    /// while the previous commit's fsync ran in one transaction, so many
    /// steps share one fsync (see also `workflow_task_hold`). `false`
    /// commits each step's batch in its own transaction (one fsync per
    /// step); for measuring what group commit buys. Durability is the same
    /// either way: nothing is acknowledged before its commit is durable.
    pub group_commit: bool,
    /// With group commit, the longest a step's batch waits, while the
    /// writer is idle, for the workflow tasks the step handed out, so that
    /// their completions commit with it: one fsync instead of two on the
    /// way from a start, signal or activity result to what the workflow
    /// does next (default 2 ms; zero: never wait; at most an hour is
    /// used). Nothing the batch holds is acknowledged before its commit
    /// either way. It is not tried while workflow tasks take longer to
    /// come back than a commit takes.
    pub workflow_task_hold: Duration,
    /// Where the engine records its own measures (store commit latency and
    /// size, task queue backlog); `None` (the default) records nothing.
    pub metrics: Option<Metrics>,
    /// Custom search attributes runs may carry, with their types (none by
    /// default): Temporal's namespace registration, declared in code.
    /// Starts and upserts naming others are refused, and so are queries.
    /// Add them with [`EngineOptions::search_attribute`].
    pub search_attributes: BTreeMap<String, SearchAttributeType>,
    /// How many activities and children one run may have pending, and
    /// signals and cancellation requests to other workflows one workflow
    /// task may send (Temporal's defaults: 2,000 each). A workflow task
    /// over one fails, with a cause naming it, and is retried.
    pub pending_limits: PendingLimits,
}

impl EngineOptions {
    /// Registers the custom search attribute `name` with type `value_type`
    /// (Temporal's `temporal operator search-attribute create`). The
    /// engine refuses to start when a name is reserved (a system
    /// attribute's, or one starting with `Temporal`) or not a plain name
    /// (a letter or `_`, then letters, digits or `_`).
    pub fn search_attribute(
        mut self,
        name: impl Into<String>,
        value_type: SearchAttributeType,
    ) -> Self {
        self.search_attributes.insert(name.into(), value_type);
        self
    }
}

impl Default for EngineOptions {
    /// Temporal's defaults: 10 s workflow task timeout, 2 MB payloads;
    /// group commit on.
    fn default() -> Self {
        EngineOptions {
            workflow_task_timeout: Duration::from_secs(10),
            payload_limits: PayloadLimits::default(),
            clock: Arc::new(SystemClock),
            continue_as_new_suggested_events: 4096,
            continue_as_new_suggested_bytes: 4 * 1024 * 1024,
            history_max_events: 51_200,
            history_max_bytes: 50 * 1024 * 1024,
            update_outcomes_kept: 1000,
            signal_request_ids_kept: 1000,
            group_commit: true,
            workflow_task_hold: Duration::from_millis(2),
            metrics: None,
            search_attributes: BTreeMap::new(),
            pending_limits: PendingLimits::default(),
        }
    }
}

impl std::fmt::Debug for EngineOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EngineOptions")
            .field("workflow_task_timeout", &self.workflow_task_timeout)
            .field("payload_limits", &self.payload_limits)
            .field(
                "continue_as_new_suggested_events",
                &self.continue_as_new_suggested_events,
            )
            .field(
                "continue_as_new_suggested_bytes",
                &self.continue_as_new_suggested_bytes,
            )
            .field("history_max_events", &self.history_max_events)
            .field("history_max_bytes", &self.history_max_bytes)
            .field("update_outcomes_kept", &self.update_outcomes_kept)
            .field("signal_request_ids_kept", &self.signal_request_ids_kept)
            .field("group_commit", &self.group_commit)
            .field("workflow_task_hold", &self.workflow_task_hold)
            .field("metrics", &self.metrics.is_some())
            .field("search_attributes", &self.search_attributes)
            .finish_non_exhaustive()
    }
}

/// Requests waiting for the engine task before callers are held back.
const REQUEST_QUEUE: usize = 4096;

/// A handle to a running engine. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Engine {
    requests: mpsc::Sender<Request>,
}

fn shut_down() -> BackendError {
    BackendError::Stopped("the engine has shut down".into())
}

impl Engine {
    /// Starts an engine on `store`, resuming the runs it holds. Must be
    /// called inside a tokio runtime.
    pub fn start(store: impl Store, options: EngineOptions) -> Result<Engine, BackendError> {
        let runtime = tokio::runtime::Handle::try_current().map_err(|_| {
            BackendError::InvalidArgument(
                "Engine::start must be called inside a tokio runtime".into(),
            )
        })?;
        for name in options.search_attributes.keys() {
            crate::visibility::check_registration(name).map_err(BackendError::InvalidArgument)?;
        }
        let mut store: Box<dyn Store> = Box::new(store);
        let loaded = store.load()?;
        let (events_tx, events_rx) = mpsc::unbounded_channel();
        let group_commit = options.group_commit;
        let metrics = options.metrics.clone();
        let mut core = EngineTask::new(options, events_rx);
        core.restore(&mut *store, loaded)?;
        let on_commit = metrics.clone().map(backlog::commit_hook);
        let (writer, _thread) = writer::spawn(store, events_tx, group_commit, on_commit)?;
        core.set_writer(writer);
        let (requests, requests_rx) = mpsc::channel(REQUEST_QUEUE);
        runtime.spawn(core.run(requests_rx));
        if let Some(metrics) = metrics {
            backlog::report(&metrics, requests.downgrade());
        }
        Ok(Engine { requests })
    }

    /// Starts an engine with default options on the SQLite file at `path`
    /// (which files it opens, and why it refuses others:
    /// [`SqliteStore::open`]).
    pub async fn sqlite(path: impl AsRef<Path>) -> Result<Engine, BackendError> {
        Engine::start(SqliteStore::open(path)?, EngineOptions::default())
    }

    /// Starts an engine with default options whose data lives in memory.
    pub async fn memory() -> Result<Engine, BackendError> {
        Engine::start(MemoryStore::new(), EngineOptions::default())
    }

    /// Stops accepting requests, waits until everything accepted is
    /// durable, and closes the store. Parked long polls return `Ok(None)`.
    pub async fn shutdown(&self) {
        let (tx, rx) = oneshot::channel();
        if self.requests.send(Request::Shutdown(tx)).await.is_ok() {
            // An error means the engine ended already, which is the goal.
            let _ = rx.await;
        }
    }

    async fn call<T>(&self, request: impl FnOnce(Tx<T>) -> Request) -> Result<T, BackendError> {
        let (tx, rx) = oneshot::channel();
        self.requests
            .send(request(tx))
            .await
            .map_err(|_| shut_down())?;
        rx.await.map_err(|_| shut_down())?
    }

    /// A call about a schedule.
    fn schedule_call<T: Send + 'static>(
        &self,
        call: impl FnOnce(Tx<T>) -> ScheduleCall + Send + 'static,
    ) -> BoxFuture<'_, Result<T, BackendError>> {
        Box::pin(self.call(move |tx| Request::Schedule(Box::new(call(tx)))))
    }

    /// A list or count, read by the writer thread.
    async fn visibility(
        &self,
        namespace: String,
        query: String,
        count: bool,
    ) -> Result<visibility::Answer, BackendError> {
        let call = visibility::VisibilityCall {
            namespace,
            query,
            count,
        };
        let rx = self
            .call(|tx| Request::Visibility(Box::new(call), tx))
            .await?;
        rx.await.map_err(|_| shut_down())?
    }

    /// A long poll: an engine that has ended answers "no task".
    async fn poll<T>(
        &self,
        request: impl FnOnce(Tx<Option<T>>) -> Request,
    ) -> Result<Option<T>, BackendError> {
        let (tx, rx) = oneshot::channel();
        if self.requests.send(request(tx)).await.is_err() {
            return Ok(None);
        }
        rx.await.unwrap_or(Ok(None))
    }
}

fn target(namespace: &str, workflow_id: &str, run_id: Option<&str>) -> Target {
    Target {
        namespace: namespace.to_string(),
        workflow_id: workflow_id.to_string(),
        run_id: run_id.map(str::to_string),
    }
}

/// Waits for a store read and checks it is the asked-for workflow's run.
async fn stored(target: &Target, rx: StoredRx) -> Result<StoredRun, BackendError> {
    let read = rx.await.map_err(|_| shut_down())??;
    match read {
        Some(run) if run.row.workflow_id == target.workflow_id => Ok(run),
        _ => Err(not_found(target)),
    }
}

impl Backend for Engine {
    fn start_workflow(
        &self,
        request: StartWorkflowRequest,
    ) -> BoxFuture<'_, Result<StartWorkflowResponse, BackendError>> {
        Box::pin(self.call(move |tx| Request::Start(Box::new(request), tx)))
    }

    fn signal_workflow(&self, request: SignalRequest) -> BoxFuture<'_, Result<(), BackendError>> {
        Box::pin(self.call(move |tx| Request::Signal(Box::new(request), tx)))
    }

    fn request_cancel_workflow(
        &self,
        request: CancelRequest,
    ) -> BoxFuture<'_, Result<(), BackendError>> {
        Box::pin(self.call(move |tx| Request::Cancel(Box::new(request), tx)))
    }

    fn terminate_workflow(
        &self,
        request: TerminateRequest,
    ) -> BoxFuture<'_, Result<(), BackendError>> {
        Box::pin(self.call(move |tx| Request::Terminate(Box::new(request), tx)))
    }

    fn record_activity_heartbeat(
        &self,
        token: TaskToken,
        details: Vec<Payload>,
    ) -> BoxFuture<'_, Result<HeartbeatResponse, BackendError>> {
        Box::pin(self.call(move |tx| Request::Heartbeat(token, details, tx)))
    }

    fn signal_with_start(
        &self,
        start: StartWorkflowRequest,
        signal_name: String,
        input: Vec<Payload>,
    ) -> BoxFuture<'_, Result<StartWorkflowResponse, BackendError>> {
        let request = SignalWithStart {
            start,
            signal_name,
            input,
        };
        Box::pin(self.call(move |tx| Request::SignalWithStart(Box::new(request), tx)))
    }

    fn query_workflow(
        &self,
        request: QueryRequest,
    ) -> BoxFuture<'_, Result<Payload, BackendError>> {
        Box::pin(async move {
            let target = target(
                &request.namespace,
                &request.workflow_id,
                request.run_id.as_deref(),
            );
            let lookup = self
                .call(|tx| Request::Query(Box::new(request.clone()), tx))
                .await?;
            let answer = match lookup {
                Lookup::Now(answer) => answer,
                Lookup::Stored(rx) => {
                    // A closed run: its task queue and type come from its row.
                    let run = stored(&target, rx).await?;
                    let state = RunState::from_stored(&run)?;
                    let item = queries::QueryItem {
                        key: state::RunKey::new(&state.namespace, &state.run_id),
                        workflow_id: state.workflow_id,
                        workflow_type: state.workflow_type,
                        task_queue: state.task_queue,
                        request,
                    };
                    self.call(|tx| Request::QueryClosed(Box::new(item), tx))
                        .await?
                }
            };
            answer.await.map_err(|_| shut_down())?
        })
    }

    fn respond_query(
        &self,
        token: TaskToken,
        result: Result<Payload, Failure>,
    ) -> BoxFuture<'_, Result<(), BackendError>> {
        Box::pin(self.call(move |tx| Request::RespondQuery(token, Box::new(result), tx)))
    }

    fn update_workflow(
        &self,
        request: UpdateRequest,
    ) -> BoxFuture<'_, Result<Payload, BackendError>> {
        Box::pin(async move {
            let target = target(
                &request.namespace,
                &request.workflow_id,
                request.run_id.as_deref(),
            );
            let update_id = request.update_id.clone();
            match self
                .call(|tx| Request::Update(Box::new(request), tx))
                .await?
            {
                Lookup::Now(answer) => answer.await.map_err(|_| shut_down())?,
                Lookup::Stored(rx) => {
                    let run = stored(&target, rx).await?;
                    let state = RunState::from_stored(&run)?;
                    updates::closed_run_update(&state, &update_id)
                }
            }
        })
    }

    fn update_with_start(
        &self,
        start: StartWorkflowRequest,
        update: UpdateRequest,
    ) -> BoxFuture<'_, Result<UpdateWithStartResponse, BackendError>> {
        Box::pin(async move {
            let namespace = update.namespace.clone();
            let workflow_id = update.workflow_id.clone();
            let update_id = update.update_id.clone();
            let (started, lookup) = self
                .call(|tx| Request::UpdateWithStart(Box::new((start, update)), tx))
                .await?;
            let outcome = match lookup {
                Lookup::Now(answer) => answer.await.unwrap_or_else(|_| Err(shut_down())),
                Lookup::Stored(rx) => {
                    // The request id named a run that has closed since.
                    let target = target(&namespace, &workflow_id, Some(&started.run_id));
                    let run = stored(&target, rx).await?;
                    let state = RunState::from_stored(&run)?;
                    updates::closed_run_update(&state, &update_id)
                }
            };
            Ok(UpdateWithStartResponse {
                run_id: started.run_id,
                started: started.started,
                outcome,
            })
        })
    }

    fn poll_workflow_task<'a>(
        &'a self,
        namespace: &'a str,
        task_queue: &'a str,
    ) -> BoxFuture<'a, Result<Option<WorkflowTask>, BackendError>> {
        let queue = (namespace.into(), task_queue.into());
        Box::pin(self.poll(move |tx| Request::PollWorkflowTask(queue, tx)))
    }

    fn complete_workflow_task(
        &self,
        completion: WorkflowTaskCompletion,
    ) -> BoxFuture<'_, Result<(), BackendError>> {
        Box::pin(self.call(move |tx| Request::CompleteWorkflowTask(Box::new(completion), tx)))
    }

    fn fail_workflow_task(
        &self,
        token: TaskToken,
        failure: Failure,
        nondeterminism: bool,
    ) -> BoxFuture<'_, Result<(), BackendError>> {
        Box::pin(self.call(move |tx| Request::FailWorkflowTask {
            token,
            failure: Box::new(failure),
            nondeterminism,
            tx,
        }))
    }

    fn poll_activity_task<'a>(
        &'a self,
        namespace: &'a str,
        task_queue: &'a str,
    ) -> BoxFuture<'a, Result<Option<ActivityTask>, BackendError>> {
        let queue = (namespace.into(), task_queue.into());
        Box::pin(self.poll(move |tx| Request::PollActivityTask(queue, tx)))
    }

    fn complete_activity_task(
        &self,
        token: TaskToken,
        result: ActivityTaskResult,
    ) -> BoxFuture<'_, Result<(), BackendError>> {
        Box::pin(self.call(move |tx| Request::CompleteActivityTask(token, Box::new(result), tx)))
    }

    fn describe<'a>(
        &'a self,
        namespace: &'a str,
        workflow_id: &'a str,
        run_id: Option<&'a str>,
    ) -> BoxFuture<'a, Result<Description, BackendError>> {
        let target = target(namespace, workflow_id, run_id);
        Box::pin(async move {
            match self
                .call(|tx| Request::Describe(target.clone(), tx))
                .await?
            {
                Lookup::Now(description) => Ok(description),
                Lookup::Stored(rx) => {
                    let run = stored(&target, rx).await?;
                    Ok(RunState::from_stored(&run)?.describe())
                }
            }
        })
    }

    fn history<'a>(
        &'a self,
        namespace: &'a str,
        workflow_id: &'a str,
        run_id: Option<&'a str>,
    ) -> BoxFuture<'a, Result<Vec<Event>, BackendError>> {
        let target = target(namespace, workflow_id, run_id);
        Box::pin(async move {
            let rx = self.call(|tx| Request::History(target.clone(), tx)).await?;
            let run = stored(&target, rx).await?;
            encoding::events_from(&run.events, 1)
        })
    }

    fn wait_durable(&self) -> BoxFuture<'_, Result<(), BackendError>> {
        Box::pin(self.call(Request::WaitDurable))
    }

    fn create_schedule(
        &self,
        namespace: String,
        id: String,
        schedule: Schedule,
    ) -> BoxFuture<'_, Result<(), BackendError>> {
        let schedule = Box::new(schedule);
        self.schedule_call(move |tx| ScheduleCall::Create {
            namespace,
            id,
            schedule,
            tx,
        })
    }

    fn describe_schedule(
        &self,
        namespace: String,
        id: String,
    ) -> BoxFuture<'_, Result<ScheduleDescription, BackendError>> {
        self.schedule_call(move |tx| ScheduleCall::Describe { namespace, id, tx })
    }

    fn update_schedule(
        &self,
        namespace: String,
        id: String,
        schedule: Schedule,
        conflict_token: Option<u64>,
    ) -> BoxFuture<'_, Result<(), BackendError>> {
        let schedule = Box::new(schedule);
        self.schedule_call(move |tx| ScheduleCall::Update {
            namespace,
            id,
            schedule,
            conflict_token,
            tx,
        })
    }

    fn delete_schedule(
        &self,
        namespace: String,
        id: String,
    ) -> BoxFuture<'_, Result<(), BackendError>> {
        self.schedule_call(move |tx| ScheduleCall::Delete { namespace, id, tx })
    }

    fn list_schedules(
        &self,
        namespace: String,
    ) -> BoxFuture<'_, Result<Vec<ScheduleListEntry>, BackendError>> {
        self.schedule_call(move |tx| ScheduleCall::List { namespace, tx })
    }

    fn trigger_schedule(
        &self,
        namespace: String,
        id: String,
        overlap: Option<OverlapPolicy>,
    ) -> BoxFuture<'_, Result<(), BackendError>> {
        self.schedule_call(move |tx| ScheduleCall::Trigger {
            namespace,
            id,
            overlap,
            tx,
        })
    }

    fn backfill_schedule(
        &self,
        namespace: String,
        id: String,
        backfills: Vec<Backfill>,
    ) -> BoxFuture<'_, Result<(), BackendError>> {
        self.schedule_call(move |tx| ScheduleCall::Backfill {
            namespace,
            id,
            backfills,
            tx,
        })
    }

    fn pause_schedule(
        &self,
        namespace: String,
        id: String,
        paused: bool,
        note: Option<String>,
    ) -> BoxFuture<'_, Result<(), BackendError>> {
        self.schedule_call(move |tx| ScheduleCall::Pause {
            namespace,
            id,
            paused,
            note,
            tx,
        })
    }

    fn list_workflows(
        &self,
        namespace: String,
        query: String,
    ) -> BoxFuture<'_, Result<Vec<WorkflowExecutionInfo>, BackendError>> {
        Box::pin(async move {
            match self.visibility(namespace, query, false).await? {
                visibility::Answer::List(runs) => Ok(runs),
                visibility::Answer::Count(_) => {
                    Err(BackendError::Store("a count for a list".into()))
                }
            }
        })
    }

    fn count_workflows(
        &self,
        namespace: String,
        query: String,
    ) -> BoxFuture<'_, Result<WorkflowExecutionCount, BackendError>> {
        Box::pin(async move {
            match self.visibility(namespace, query, true).await? {
                visibility::Answer::Count(count) => Ok(count),
                visibility::Answer::List(_) => {
                    Err(BackendError::Store("a list for a count".into()))
                }
            }
        })
    }

    fn wait_result<'a>(
        &'a self,
        namespace: &'a str,
        workflow_id: &'a str,
        run_id: Option<&'a str>,
    ) -> BoxFuture<'a, Result<RunOutcome, BackendError>> {
        let mut target = target(namespace, workflow_id, run_id);
        Box::pin(async move {
            // Follows continue-as-new to the chain's last run.
            loop {
                let outcome = match self
                    .call(|tx| Request::WaitResult(target.clone(), tx))
                    .await?
                {
                    Lookup::Now(outcome) => outcome,
                    Lookup::Stored(rx) => {
                        let run = stored(&target, rx).await?;
                        RunState::from_stored(&run)?.outcome.ok_or_else(|| {
                            BackendError::Store(format!(
                                "closed run {} has no outcome",
                                run.row.run_id
                            ))
                        })?
                    }
                };
                match outcome {
                    RunOutcome::ContinuedAsNew { new_run_id }
                    | RunOutcome::Retried { new_run_id, .. } => {
                        target.run_id = Some(new_run_id);
                    }
                    other => return Ok(other),
                }
            }
        })
    }
}
