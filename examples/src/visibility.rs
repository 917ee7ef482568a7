//! Visibility: finding runs by what they are and where they stand, with
//! Temporal's list filter. Orders carry search attributes (a customer, a
//! priority) set when they start; each order upserts its stage as it goes,
//! and the client lists and counts them.
//!
//! Runs on an engine of its own in a fresh SQLite file, since custom
//! search attributes are registered when an engine starts.

use std::path::Path;

use serde::{Deserialize, Serialize};
use weft::engine::{Engine, EngineOptions, SqliteStore};
use weft::prelude::*;
use weft::search_attributes::{SearchAttributeKey, SearchAttributeType};
use weft::visibility::WorkflowExecutionInfo;

use crate::support::ExampleError;

/// Task queue of this example.
pub const TASK_QUEUE: &str = "visibility-task-queue";

// ANCHOR: keys
/// The custom search attributes orders carry, typed.
pub fn customer_id() -> SearchAttributeKey<String> {
    SearchAttributeKey::new("CustomerId")
}
pub fn priority() -> SearchAttributeKey<i64> {
    SearchAttributeKey::new("Priority")
}
pub fn stage() -> SearchAttributeKey<String> {
    SearchAttributeKey::new("Stage")
}

/// Registers them (Temporal: `temporal operator search-attribute create`).
pub fn engine_options() -> EngineOptions {
    EngineOptions::default()
        .search_attribute("CustomerId", SearchAttributeType::Keyword)
        .search_attribute("Priority", SearchAttributeType::Int)
        .search_attribute("Stage", SearchAttributeType::Keyword)
}
// ANCHOR_END: keys

/// An order: `ship` says whether it ships now or waits to be released.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Order {
    pub id: u32,
    pub ship: bool,
}

// ANCHOR: workflow
#[workflow]
#[derive(Default)]
pub struct OrderWorkflow {
    released: bool,
}

#[workflow]
impl OrderWorkflow {
    #[run]
    pub async fn run(ctx: WorkflowContext<Self>, order: Order) -> WorkflowResult<String> {
        ctx.upsert_search_attributes([stage().value_set("packing".into())]);
        if !order.ship {
            ctx.wait_condition(|s| s.released).await?;
        }
        ctx.upsert_search_attributes([stage().value_set("shipped".into())]);
        Ok(format!("order {} shipped", order.id))
    }

    #[signal]
    pub fn release(&mut self) {
        self.released = true;
    }

    /// Answered once the run's earlier workflow tasks are durable.
    #[update]
    pub fn ping(&mut self) -> Result<bool, ApplicationError> {
        Ok(self.released)
    }
}
// ANCHOR_END: workflow

/// A worker for this example's task queue.
pub fn worker(client: &Client) -> Worker {
    Worker::new(client, TASK_QUEUE).register_workflow::<OrderWorkflow>()
}

// ANCHOR: start
/// Starts an order with its customer and priority as search attributes.
pub async fn start_order(
    client: &Client,
    order: Order,
    customer: &str,
    level: i64,
) -> Result<WorkflowHandle<OrderWorkflow>, ExampleError> {
    let options = WorkflowOptions::new(format!("order-{}", order.id), TASK_QUEUE)
        .search_attribute(&customer_id(), customer.to_string())
        .search_attribute(&priority(), level);
    Ok(client
        .start_workflow(OrderWorkflow::run, order, options)
        .await?)
}
// ANCHOR_END: start

// ANCHOR: queries
/// What the client finds: lists and counts by type, status, custom
/// attributes and what the workflows upserted. Listed by priority, highest
/// first, sorted here: `ORDER BY Priority DESC` would do it on weft's
/// engine and on a cluster with Elasticsearch visibility, but a Temporal
/// server on SQL visibility (the dev server's) refuses `ORDER BY`.
pub async fn find_orders(client: &Client) -> Result<Vec<String>, ExampleError> {
    let mut lines = Vec::new();
    let urgent = client
        .list_workflows("WorkflowType = 'OrderWorkflow' AND Priority >= 5")
        .await?;
    lines.push(format!("urgent: {}", by_priority(urgent)));
    let waiting = client
        .list_workflows("ExecutionStatus = 'Running' AND Stage = 'packing'")
        .await?;
    lines.push(format!("packing: {}", by_priority(waiting)));
    let acme = client
        .count_workflows("CustomerId STARTS_WITH 'acme' GROUP BY ExecutionStatus")
        .await?;
    let groups: Vec<String> = acme
        .groups
        .iter()
        .map(|g| format!("{} {}", g.values[0], g.count))
        .collect();
    lines.push(format!("acme: {} ({})", acme.count, groups.join(", ")));
    Ok(lines)
}

/// The runs' workflow ids, highest priority first.
fn by_priority(mut runs: Vec<WorkflowExecutionInfo>) -> String {
    runs.sort_by_key(|r| std::cmp::Reverse(r.search_attributes.get(&priority())));
    let ids: Vec<&str> = runs.iter().map(|r| r.workflow_id.as_str()).collect();
    ids.join(", ")
}

/// Waits until `query` counts `expected` runs. Temporal's visibility is
/// eventually consistent: a run's start, upsert or close is listed a
/// moment after it happened (weft's engine lists it at once, and this
/// returns at the first count).
pub async fn until_counted(
    client: &Client,
    query: &str,
    expected: u64,
) -> Result<(), ExampleError> {
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let count = client.count_workflows(query).await?.count;
        if count == expected {
            return Ok(());
        }
        if std::time::Instant::now() > deadline {
            return Err(ExampleError::NotListed(format!(
                "`{query}` counts {count} runs, not {expected}, after 10 s"
            )));
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
// ANCHOR_END: queries

/// Starts four orders, waits until each has recorded its stage, lists and
/// counts them, releases the waiting ones; returns what it printed.
pub async fn run(db: &Path) -> Result<Vec<String>, ExampleError> {
    let store = SqliteStore::open(db).map_err(weft::backend::BackendError::from)?;
    let engine = Engine::start(store, engine_options())?;
    let client = Client::new(engine.clone());
    let worker = worker(&client).start()?;
    let result = walk(&client).await;
    worker.shutdown().await;
    engine.shutdown().await;
    result
}

/// The walk `run` takes, on `client` (whose engine registers
/// [`engine_options`]'s attributes, with a worker of [`worker`]).
pub async fn walk(client: &Client) -> Result<Vec<String>, ExampleError> {
    let mut handles = Vec::new();
    for (id, ship, customer, level) in [
        (1, true, "acme-1", 7),
        (2, false, "acme-2", 9),
        (3, false, "globex", 2),
        (4, true, "acme-1", 1),
    ] {
        let handle = start_order(client, Order { id, ship }, customer, level).await?;
        if ship {
            handle.result().await?;
        } else {
            handle.ping().await?;
        }
        handles.push((handle, ship));
    }
    let orders = "WorkflowType = 'OrderWorkflow'";
    until_counted(client, &format!("{orders} AND Stage = 'packing'"), 2).await?;
    let closed = "ExecutionStatus = 'Completed' AND Stage = 'shipped'";
    until_counted(client, &format!("{orders} AND {closed}"), 2).await?;
    let mut lines = find_orders(client).await?;
    for (handle, ship) in handles {
        if !ship {
            handle.signal("release", &()).await?;
            handle.result().await?;
        }
    }
    until_counted(client, &format!("{orders} AND {closed}"), 4).await?;
    let shipped = client.count_workflows("Stage = 'shipped'").await?;
    lines.push(format!("shipped: {}", shipped.count));
    Ok(lines)
}
