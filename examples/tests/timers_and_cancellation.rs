//! The Concurrent Timers and Cancellation examples: their tour runs on both
//! stores, the maintenance plan in real days on the time-skipping clock, and
//! a cancellation arriving at each await point of the cancellation workflow,
//! observed through stand-ins for its activities.

mod common;

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use tokio::sync::{Notify, watch};
use weft::backend::RunStatus;
use weft::engine::{Engine, EngineOptions, MemoryStore, VirtualClock};
use weft::history::Event;
use weft::prelude::*;
use weft::replay::Replayer;
use weft_examples::cancellation::{self, CancellationWorkflow};
use weft_examples::concurrent_timers::{self, MaintenancePlan, MaintenanceWorkflow};
use weft_examples::tour;

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

/// Stand-ins for the cancellation example's activities, registered under
/// their type names: they behave the same, and count what happens, and
/// can hold the cleanup while a test acts.
#[derive(Debug)]
struct Steps {
    /// Heartbeats sent by `never_complete_activity`, across attempts.
    beats: watch::Sender<u32>,
    /// Runs of the cleanup activity.
    cleanups: AtomicU32,
    /// Times `never_complete_activity` stopped on a cancellation.
    stops: AtomicU32,
    stopped: Notify,
    /// When set, the cleanup waits for it.
    cleanup_gate: Option<Arc<Notify>>,
    cleanup_started: Notify,
}

impl Steps {
    fn new() -> Self {
        Steps {
            beats: watch::Sender::new(0),
            cleanups: AtomicU32::new(0),
            stops: AtomicU32::new(0),
            stopped: Notify::new(),
            cleanup_gate: None,
            cleanup_started: Notify::new(),
        }
    }

    fn with_cleanup_gate(gate: Arc<Notify>) -> Self {
        Steps {
            cleanup_gate: Some(gate),
            ..Steps::new()
        }
    }

    fn counts(&self) -> (u32, u32) {
        (
            self.cleanups.load(Ordering::SeqCst),
            self.stops.load(Ordering::SeqCst),
        )
    }

    /// Resolves at the next heartbeat after this call.
    fn next_heartbeat(&self) -> impl Future<Output = ()> + Send + 'static {
        let mut beats = self.beats.subscribe();
        let now = *beats.borrow_and_update();
        async move {
            // An error only if the sender is gone: nothing more will come.
            let _ = beats.wait_for(|b| *b > now).await;
        }
    }
}

#[activity]
impl Steps {
    #[activity(name = "never_complete_activity")]
    async fn never_complete(&self, ctx: ActivityContext) -> Result<(), Failure> {
        loop {
            if let Err(cancelled) = ctx.heartbeat(&()) {
                self.stops.fetch_add(1, Ordering::SeqCst);
                self.stopped.notify_one();
                return Err(cancelled);
            }
            self.beats.send_modify(|b| *b += 1);
            tokio::select! {
                () = tokio::time::sleep(Duration::from_millis(100)) => {}
                () = ctx.cancelled() => {}
            }
        }
    }

    #[activity(name = "cleanup_activity")]
    async fn cleanup(&self) -> Result<(), ApplicationError> {
        self.cleanup_started.notify_one();
        if let Some(gate) = &self.cleanup_gate {
            gate.notified().await;
        }
        self.cleanups.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }
}

/// A worker running the example's workflow with the stand-in activities.
fn worker(client: &Client, steps: Arc<Steps>) -> weft::worker::WorkerHandle {
    Worker::new(client, cancellation::TASK_QUEUE)
        .register_workflow::<CancellationWorkflow>()
        .register_activities(steps)
        .start()
        .unwrap()
}

/// Starts the cancellation workflow as `id` and waits until its activity
/// has heartbeated (it runs, and its heartbeat can be answered).
async fn start_heartbeating(
    client: &Client,
    steps: &Steps,
    id: &str,
) -> WorkflowHandle<CancellationWorkflow> {
    let heartbeat = steps.next_heartbeat();
    let h = cancellation::start(client, id).await.unwrap();
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

each_backend! {
    concurrent_timers_tour_counts_each_schedule(backend) {
        let env = on(backend).await;
        let w = concurrent_timers::worker(&env.client).start().unwrap();
        let lines = tour::concurrent_timers_run(&env.client).await.unwrap();
        // A Temporal server fires timers of a millisecond late, so the
        // counts differ there (the book's "Running on Temporal" lists it).
        if !backend.is_temporal() {
            assert_eq!(
                lines[0],
                "1,096 days (1 day = 1 ms): oil change 12, inspection 3, coolant 1"
            );
        }
        let events = env
            .client
            .workflow_handle::<MaintenanceWorkflow>(tour::MAINTENANCE_ID, None)
            .history()
            .await
            .unwrap();
        // 16 notifications, each after its own timer; each timer that fired
        // was replaced. Of the three replacements set past the plan's end,
        // the two already awaited are cancelled when the run returns; the
        // last one was never awaited, so never started.
        // On every backend: each notification follows a timer of its own,
        // and every timer started either fired or was cancelled. (Late
        // timers on Temporal can fire past the plan's end together, with
        // no notification left to send.)
        let fired = count(&events, "TimerFired");
        assert!(count(&events, "ActivityTaskCompleted") <= fired);
        assert_eq!(count(&events, "TimerStarted"), fired + count(&events, "TimerCanceled"));
        if !backend.is_temporal() {
            assert_eq!(count(&events, "ActivityTaskCompleted"), 16);
            assert_eq!(count(&events, "TimerStarted"), 18);
            assert_eq!(fired, 16);
            assert_eq!(count(&events, "TimerCanceled"), 2);
        }
        let mut replayer = Replayer::new();
        replayer.register_workflow::<MaintenanceWorkflow>();
        replayer.replay(&events).unwrap();
        w.shutdown().await;
        env.shutdown().await;
    }

    cancellation_tour_cleans_up_and_ends_canceled(backend) {
        let env = on(backend).await;
        let w = cancellation::worker(&env.client).start().unwrap();
        let lines = tour::cancellation_run(&env.client).await.unwrap();
        assert_eq!(lines[0], "cleanups run: 1");
        assert!(lines[1].starts_with("status: Canceled"), "{}", lines[1]);
        let h = env
            .client
            .workflow_handle::<CancellationWorkflow>(tour::CANCELLATION_ID, None);
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
        env.shutdown().await;
    }

    cancel_before_the_first_workflow_task(backend) {
        let env = on(backend).await;
        let h = cancellation::start(&env.client, "early").await.unwrap();
        h.cancel().await.unwrap();
        // Only now does a worker come.
        let steps = Arc::new(Steps::new());
        let w = worker(&env.client, steps.clone());
        within(assert_canceled(&h)).await;
        // The first await saw the cancellation: its activity never ran; the
        // cleanup ran once.
        assert_eq!(steps.counts(), (1, 0));
        w.shutdown().await;
        env.shutdown().await;
    }

    cancel_while_the_activity_heartbeats(backend) {
        let env = on(backend).await;
        let steps = Arc::new(Steps::new());
        let w = worker(&env.client, steps.clone());
        let h = start_heartbeating(&env.client, &steps, "midway").await;
        h.cancel().await.unwrap();
        within(assert_canceled(&h)).await;
        within(steps.stopped.notified()).await;
        assert_eq!(steps.counts(), (1, 1));
        w.shutdown().await;
        env.shutdown().await;
    }

    cancel_again_while_the_cleanup_runs(backend) {
        let env = on(backend).await;
        let gate = Arc::new(Notify::new());
        let steps = Arc::new(Steps::with_cleanup_gate(gate.clone()));
        let w = worker(&env.client, steps.clone());
        let h = start_heartbeating(&env.client, &steps, "twice").await;
        h.cancel().await.unwrap();
        within(steps.cleanup_started.notified()).await;
        // A second request while the cleanup runs changes nothing: the
        // workflow was told once.
        h.cancel().await.unwrap();
        gate.notify_one();
        within(assert_canceled(&h)).await;
        assert_eq!(steps.counts().0, 1);
        let events = h.history().await.unwrap();
        assert_eq!(count(&events, "WorkflowExecutionCancelRequested"), 1);
        w.shutdown().await;
        env.shutdown().await;
    }

    terminate_runs_no_cleanup(backend) {
        let env = on(backend).await;
        let steps = Arc::new(Steps::new());
        let w = worker(&env.client, steps.clone());
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
        within(steps.stopped.notified()).await;
        assert_eq!(steps.counts().0, 0);
        w.shutdown().await;
        env.shutdown().await;
    }
}

/// The scenario: the plan in real days, 1,096 of them, on the
/// time-skipping clock.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_years_of_maintenance_in_simulated_days() {
    // ANCHOR: three_years
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
    let sent = within(concurrent_timers::run(&client, "three-years", plan))
        .await
        .unwrap();
    let days: Vec<u32> = sent.iter().map(|(day, _)| *day).collect();
    let mut expected: Vec<u32> = (1..=12)
        .map(|k| 90 * k)
        .chain([365, 730, 1095, 730])
        .collect();
    expected.sort();
    assert_eq!(days, expected);
    // ANCHOR_END: three_years
    let oil = sent
        .iter()
        .filter(|(_, m)| m.contains("oil change"))
        .count();
    assert_eq!(oil, 12);
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
