//! The Concurrent Timers and Cancellation examples: their tour runs on both
//! stores, the maintenance plan in real days on the time-skipping clock, and
//! a cancellation arriving at each await point of the cancellation workflow.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::Notify;
use weft::backend::RunStatus;
use weft::engine::{Engine, EngineOptions, MemoryStore, VirtualClock};
use weft::history::Event;
use weft::replay::Replayer;
use weft::{Client, ClientError, Failure, WorkflowHandle};
use weft_examples::cancellation::{self, CancellationWorkflow, Steps};
use weft_examples::concurrent_timers::{self, MaintenancePlan, MaintenanceWorkflow};
use weft_examples::support::options;

use common::env;

const DAY_MS: u64 = 24 * 60 * 60 * 1000;

fn count(events: &[Event], name: &str) -> usize {
    events
        .iter()
        .filter(|e| e.attributes.name() == name)
        .count()
}

async fn within<F: std::future::Future>(f: F) -> F::Output {
    tokio::time::timeout(Duration::from_secs(60), f)
        .await
        .expect("timed out")
}

/// Starts the cancellation workflow as `id` and waits until its activity
/// has heartbeated (it runs, and its heartbeat can be answered).
async fn start_heartbeating(
    client: &Client,
    steps: &Steps,
    id: &str,
) -> WorkflowHandle<CancellationWorkflow> {
    let heartbeat = steps.next_heartbeat();
    let h = client
        .start_workflow(
            CancellationWorkflow::run,
            (),
            options(id, cancellation::TASK_QUEUE),
        )
        .await
        .unwrap();
    within(heartbeat).await;
    h
}

/// Asserts the run closed canceled: its status, and `result()`'s cause.
async fn assert_canceled(h: &WorkflowHandle<CancellationWorkflow>) {
    match h.result().await {
        Err(ClientError::Workflow(e)) => {
            assert!(matches!(e.cause, Failure::Canceled(_)), "{e:?}")
        }
        other => panic!("expected a canceled run, got {other:?}"),
    }
    assert_eq!(h.describe().await.unwrap().status, RunStatus::Canceled);
}

both_stores! {
    concurrent_timers_tour_counts_each_schedule(sqlite) {
        let env = env(sqlite).await;
        let w = concurrent_timers::worker(&env.client).start().unwrap();
        let lines = concurrent_timers::run(&env.client).await.unwrap();
        assert_eq!(
            lines[0],
            "1,096 days (1 day = 1 ms): oil change 12, inspection 3, coolant 1"
        );
        let events = env
            .client
            .workflow_handle::<MaintenanceWorkflow>(concurrent_timers::WORKFLOW_ID, None)
            .history()
            .await
            .unwrap();
        // 16 notifications, each after its own timer; the timers that
        // outlive the plan are never started, so none is cancelled.
        assert_eq!(count(&events, "TimerStarted"), 16);
        assert_eq!(count(&events, "TimerFired"), 16);
        assert_eq!(count(&events, "TimerCanceled"), 0);
        assert_eq!(count(&events, "ActivityTaskCompleted"), 16);
        let mut replayer = Replayer::new();
        replayer.register_workflow::<MaintenanceWorkflow>();
        replayer.replay(&events).unwrap();
        w.shutdown().await;
        env.engine.shutdown().await;
    }

    cancellation_tour_cleans_up_and_ends_canceled(sqlite) {
        let env = env(sqlite).await;
        let steps = Arc::new(Steps::new());
        let w = cancellation::worker_with(&env.client, steps.clone()).start().unwrap();
        let lines = cancellation::run_with(&env.client, &steps).await.unwrap();
        assert_eq!(lines[0], "cleanup: Executing cleanup activity");
        assert!(lines[1].starts_with("status: Canceled"), "{}", lines[1]);
        assert_eq!((steps.cleanups(), steps.stops()), (1, 1));
        let h = env
            .client
            .workflow_handle::<CancellationWorkflow>(cancellation::WORKFLOW_ID, None);
        let events = h.history().await.unwrap();
        assert_eq!(count(&events, "WorkflowExecutionCancelRequested"), 1);
        assert_eq!(count(&events, "ActivityTaskCancelRequested"), 1);
        assert_eq!(
            events.last().map(|e| e.attributes.name()),
            Some("WorkflowExecutionCanceled")
        );
        let mut replayer = Replayer::new();
        replayer.register_workflow::<CancellationWorkflow>();
        replayer.replay(&events).unwrap();
        w.shutdown().await;
        env.engine.shutdown().await;
    }

    cancel_before_the_first_workflow_task(sqlite) {
        let env = env(sqlite).await;
        let h = env
            .client
            .start_workflow(CancellationWorkflow::run, (), options("early", cancellation::TASK_QUEUE))
            .await
            .unwrap();
        h.cancel().await.unwrap();
        // Only now does a worker come.
        let steps = Arc::new(Steps::new());
        let w = cancellation::worker_with(&env.client, steps.clone()).start().unwrap();
        within(assert_canceled(&h)).await;
        // The first await saw the cancellation: its activity never ran; the
        // cleanup ran once.
        assert_eq!((steps.cleanups(), steps.stops()), (1, 0));
        w.shutdown().await;
        env.engine.shutdown().await;
    }

    cancel_while_the_activity_heartbeats(sqlite) {
        let env = env(sqlite).await;
        let steps = Arc::new(Steps::new());
        let w = cancellation::worker_with(&env.client, steps.clone()).start().unwrap();
        let h = start_heartbeating(&env.client, &steps, "midway").await;
        h.cancel().await.unwrap();
        within(assert_canceled(&h)).await;
        within(steps.stopped()).await;
        assert_eq!((steps.cleanups(), steps.stops()), (1, 1));
        w.shutdown().await;
        env.engine.shutdown().await;
    }

    cancel_again_while_the_cleanup_runs(sqlite) {
        let env = env(sqlite).await;
        let gate = Arc::new(Notify::new());
        let steps = Arc::new(Steps::with_cleanup_gate(gate.clone()));
        let w = cancellation::worker_with(&env.client, steps.clone()).start().unwrap();
        let h = start_heartbeating(&env.client, &steps, "twice").await;
        h.cancel().await.unwrap();
        within(steps.cleanup_started()).await;
        // A second request while the cleanup runs changes nothing: the
        // workflow was told once.
        h.cancel().await.unwrap();
        gate.notify_one();
        within(assert_canceled(&h)).await;
        assert_eq!(steps.cleanups(), 1);
        let events = h.history().await.unwrap();
        assert_eq!(count(&events, "WorkflowExecutionCancelRequested"), 1);
        w.shutdown().await;
        env.engine.shutdown().await;
    }

    terminate_runs_no_cleanup(sqlite) {
        let env = env(sqlite).await;
        let steps = Arc::new(Steps::new());
        let w = cancellation::worker_with(&env.client, steps.clone()).start().unwrap();
        let h = start_heartbeating(&env.client, &steps, "terminated").await;
        h.terminate("operator").await.unwrap();
        match h.result().await {
            Err(ClientError::Workflow(e)) => {
                assert!(matches!(e.cause, Failure::Terminated(_)), "{e:?}")
            }
            other => panic!("expected a terminated run, got {other:?}"),
        }
        assert_eq!(h.describe().await.unwrap().status, RunStatus::Terminated);
        // The activity learns it at its next heartbeat; no cleanup runs.
        within(steps.stopped()).await;
        assert_eq!(steps.cleanups(), 0);
        w.shutdown().await;
        env.engine.shutdown().await;
    }
}

/// The scenario: the plan in real days, 1,096 of them, on the
/// time-skipping clock.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_years_of_maintenance_in_simulated_days() {
    let clock = VirtualClock::new();
    let engine = Engine::start(
        MemoryStore::new(),
        EngineOptions {
            clock: Arc::new(clock.clone()),
            ..EngineOptions::default()
        },
    )
    .unwrap();
    let client = Client::new(engine.clone());
    let w = concurrent_timers::worker(&client).start().unwrap();
    let started = Instant::now();
    let plan = MaintenancePlan {
        user_email: "driver@example.com".into(),
        day_ms: DAY_MS,
        days: 1096,
    };
    let notes = within(client.execute_workflow(
        MaintenanceWorkflow::run,
        plan,
        options("three-years", concurrent_timers::TASK_QUEUE),
    ))
    .await
    .unwrap();
    assert_eq!(
        (notes.oil_change, notes.inspection, notes.coolant),
        (12, 3, 1)
    );
    let days: Vec<u32> = notes.sent.iter().map(|(day, _)| *day).collect();
    let mut expected: Vec<u32> = (1..=12)
        .map(|k| 90 * k)
        .chain([365, 730, 1095, 730])
        .collect();
    expected.sort();
    assert_eq!(days, expected);
    // Virtual time is real time plus what was skipped: day 1,095 was reached.
    assert!(
        clock.skipped() + started.elapsed() >= Duration::from_millis(1095 * DAY_MS),
        "skipped {:?}",
        clock.skipped()
    );
    println!(
        "1,096 simulated days in {:?} of wall time",
        started.elapsed()
    );
    w.shutdown().await;
    engine.shutdown().await;
}
