//! The deterministic replacements the Determinism chapter shows, in one
//! workflow that the tests run and replay.

use serde::{Deserialize, Serialize};
use weft::prelude::*;
use weft::workflow::join;

use crate::support::{ExampleError, options};

/// Task queue of this module.
pub const TASK_QUEUE: &str = "determinism";

/// Charges an amount and returns it.
#[activity]
pub async fn charge(amount: u32) -> Result<u32, ApplicationError> {
    Ok(amount)
}

/// Sends a receipt.
#[activity]
pub async fn send_receipt(total: u32) -> Result<String, ApplicationError> {
    Ok(format!("receipt for {total}"))
}

/// What the workflow reports.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    pub total: u32,
    pub order_id: String,
    pub receipt: Option<String>,
    pub region: String,
}

// ANCHOR: helper
/// Charges twice, in parallel. Marked, so its own awaits are checked and it
/// can be awaited from workflow code.
#[weft::deterministic]
async fn charge_twice(ctx: &WorkflowContext<Shop>, amount: u32) -> Result<u32, ActivityError> {
    let timeout = Duration::from_secs(5);
    let (a, b) = join(
        ctx.activity(CHARGE, amount)
            .start_to_close_timeout(timeout)
            .into_future(),
        ctx.activity(CHARGE, amount)
            .start_to_close_timeout(timeout)
            .into_future(),
    )
    .await;
    Ok(a? + b?)
}
// ANCHOR_END: helper

#[workflow]
#[derive(Default)]
pub struct Shop;

#[workflow]
impl Shop {
    #[run]
    pub async fn run(ctx: WorkflowContext<Self>, amount: u32) -> WorkflowResult<Summary> {
        // ANCHOR: replacements
        let order_id = ctx.uuid(); // not Uuid::new_v4()
        let started = ctx.now(); // not SystemTime::now()
        ctx.logger()
            .info(format_args!("order {order_id} started at {started}")); // silent on replay
        // A value read once, recorded, and read back from history on replay.
        let region = ctx
            .side_effect(|| std::env::var("SHOP_REGION").unwrap_or_else(|_| "eu".to_string()))
            .await;
        // ANCHOR_END: replacements
        let total = charge_twice(&ctx, amount).await?;
        // ANCHOR: patch
        let receipt = if ctx.patched("send-receipt") {
            let receipt = ctx
                .activity(SEND_RECEIPT, total)
                .start_to_close_timeout(Duration::from_secs(5))
                .await?;
            Some(receipt)
        } else {
            None
        };
        // ANCHOR_END: patch
        Ok(Summary {
            total,
            order_id,
            receipt,
            region,
        })
    }
}

/// A worker for this module's task queue.
pub fn worker(client: &Client) -> Worker {
    Worker::new(client, TASK_QUEUE)
        .register_workflow::<Shop>()
        .register_activity(CHARGE)
        .register_activity(SEND_RECEIPT)
}

/// Runs the workflow once.
pub async fn run(client: &Client, id: &str) -> Result<Summary, ExampleError> {
    Ok(client
        .execute_workflow(Shop::run, 21, options(id, TASK_QUEUE))
        .await?)
}
