//! Exceptions: an activity that always fails, a retry policy that stops
//! after three attempts, and the cause chain the client sees:
//! WorkflowFailureError -> ActivityError -> ApplicationError.

use serde::{Deserialize, Serialize};
use weft::prelude::*;

use crate::support::options;

/// Task queue of this example.
pub const TASK_QUEUE: &str = "exception-task-queue";

// ANCHOR: activity
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ProcessingInput {
    pub data: String,
    pub should_fail: bool,
}

#[activity]
pub fn process_data(input: ProcessingInput) -> Result<String, ApplicationError> {
    if input.should_fail {
        let message = format!("Processing failed for: {}", input.data);
        return Err(ApplicationError::new(message).with_type("RuntimeError"));
    }
    Ok(format!("Processed: {}", input.data))
}
// ANCHOR_END: activity

// ANCHOR: workflow
#[workflow]
pub async fn data_processing(ctx: WorkflowContext, data: String) -> WorkflowResult<String> {
    let input = ProcessingInput {
        data,
        should_fail: true,
    };
    let result = ctx
        .activity(PROCESS_DATA, input)
        .start_to_close_timeout(Duration::from_secs(10))
        // Short intervals keep the tour quick; the default starts at 1 s.
        .retry_policy(
            RetryPolicy::default()
                .with_maximum_attempts(3)
                .with_initial_interval(Duration::from_millis(100)),
        )
        .await?;
    Ok(result)
}
// ANCHOR_END: workflow

/// A worker for this example's task queue.
pub fn worker(client: &Client) -> Worker {
    Worker::new(client, TASK_QUEUE)
        .register_workflow::<DataProcessing>()
        .register_activity(PROCESS_DATA)
}

// ANCHOR: client
/// Runs the failing workflow; its error's `{:#}` (and its `Debug`, which
/// `main` returning it prints) is the whole cause chain.
pub async fn run(client: &Client) -> Result<String, ClientError> {
    let options = options("exception-workflow-id", TASK_QUEUE);
    let result = client
        .execute_workflow(data_processing, "test-data".to_string(), options)
        .await;
    if let Err(err) = &result {
        tracing::error!("Workflow execution failed: {err:#}");
    }
    result
}
// ANCHOR_END: client
