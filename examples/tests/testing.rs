//! The book's testing chapter, run: activities tested as functions,
//! workflows on the engine with the test clocks (automatic time skipping,
//! and a manual clock the test moves), histories replayed against the
//! current code, and strict mode.

mod common;

// ANCHOR: imports
use std::sync::Arc;
use std::time::Duration;

use weft::engine::{Engine, EngineOptions, MemoryStore, SqliteStore, VirtualClock};
use weft::prelude::*;
use weft::replay::Replayer;
use weft_examples::approval::{self, Approval, ApprovalHandle};
// ANCHOR_END: imports
use weft_examples::{activity_choice, polling_frequent};

use common::env;

const DAY: Duration = Duration::from_secs(24 * 60 * 60);

// ANCHOR: unit
/// An activity is a function: call it.
#[test]
fn an_activity_is_a_function() {
    assert_eq!(
        activity_choice::order_apples(3).unwrap(),
        "Ordered 3 Apples..."
    );
}

/// One that takes its context gets a test context, whose heartbeats go
/// nowhere.
#[tokio::test]
async fn an_activity_with_a_context() {
    use polling_frequent::{ExternalService, SERVICE_URL};
    let service = ExternalService::new(2);
    let ctx = ActivityContext::for_test("poll_external_service");
    let result = service
        .poll_external_service(ctx, SERVICE_URL.to_string())
        .await
        .unwrap();
    assert_eq!(result.polls, 2);
}
// ANCHOR_END: unit

/// A test clock on either store: an engine, its client, and the SQLite
/// file's directory (kept as long as the engine runs).
fn clocked(sqlite: bool, clock: &VirtualClock) -> (Engine, Client, Option<tempfile::TempDir>) {
    let options = EngineOptions {
        clock: Arc::new(clock.clone()),
        ..EngineOptions::default()
    };
    let (engine, dir) = if sqlite {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(dir.path().join("weft.db")).unwrap();
        (Engine::start(store, options).unwrap(), Some(dir))
    } else {
        (Engine::start(MemoryStore::new(), options).unwrap(), None)
    };
    (engine.clone(), Client::new(engine), dir)
}

both_stores! {
    a_human_approves_after_one_day(sqlite) {
        // ANCHOR: manual_clock
        // Time stands still until the test moves it.
        let clock = VirtualClock::manual();
        let engine = Engine::start(
            MemoryStore::new(),
            EngineOptions {
                clock: Arc::new(clock.clone()),
                ..EngineOptions::default()
            },
        )
        .unwrap();
        let client = Client::new(engine.clone());
        // ANCHOR_END: manual_clock
        let (engine, client, _dir) = if sqlite {
            clocked(true, &clock)
        } else {
            (engine, client, None)
        };
        // ANCHOR: approve_after_a_day
        let worker = approval::worker(&client).start().unwrap();
        let options = WorkflowOptions::new("expense-42", approval::TASK_QUEUE);
        let handle = client
            .start_workflow(Approval::run, "expense 42".into(), options)
            .await
            .unwrap();
        // A day passes, within the two-day timeout; then the human acts.
        clock.advance(DAY);
        handle.approve("ann".into()).await.unwrap();
        let outcome = handle.result().await.unwrap();
        assert_eq!(outcome, "expense 42: approved by ann");
        // ANCHOR_END: approve_after_a_day
        assert!(clock.skipped() >= DAY && clock.skipped() < 2 * DAY);
        worker.shutdown().await;
        engine.shutdown().await;
    }

    without_an_approval_the_request_times_out(sqlite) {
        let clock = VirtualClock::manual();
        let (engine, client, _dir) = clocked(sqlite, &clock);
        let worker = approval::worker(&client).start().unwrap();
        // ANCHOR: skip_to_the_timeout
        let options = WorkflowOptions::new("expense-43", approval::TASK_QUEUE);
        let handle = client
            .start_workflow(Approval::run, "expense 43".into(), options)
            .await
            .unwrap();
        // Once the run waits, move time to its next timer: the timeout.
        tokio::time::timeout(Duration::from_secs(30), clock.skip_to_next_deadline())
            .await
            .unwrap();
        let outcome = handle.result().await.unwrap();
        assert_eq!(outcome, "expense 43: no approval within two days");
        // ANCHOR_END: skip_to_the_timeout
        // Two days, less the part of a millisecond engine time drops.
        assert!(clock.skipped() + Duration::from_millis(1) >= approval::APPROVAL_TIMEOUT);
        worker.shutdown().await;
        engine.shutdown().await;
    }

    an_automatic_clock_skips_the_wait(sqlite) {
        // ANCHOR: auto_clock
        // Time jumps to the next deadline whenever the engine is idle.
        let clock = VirtualClock::new();
        // ANCHOR_END: auto_clock
        let (engine, client, _dir) = clocked(sqlite, &clock);
        let worker = approval::worker(&client).start().unwrap();
        let options = WorkflowOptions::new("expense-44", approval::TASK_QUEUE);
        let outcome = client
            .execute_workflow(Approval::run, "expense 44".into(), options)
            .await
            .unwrap();
        // Nobody approved: two days passed in moments.
        assert_eq!(outcome, "expense 44: no approval within two days");
        worker.shutdown().await;
        engine.shutdown().await;
    }

    histories_replay_against_the_current_code(sqlite) {
        let env = env(sqlite).await;
        let worker = approval::worker(&env.client).start().unwrap();
        let outcome = approval::request_and_approve(&env.client, "expense-45", "expense 45", "bob")
            .await
            .unwrap();
        assert_eq!(outcome, "expense 45: approved by bob");
        // ANCHOR: replay
        // Export a run's history (a deployment keeps a few in its tests)...
        let handle = env.client.workflow_handle::<Approval>("expense-45", None);
        let json = handle.history_json().await.unwrap();
        // ...and replay it against the code about to ship: a change that
        // would make the run take another path is an error here.
        let mut replayer = Replayer::new();
        replayer.register_workflow::<Approval>();
        replayer.replay_json(&json).unwrap();
        // ANCHOR_END: replay
        worker.shutdown().await;
    }

    strict_mode_replays_every_task(sqlite) {
        let env = env(sqlite).await;
        // ANCHOR: strict
        // Each workflow task is replayed from scratch after it runs, and
        // commands that differ fail it: code that depends on something
        // other than history is caught on its first run.
        let options = WorkerOptions {
            strict_replay: true,
            max_cached_workflows: 0,
            ..WorkerOptions::default()
        };
        let worker = approval::worker(&env.client).with_options(options).start().unwrap();
        // ANCHOR_END: strict
        let outcome = approval::request_and_approve(&env.client, "expense-46", "expense 46", "cy")
            .await
            .unwrap();
        assert_eq!(outcome, "expense 46: approved by cy");
        worker.shutdown().await;
    }
}
