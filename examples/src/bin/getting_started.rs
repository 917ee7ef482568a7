//! The getting-started chapter's program: an order is reserved, waits a
//! while (time to kill the program), and is shipped. Run it, kill it while
//! it waits, run it again: it resumes where it stopped.
//!
//! `cargo run -p weft-examples --bin getting_started [-- DB_PATH [PAUSE_SECS]]`

// ANCHOR: all
use serde::{Deserialize, Serialize};
use weft::engine::Engine;
use weft::prelude::*;

#[derive(Debug, Serialize, Deserialize)]
pub struct Order {
    pub id: String,
    pub item: String,
    /// How long to wait between reserving and shipping.
    pub pause_secs: u64,
}

#[activity(start_to_close_timeout = "10s")]
async fn reserve(order: Order) -> Result<String, ApplicationError> {
    println!(
        "reserved {} for order {}; shipping in {} s",
        order.item, order.id, order.pause_secs
    );
    Ok(format!("{} for order {}", order.item, order.id))
}

#[activity(start_to_close_timeout = "10s")]
async fn ship(reservation: String) -> Result<String, ApplicationError> {
    println!("shipping {reservation}");
    Ok(format!("shipped {reservation}"))
}

#[workflow]
async fn fulfil(ctx: WorkflowContext, order: Order) -> WorkflowResult<String> {
    let pause = Duration::from_secs(order.pause_secs);
    let reservation = ctx.activity(RESERVE, order).await?;
    // A durable timer: kill the program now, and the next run waits out
    // what is left of it, without reserving again.
    ctx.sleep(pause).await?;
    Ok(ctx.activity(SHIP, reservation).await?)
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let db = args.next().unwrap_or_else(|| "orders.db".into());
    let pause_secs = args.next().map_or(Ok(10), |s| s.parse())?;

    let engine = Engine::sqlite(&db).await?;
    let client = Client::new(engine.clone());
    let worker = Worker::new(&client, "orders")
        .register_workflow::<Fulfil>()
        .register_activity(RESERVE)
        .register_activity(SHIP)
        .start()?;

    // The same workflow id and request id on every run, and `UseExisting`:
    // a second run finds the workflow the first one started and waits for
    // it, instead of failing with "already started".
    let options = WorkflowOptions::new("order-1", "orders")
        .request_id("order-1")
        .id_conflict_policy(IdConflictPolicy::UseExisting);
    let order = Order {
        id: "1".into(),
        item: "3 apples".into(),
        pause_secs,
    };
    let shipped = client.execute_workflow(fulfil, order, options).await?;
    println!("{shipped}");

    worker.shutdown().await;
    engine.shutdown().await;
    Ok(())
}
// ANCHOR_END: all
