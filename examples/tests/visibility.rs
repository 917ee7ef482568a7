//! The visibility example prints what its queries found, and its orders'
//! histories hold their upserts; on weft's engine and, built with the
//! feature `temporal`, on a Temporal dev server.

mod common;

use weft::Client;
use weft::engine::{Engine, SqliteStore};
use weft::history::{Event, EventAttributes};
use weft_examples::visibility::{self, OrderWorkflow};

/// What the example prints, on every backend.
const LINES: [&str; 4] = [
    "urgent: order-2, order-1",
    "packing: order-2, order-3",
    "acme: 3 (\"Completed\" 2, \"Running\" 1)",
    "shipped: 4",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_visibility_example_finds_its_orders() {
    let dir = tempfile::tempdir().unwrap();
    let lines = visibility::run(&dir.path().join("weft.db")).await.unwrap();
    assert_eq!(lines, LINES);
}

#[cfg(feature = "temporal")]
mod temporal {
    use super::*;
    use common::temporal_support;

    /// The same walk on a dev server, its search attributes registered
    /// there (`temporal server start-dev --search-attribute`).
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_visibility_example_finds_its_orders() {
        let attributes = ["CustomerId=Keyword", "Priority=Int", "Stage=Keyword"];
        let Some(server) = temporal_support::start(&attributes).await else {
            return;
        };
        let client = server.client().await;
        let worker = visibility::worker(&client).start().unwrap();
        let lines = visibility::walk(&client).await.unwrap();
        worker.shutdown().await;
        assert_eq!(lines, LINES);
    }
}

/// One line per event; search attributes with their values.
fn render(events: &[Event]) -> String {
    let mut out = String::new();
    for e in events {
        let detail = match &e.attributes {
            EventAttributes::WorkflowExecutionStarted {
                search_attributes, ..
            } => search_attributes
                .iter()
                .map(|(name, value)| format!(" {name}={value}"))
                .collect(),
            EventAttributes::UpsertWorkflowSearchAttributes {
                search_attributes, ..
            } => search_attributes
                .iter()
                .map(|u| match &u.value {
                    Some(value) => format!(" {}={value}", u.name),
                    None => format!(" {} unset", u.name),
                })
                .collect(),
            _ => String::new(),
        };
        out.push_str(&format!(
            "{:2} {}{detail}\n",
            e.event_id,
            e.attributes.name()
        ));
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_orders_history_records_its_upserts() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path().join("weft.db")).unwrap();
    let engine = Engine::start(store, visibility::engine_options()).unwrap();
    let client = Client::new(engine.clone());
    let worker = visibility::worker(&client).start().unwrap();
    visibility::walk(&client).await.unwrap();
    let events = client
        .workflow_handle::<OrderWorkflow>("order-1", None)
        .history()
        .await
        .unwrap();
    insta::assert_snapshot!("order_history", render(&events));
    worker.shutdown().await;
    engine.shutdown().await;
}
