//! Limits on what one run may have pending (`EngineOptions::pending_limits`,
//! Temporal's 2,000 of each by default): a workflow task whose commands
//! would go over one fails with the cause Temporal gives it
//! (`PendingActivitiesLimitExceeded`, ..), is retried, and `describe`
//! says why and which option to change; within the limit, the same code
//! runs. On both stores.

mod support;

use weft::engine::{Engine, EngineOptions, MemoryStore, PendingLimits, SqliteStore};
use weft::history::{EventAttributes, WorkflowTaskFailedCause};
use weft::prelude::*;
use weft::worker::WorkerHandle;

use support::{history_until, within};

const QUEUE: &str = "limits";

#[activity(start_to_close_timeout = "10s")]
async fn echo(n: u32) -> Result<u32, ApplicationError> {
    Ok(n)
}

/// Runs `n` activities at once and adds their results.
#[workflow]
async fn fan_out(ctx: WorkflowContext, n: u32) -> WorkflowResult<u32> {
    let calls = (0..n).map(|i| ctx.activity(ECHO, i));
    Ok(try_join_all(calls).await?.into_iter().sum())
}

/// Does nothing; the child of `spawner`.
#[workflow]
async fn idle(_ctx: WorkflowContext, n: u32) -> WorkflowResult<u32> {
    Ok(n)
}

/// Starts `n` children at once.
#[workflow]
async fn spawner(ctx: WorkflowContext, n: u32) -> WorkflowResult<u32> {
    let id = ctx.info().workflow_id.clone();
    let children =
        (0..n).map(|i| ctx.execute_child(idle, i, ChildOptions::new(format!("{id}-child-{i}"))));
    Ok(try_join_all(children).await?.into_iter().sum())
}

/// Signals `n` workflows that do not exist, at once.
#[workflow]
async fn shouter(ctx: WorkflowContext, n: u32) -> WorkflowResult<u32> {
    let signals: Vec<_> = (0..n)
        .map(|i| ctx.external_workflow(format!("nobody-{i}")))
        .collect();
    let sent = signals.iter().map(|target| target.signal("hello", &()));
    let answers = join_all(sent).await;
    Ok(u32::try_from(answers.len()).unwrap_or(u32::MAX))
}

struct Setup {
    engine: Engine,
    client: Client,
    worker: WorkerHandle,
    _dir: Option<tempfile::TempDir>,
}

fn setup(sqlite: bool, limits: PendingLimits) -> Setup {
    let options = EngineOptions {
        pending_limits: limits,
        ..EngineOptions::default()
    };
    let (engine, dir) = if sqlite {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(dir.path().join("weft.db")).unwrap();
        (Engine::start(store, options).unwrap(), Some(dir))
    } else {
        (Engine::start(MemoryStore::new(), options).unwrap(), None)
    };
    let client = Client::new(engine.clone());
    let worker = Worker::new(&client, QUEUE)
        .register_workflow::<FanOut>()
        .register_workflow::<Idle>()
        .register_workflow::<Spawner>()
        .register_workflow::<Shouter>()
        .register_activity(ECHO)
        .start()
        .unwrap();
    Setup {
        engine,
        client,
        worker,
        _dir: dir,
    }
}

/// Waits for the run's first failed workflow task and returns its cause;
/// checks `describe` names the limit's option; terminates the run.
async fn refused<W: weft::Workflow>(
    h: &WorkflowHandle<W>,
    option: &str,
) -> WorkflowTaskFailedCause {
    let events = history_until(h, |e| {
        matches!(e.attributes, EventAttributes::WorkflowTaskFailed { .. })
    })
    .await;
    let cause = events
        .iter()
        .find_map(|e| match &e.attributes {
            EventAttributes::WorkflowTaskFailed { cause, .. } => Some(*cause),
            _ => None,
        })
        .unwrap();
    let failure = h.describe().await.unwrap().last_workflow_task_failure;
    let failure = failure.expect("describe says why the task failed");
    assert!(failure.contains(option), "{failure}");
    h.terminate("over a limit").await.unwrap();
    cause
}

async fn stop(setup: Setup) {
    setup.worker.shutdown().await;
    setup.engine.shutdown().await;
}

both_stores! {
    activities_over_the_limit_fail_the_task(sqlite) {
        let limits = PendingLimits { activities: 3, ..PendingLimits::default() };
        let s = setup(sqlite, limits);
        let ok = s.client.execute_workflow(fan_out, 3, WorkflowOptions::new("three", QUEUE));
        assert_eq!(within(ok).await.unwrap(), 3);
        let h = s
            .client
            .start_workflow(fan_out, 4, WorkflowOptions::new("four", QUEUE))
            .await
            .unwrap();
        let cause = refused(&h, "pending_limits.activities").await;
        assert_eq!(cause, WorkflowTaskFailedCause::PendingActivitiesLimitExceeded);
        stop(s).await;
    }

    children_over_the_limit_fail_the_task(sqlite) {
        let limits = PendingLimits { children: 2, ..PendingLimits::default() };
        let s = setup(sqlite, limits);
        let ok = s.client.execute_workflow(spawner, 2, WorkflowOptions::new("two", QUEUE));
        assert_eq!(within(ok).await.unwrap(), 1);
        let h = s
            .client
            .start_workflow(spawner, 3, WorkflowOptions::new("three", QUEUE))
            .await
            .unwrap();
        let cause = refused(&h, "pending_limits.children").await;
        assert_eq!(cause, WorkflowTaskFailedCause::PendingChildWorkflowsLimitExceeded);
        stop(s).await;
    }

    signals_over_the_limit_fail_the_task(sqlite) {
        let limits = PendingLimits { signals: 2, ..PendingLimits::default() };
        let s = setup(sqlite, limits);
        let ok = s.client.execute_workflow(shouter, 2, WorkflowOptions::new("two", QUEUE));
        assert_eq!(within(ok).await.unwrap(), 2);
        let h = s
            .client
            .start_workflow(shouter, 3, WorkflowOptions::new("three", QUEUE))
            .await
            .unwrap();
        let cause = refused(&h, "pending_limits.signals").await;
        assert_eq!(cause, WorkflowTaskFailedCause::PendingSignalsLimitExceeded);
        stop(s).await;
    }
}
