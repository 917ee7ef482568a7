//! Parallel Activity: three activities scheduled in one workflow task, all
//! before any completes, joined in order.

use weft::prelude::*;
use weft::workflow::join_all;

use crate::support::{ExampleError, options};

/// Task queue of this example.
pub const TASK_QUEUE: &str = "parallel-activity";

// ANCHOR: activity
#[activity]
pub fn say_hello_activity(name: String) -> Result<String, ApplicationError> {
    Ok(format!("Hello, {name}!"))
}
// ANCHOR_END: activity

// ANCHOR: workflow
#[workflow]
#[derive(Default)]
pub struct SayHello;

#[workflow]
impl SayHello {
    #[run]
    pub async fn run(
        ctx: WorkflowContext<Self>,
        names: Vec<String>,
    ) -> WorkflowResult<Vec<String>> {
        let calls = names.into_iter().map(|name| {
            ctx.activity(SAY_HELLO_ACTIVITY, name)
                .start_to_close_timeout(Duration::from_secs(5))
                .into_future()
        });
        let mut results = join_all(calls)
            .await
            .into_iter()
            .collect::<Result<Vec<_>, _>>()?;
        // Completion order is not deterministic; sorting makes the result so.
        results.sort();
        Ok(results)
    }
}
// ANCHOR_END: workflow

/// A worker for this example's task queue.
pub fn worker(client: &Client) -> Worker {
    Worker::new(client, TASK_QUEUE)
        .register_workflow::<SayHello>()
        .register_activity(SAY_HELLO_ACTIVITY)
}

/// Greets three users in parallel.
pub async fn run(client: &Client) -> Result<Vec<String>, ExampleError> {
    let names = ["user1", "user2", "user3"].map(String::from).to_vec();
    Ok(client
        .execute_workflow(
            SayHello::run,
            names,
            options("parallel-activity", TASK_QUEUE),
        )
        .await?)
}
