//! Every pattern example's exported history replays against the current
//! code: the check a deployment runs before shipping a workflow change.

use weft::Client;
use weft::engine::Engine;
use weft::replay::Replayer;
use weft_examples::activity_choice;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_example_history_replays_from_its_json_export() {
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::sqlite(&dir.path().join("det.db")).await.unwrap();
    let client = Client::new(engine.clone());
    for pattern in weft_examples::patterns() {
        let worker = (pattern.worker)(&client).start().unwrap();
        // The examples' own outcomes (a failed workflow included) are
        // checked in patterns.rs; here only their histories matter.
        let _ = (pattern.run)(&client).await.unwrap();
        worker.shutdown().await;
    }
    let replayer = weft_examples::tour::replayer().unwrap();
    for id in weft_examples::tour::REPLAYED_RUNS {
        let json = client
            .workflow_handle::<activity_choice::PurchaseFruits>(id, None)
            .history_json()
            .await
            .unwrap();
        replayer
            .replay_json(&json)
            .unwrap_or_else(|e| panic!("{id}: {e}"));
    }
    engine.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_determinism_chapter_workflow_runs_and_replays() {
    use weft_examples::determinism::{self, Shop};
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::sqlite(&dir.path().join("shop.db")).await.unwrap();
    let client = Client::new(engine.clone());
    let worker = determinism::worker(&client).start().unwrap();
    let a = determinism::run(&client, "shop-1").await.unwrap();
    let b = determinism::run(&client, "shop-2").await.unwrap();
    worker.shutdown().await;
    assert_eq!(a.total, 42);
    assert_eq!(a.receipt.as_deref(), Some("receipt for 42"));
    assert_eq!(a.order_id.len(), 36, "a v4 UUID: {}", a.order_id);
    assert_ne!(a.order_id, b.order_id, "each run has its own seed");
    let mut replayer = Replayer::new();
    replayer.register_workflow::<Shop>();
    for id in ["shop-1", "shop-2"] {
        let handle = client.workflow_handle::<Shop>(id, None);
        let events = handle.history().await.unwrap();
        let markers: Vec<_> = events
            .iter()
            .filter_map(|e| match &e.attributes {
                weft::history::EventAttributes::MarkerRecorded { marker_name, .. } => {
                    Some(marker_name.as_str())
                }
                _ => None,
            })
            .collect();
        assert_eq!(markers, ["core_side_effect", "core_patch"], "{id}");
        replayer
            .replay(&events)
            .unwrap_or_else(|e| panic!("{id}: {e}"));
    }
    engine.shutdown().await;
}
