//! Child Workflow: a parent runs a child workflow and waits for its result;
//! a second parent starts one, gets its handle, then awaits it.

use serde::{Deserialize, Serialize};
use weft::prelude::*;

use crate::support::{ExampleError, options};

/// Task queue of this example.
pub const TASK_QUEUE: &str = "child-workflow";

// ANCHOR: child
/// What the child composes a greeting from.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ComposeGreetingInput {
    pub greeting: String,
    pub name: String,
}

#[workflow]
#[derive(Default)]
pub struct ComposeGreetingWorkflow;

#[workflow]
impl ComposeGreetingWorkflow {
    #[run]
    pub async fn run(
        _ctx: WorkflowContext<Self>,
        input: ComposeGreetingInput,
    ) -> WorkflowResult<String> {
        Ok(format!("{}, {}!", input.greeting, input.name))
    }
}
// ANCHOR_END: child

// ANCHOR: parent
#[workflow]
#[derive(Default)]
pub struct GreetingWorkflow;

#[workflow]
impl GreetingWorkflow {
    #[run]
    pub async fn run(ctx: WorkflowContext<Self>, name: String) -> WorkflowResult<String> {
        let input = ComposeGreetingInput {
            greeting: "Hello".into(),
            name,
        };
        let options = ChildOptions::new("greeting-child-workflow-id")
            .parent_close_policy(ParentClosePolicy::Abandon);
        ctx.execute_child(ComposeGreetingWorkflow::run, input, options)
            .await
    }
}
// ANCHOR_END: parent

// ANCHOR: advanced
#[workflow]
#[derive(Default)]
pub struct AdvancedParentWorkflow;

#[workflow]
impl AdvancedParentWorkflow {
    #[run]
    pub async fn run(ctx: WorkflowContext<Self>, name: String) -> WorkflowResult<String> {
        let input = ComposeGreetingInput {
            greeting: "Hi".into(),
            name,
        };
        let options = ChildOptions::new("advanced-child-workflow-id");
        let handle = ctx
            .start_child(ComposeGreetingWorkflow::run, input, options)
            .await?;
        ctx.logger()
            .info(format_args!("Started child: {}", handle.workflow_id()));
        handle.await
    }
}
// ANCHOR_END: advanced

/// A worker for this example's task queue.
pub fn worker(client: &Client) -> Worker {
    Worker::new(client, TASK_QUEUE)
        .register_workflow::<ComposeGreetingWorkflow>()
        .register_workflow::<GreetingWorkflow>()
        .register_workflow::<AdvancedParentWorkflow>()
}

/// Runs both parents for "World".
pub async fn run(client: &Client) -> Result<Vec<String>, ExampleError> {
    let hello = client
        .execute_workflow(
            GreetingWorkflow::run,
            "World".to_string(),
            options("greeting-workflow", TASK_QUEUE),
        )
        .await?;
    let hi = client
        .execute_workflow(
            AdvancedParentWorkflow::run,
            "World".to_string(),
            options("advanced-parent-workflow", TASK_QUEUE),
        )
        .await?;
    Ok(vec![hello, hi])
}
