//! The Schedule example: its walk through the reference's five functions
//! on both stores on the time-skipping clock, as the tour runs it, and the
//! history of a scheduled workflow pinned by a snapshot.

mod common;

use std::sync::Arc;

use weft::Client;
use weft::engine::{Engine, EngineOptions, MemoryStore, SqliteStore, VirtualClock};
use weft::replay::Replayer;
use weft_examples::schedule::{self, ScheduledWorkflow};

const LINES: [&str; 6] = [
    "interval: 3 actions, 2 minutes apart: Processed: scheduled data",
    "cron: next 10 actions on weekdays at 09:00 UTC",
    "trigger: 1 action now",
    "backfill: 58 actions for 2:00 to 0:05 before now, both ends included",
    "manage: paused, unpaused and updated: note \"Updated schedule\", 10 next times",
    "list: complex-schedule-id, cron-schedule-id, interval-schedule-id",
];

both_stores! {
    schedule_walks_through_the_reference(sqlite) {
        let clock = VirtualClock::new();
        let options = EngineOptions { clock: Arc::new(clock.clone()), ..EngineOptions::default() };
        let dir = tempfile::tempdir().unwrap();
        let engine = if sqlite {
            Engine::start(SqliteStore::open(dir.path().join("weft.db")).unwrap(), options).unwrap()
        } else {
            Engine::start(MemoryStore::new(), options).unwrap()
        };
        let client = Client::new(engine.clone());
        let worker = schedule::worker(&client).start().unwrap();
        let walk = schedule::walk_through(&client, &clock).await.unwrap();
        assert_eq!(walk.lines, LINES);
        // The first action's workflow: `<action id>-<time>`.
        let run = &walk.first_run;
        let id = &run.workflow_id;
        assert!(id.starts_with("scheduled-workflow-id-20") && id.ends_with('Z'), "{id}");
        let events = client
            .workflow_handle::<ScheduledWorkflow>(id, Some(run.run_id.clone()))
            .history()
            .await
            .unwrap();
        let names: Vec<&str> = events.iter().map(|e| e.attributes.name()).collect();
        insta::assert_snapshot!("scheduled_workflow", names.join("\n"));
        let mut replayer = Replayer::new();
        replayer.register_workflow::<ScheduledWorkflow>();
        replayer.replay(&events).unwrap();
        assert!(client.list_schedules().await.unwrap().is_empty());
        worker.shutdown().await;
        engine.shutdown().await;
    }
}

/// As the tour runs it: on an engine of its own, whatever client it is given.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schedule_runs_in_the_tour_on_its_own_clock() {
    let env = common::env(true).await;
    assert_eq!(schedule::run(&env.client).await.unwrap(), LINES);
    assert!(env.client.list_schedules().await.unwrap().is_empty());
    env.engine.shutdown().await;
}
