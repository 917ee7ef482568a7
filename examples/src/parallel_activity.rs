//! Parallel Activity: three activities scheduled in one workflow task, all
//! before any completes, joined in order.

use weft::prelude::*;

use crate::support::options;

/// Task queue of this example.
pub const TASK_QUEUE: &str = "parallel-activity";

// ANCHOR: activity
#[activity(start_to_close_timeout = "5s")]
pub fn say_hello_activity(name: String) -> Result<String, ApplicationError> {
    Ok(format!("Hello, {name}!"))
}
// ANCHOR_END: activity

// ANCHOR: workflow
#[workflow]
pub async fn say_hello(ctx: WorkflowContext, names: Vec<String>) -> WorkflowResult<Vec<String>> {
    let calls = names
        .into_iter()
        .map(|name| ctx.activity(SAY_HELLO_ACTIVITY, name));
    let mut results = try_join_all(calls).await?;
    // Sorted, as the reference does (the results come in input order anyway).
    results.sort();
    Ok(results)
}
// ANCHOR_END: workflow

/// A worker for this example's task queue.
pub fn worker(client: &Client) -> Worker {
    Worker::new(client, TASK_QUEUE)
        .register_workflow::<SayHello>()
        .register_activity(SAY_HELLO_ACTIVITY)
}

// ANCHOR: client
/// Greets `names` in parallel.
pub async fn greet(client: &Client, names: Vec<String>) -> Result<Vec<String>, ClientError> {
    client
        .execute_workflow(say_hello, names, options("parallel-activity", TASK_QUEUE))
        .await
}
// ANCHOR_END: client
