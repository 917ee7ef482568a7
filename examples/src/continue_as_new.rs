//! Continue-as-New: a loop that carries its state into a fresh run (same
//! workflow id, new history) whenever history grows long, or every
//! `iterations_per_run` iterations, so its history stays small.

use serde::{Deserialize, Serialize};
use weft::prelude::*;

use crate::support::options;

/// Task queue of this example.
pub const TASK_QUEUE: &str = "continue-as-new";

// ANCHOR: types
/// What each run hands to the next.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkflowState {
    pub iteration: u32,
    pub processed_items: u32,
    pub runs: u32,
}

/// Input of every run.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct WorkflowInput {
    pub state: Option<WorkflowState>,
    pub max_iterations: u32,
    /// Continue as new after this many iterations, if history has not
    /// suggested it before.
    pub iterations_per_run: u32,
}
// ANCHOR_END: types

// ANCHOR: workflow
#[workflow]
#[derive(Default)]
pub struct LongRunningWorkflow {
    state: WorkflowState,
}

#[workflow]
impl LongRunningWorkflow {
    #[init]
    fn new(input: &WorkflowInput) -> Self {
        let mut state = input.state.clone().unwrap_or_default();
        state.runs += 1;
        LongRunningWorkflow { state }
    }

    #[run]
    pub async fn run(
        ctx: WorkflowContext<Self>,
        input: WorkflowInput,
    ) -> WorkflowResult<WorkflowState> {
        let mut in_this_run = 0;
        while ctx.state(|s| s.state.iteration) < input.max_iterations {
            // Simulated work.
            ctx.sleep(Duration::from_millis(1)).await?;
            ctx.state_mut(|s| {
                s.state.processed_items += 10;
                s.state.iteration += 1;
            });
            in_this_run += 1;
            let more = ctx.state(|s| s.state.iteration) < input.max_iterations;
            if more
                && (ctx.is_continue_as_new_suggested() || in_this_run == input.iterations_per_run)
            {
                ctx.all_handlers_finished().await?;
                let next = WorkflowInput {
                    state: Some(ctx.state(|s| s.state.clone())),
                    ..input
                };
                return ctx.continue_as_new(next);
            }
        }
        Ok(ctx.state(|s| s.state.clone()))
    }
}
// ANCHOR_END: workflow

/// A worker for this example's task queue.
pub fn worker(client: &Client) -> Worker {
    Worker::new(client, TASK_QUEUE).register_workflow::<LongRunningWorkflow>()
}

// ANCHOR: client
/// Runs `max_iterations`, continuing as new every `iterations_per_run`.
pub async fn run(
    client: &Client,
    max_iterations: u32,
    iterations_per_run: u32,
) -> Result<WorkflowState, ClientError> {
    let input = WorkflowInput {
        state: None,
        max_iterations,
        iterations_per_run,
    };
    client
        .execute_workflow(
            LongRunningWorkflow::run,
            input,
            options("long-running", TASK_QUEUE),
        )
        .await
}
// ANCHOR_END: client
