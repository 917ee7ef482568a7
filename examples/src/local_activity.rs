//! Local Activity: two chained activities that run inside the worker; their
//! results are recorded as markers, and replay reads them instead of running
//! them again.

use serde::{Deserialize, Serialize};
use weft::prelude::*;

use crate::support::options;

/// Task queue of this example.
pub const TASK_QUEUE: &str = "local-activity";

// ANCHOR: activities
/// A greeting to compose.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ProcessingInput {
    pub greeting: String,
    pub name: String,
}

#[activity]
pub fn compose_greeting(input: ProcessingInput) -> Result<String, ApplicationError> {
    Ok(format!("{}, {}!", input.greeting, input.name))
}

#[activity]
pub fn validate_input(data: String) -> Result<bool, ApplicationError> {
    Ok(!data.trim().is_empty())
}
// ANCHOR_END: activities

// ANCHOR: workflow
#[workflow]
#[derive(Default)]
pub struct LocalActivityWorkflow;

#[workflow]
impl LocalActivityWorkflow {
    #[run]
    pub async fn run(ctx: WorkflowContext<Self>, name: String) -> WorkflowResult<String> {
        let input = ProcessingInput {
            greeting: "Hello".into(),
            name,
        };
        let result = ctx
            .local_activity(COMPOSE_GREETING, input)
            .start_to_close_timeout(Duration::from_secs(10))
            .await?;
        let is_valid = ctx
            .local_activity(VALIDATE_INPUT, result.clone())
            .start_to_close_timeout(Duration::from_secs(5))
            .await?;
        Ok(if is_valid {
            result
        } else {
            "Invalid result".into()
        })
    }
}
// ANCHOR_END: workflow

/// A worker for this example's task queue.
pub fn worker(client: &Client) -> Worker {
    Worker::new(client, TASK_QUEUE)
        .register_workflow::<LocalActivityWorkflow>()
        .register_activity(COMPOSE_GREETING)
        .register_activity(VALIDATE_INPUT)
}

// ANCHOR: client
/// Greets `name` through two local activities.
pub async fn greet(client: &Client, name: &str) -> Result<String, ClientError> {
    client
        .execute_workflow(
            LocalActivityWorkflow::run,
            name.into(),
            options("local-activity", TASK_QUEUE),
        )
        .await
}
// ANCHOR_END: client
