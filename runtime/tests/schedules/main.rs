//! Schedules on the embedded engine, on both stores and the time-skipping
//! clock: the spec's times reach workflows, every overlap policy with a
//! workflow that outlives its interval, triggers, backfills, pauses,
//! updates, limited actions, failures, time zones across a DST change, and
//! restarts within and past the catch-up window.

#[path = "../support/mod.rs"]
mod support;

mod lifecycle;
mod overlap;
mod time;

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use weft::backend::{BackendError, RunStatus};
use weft::engine::{Clock, Engine, EngineOptions, MemoryStore, SqliteStore, VirtualClock};
use weft::prelude::*;
use weft::schedule::{OverlapPolicy, Schedule, ScheduleAction, ScheduleDescription, ScheduleSpec};
use weft::worker::WorkerHandle;
use weft::{ClientError, WorkflowHandle};

pub const QUEUE: &str = "scheduled";

/// Sleeps the milliseconds it is given on a durable timer, then returns
/// them. Cancelled, it ends canceled.
#[workflow]
#[derive(Default)]
pub struct Nap;

#[workflow]
impl Nap {
    #[run]
    pub async fn run(ctx: WorkflowContext<Self>, ms: u64) -> WorkflowResult<u64> {
        ctx.sleep(Duration::from_millis(ms)).await?;
        Ok(ms)
    }
}

/// Fails at once.
#[workflow]
#[derive(Default)]
pub struct Fails;

#[workflow]
impl Fails {
    #[run]
    pub async fn run(_ctx: WorkflowContext<Self>, _input: ()) -> WorkflowResult<()> {
        Err(ApplicationError::new("scheduled failure").into())
    }
}

/// An engine on the time-skipping clock, on SQLite or memory, with a
/// client and a worker for the test workflows.
pub struct Skipping {
    pub clock: VirtualClock,
    pub engine: Engine,
    pub client: Client,
    pub worker: Option<WorkerHandle>,
    pub dir: Option<tempfile::TempDir>,
}

pub fn options(clock: &VirtualClock) -> EngineOptions {
    EngineOptions {
        clock: Arc::new(clock.clone()),
        ..EngineOptions::default()
    }
}

impl Skipping {
    pub async fn new(sqlite: bool) -> Skipping {
        Skipping::at(sqlite, VirtualClock::new()).await
    }

    /// An engine whose clock is `clock` (already moved where the test
    /// wants it).
    pub async fn at(sqlite: bool, clock: VirtualClock) -> Skipping {
        let (engine, dir) = if sqlite {
            let dir = tempfile::tempdir().unwrap();
            let store = SqliteStore::open(dir.path().join("weft.db")).unwrap();
            (Engine::start(store, options(&clock)).unwrap(), Some(dir))
        } else {
            (
                Engine::start(MemoryStore::new(), options(&clock)).unwrap(),
                None,
            )
        };
        let client = Client::new(engine.clone());
        let worker = Some(worker(&client));
        Skipping {
            clock,
            engine,
            client,
            worker,
            dir,
        }
    }

    pub async fn shutdown(mut self) {
        if let Some(worker) = self.worker.take() {
            worker.shutdown().await;
        }
        self.engine.shutdown().await;
    }
}

pub fn worker(client: &Client) -> WorkerHandle {
    let worker = Worker::new(client, QUEUE)
        .register_workflow::<Nap>()
        .register_workflow::<Fails>();
    worker.start().unwrap()
}

/// A schedule starting `Nap` with `ms`, as workflow id `id`.
pub fn nap(id: &str, ms: u64, spec: ScheduleSpec) -> Schedule {
    let action = ScheduleAction::start_workflow(Nap::run, ms, id, QUEUE).unwrap();
    Schedule::new(action, spec)
}

/// The first multiple of `every` at least `ahead` after the clock's now.
pub fn boundary(clock: &VirtualClock, ahead: Duration, every: Duration) -> SystemTime {
    let at = clock.now() + ahead;
    let ms = at.duration_since(UNIX_EPOCH).unwrap().as_millis();
    let every_ms = every.as_millis();
    UNIX_EPOCH + Duration::from_millis(u64::try_from(ms.div_ceil(every_ms) * every_ms).unwrap())
}

/// The id of the workflow a schedule's action `id` starts for `nominal`.
pub fn scheduled_id(id: &str, nominal: SystemTime) -> String {
    let t = chrono::DateTime::<chrono::Utc>::from(nominal)
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    format!("{id}-{t}")
}

/// A handle to the workflow `workflow_id` once the schedule has started
/// it. Its start cannot be awaited through the client (the engine starts
/// it), so the workflow is looked up until it exists, for at most 30 s.
pub async fn started<W: weft::Workflow>(client: &Client, workflow_id: &str) -> WorkflowHandle<W> {
    let handle = client.workflow_handle::<W>(workflow_id, None);
    for _ in 0..6000 {
        match handle.describe().await {
            Ok(_) => return handle,
            Err(ClientError::Backend(BackendError::NotFound { .. })) => {
                tokio::time::sleep(Duration::from_millis(5)).await
            }
            Err(e) => panic!("describe {workflow_id}: {e}"),
        }
    }
    panic!("the schedule never started {workflow_id}");
}

/// The schedule's description once `done` holds of it (there is no call
/// that awaits a schedule's progress), for at most 30 s.
pub async fn described(
    handle: &weft::ScheduleHandle,
    done: impl Fn(&ScheduleDescription) -> bool,
) -> ScheduleDescription {
    let mut last = None;
    for _ in 0..6000 {
        let d = handle.describe().await.unwrap();
        if done(&d) {
            return d;
        }
        last = Some(d);
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    panic!("the schedule never got there: {last:#?}");
}

/// The final status of each workflow.
pub async fn statuses(client: &Client, ids: &[String]) -> Vec<RunStatus> {
    let mut out = Vec::new();
    for id in ids {
        let h = started::<Nap>(client, id).await;
        let _ = h.result().await;
        out.push(h.describe().await.unwrap().status);
    }
    out
}
