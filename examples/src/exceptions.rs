//! Exceptions: an activity that always fails, a retry policy that stops
//! after three attempts, and the cause chain the client sees:
//! WorkflowFailureError -> ActivityError -> ApplicationError.

use serde::{Deserialize, Serialize};
use weft::prelude::*;

use crate::support::{ExampleError, options};

/// Task queue of this example.
pub const TASK_QUEUE: &str = "exception-task-queue";

// ANCHOR: activity
/// What to process, and whether to fail.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ProcessingInput {
    pub data: String,
    pub should_fail: bool,
}

#[activity]
pub fn process_data(input: ProcessingInput) -> Result<String, ApplicationError> {
    if input.should_fail {
        return Err(
            ApplicationError::new(format!("Processing failed for: {}", input.data))
                .with_type("RuntimeError"),
        );
    }
    Ok(format!("Processed: {}", input.data))
}
// ANCHOR_END: activity

// ANCHOR: workflow
#[workflow]
#[derive(Default)]
pub struct DataProcessing;

#[workflow]
impl DataProcessing {
    #[run]
    pub async fn run(ctx: WorkflowContext<Self>, data: String) -> WorkflowResult<String> {
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
}
// ANCHOR_END: workflow

/// A worker for this example's task queue.
pub fn worker(client: &Client) -> Worker {
    Worker::new(client, TASK_QUEUE)
        .register_workflow::<DataProcessing>()
        .register_activity(PROCESS_DATA)
}

/// Runs the failing workflow and returns the cause chain it printed.
pub async fn run(client: &Client) -> Result<Vec<String>, ExampleError> {
    // ANCHOR: client
    let result = client
        .execute_workflow(
            DataProcessing::run,
            "test-data".to_string(),
            options("exception-workflow-id", TASK_QUEUE),
        )
        .await;
    let lines = match result {
        Ok(value) => vec![format!("unexpected success: {value}")],
        // `{:#}` prints every cause of the chain once.
        Err(ClientError::Workflow(err)) => format!("{err:#}").lines().map(String::from).collect(),
        Err(other) => return Err(other.into()),
    };
    // ANCHOR_END: client
    Ok(lines)
}

use weft::ClientError;
