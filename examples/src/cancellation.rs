//! Cancellation: a workflow waits on an activity that never completes; the
//! client cancels the workflow. The activity learns of it through its
//! heartbeats and stops; the workflow's cleanup (the reference's `finally`)
//! is ordinary code after the cancellation error, and runs an activity with
//! no extra ceremony; the run ends canceled.

use weft::prelude::*;

use crate::support::options;

/// Task queue of this example.
pub const TASK_QUEUE: &str = "cancellation";

// ANCHOR: activities
/// Cancellation reaches it through its heartbeats: heartbeats go out at
/// most every 0.8 x the heartbeat timeout (the reference's is 2 s; a short
/// one keeps the tour quick).
#[activity(start_to_close_timeout = "1000s", heartbeat_timeout = "500ms")]
pub async fn never_complete_activity(ctx: ActivityContext) -> Result<(), Failure> {
    loop {
        println!("Heartbeating activity");
        // Required for cancellation delivery: errs once the activity should stop.
        if let Err(cancelled) = ctx.heartbeat(&()) {
            println!("Activity cancelled");
            return Err(cancelled);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[activity(start_to_close_timeout = "5s")]
pub async fn cleanup_activity() -> Result<(), ApplicationError> {
    println!("Executing cleanup activity");
    Ok(())
}
// ANCHOR_END: activities

// ANCHOR: workflow
#[workflow]
pub async fn cancellation_workflow(ctx: WorkflowContext, _: ()) -> WorkflowResult<()> {
    let outcome = ctx.activity(NEVER_COMPLETE_ACTIVITY, ()).await;
    // The reference's `finally`: this runs however the activity ended. It
    // is created after the cancellation, so it is not cancelled.
    ctx.activity(CLEANUP_ACTIVITY, ()).await?;
    // The cancellation error, returned after the request: the run ends
    // canceled.
    outcome?;
    Ok(())
}
// ANCHOR_END: workflow

/// A worker for this example.
pub fn worker(client: &Client) -> Worker {
    Worker::new(client, TASK_QUEUE)
        .register_workflow::<CancellationWorkflow>()
        .register_activity(NEVER_COMPLETE_ACTIVITY)
        .register_activity(CLEANUP_ACTIVITY)
}

// ANCHOR: client
/// Starts the workflow as `id`; `handle.cancel()` asks it to stop.
pub async fn start(
    client: &Client,
    id: &str,
) -> Result<WorkflowHandle<CancellationWorkflow>, ClientError> {
    client
        .start_workflow(cancellation_workflow, (), options(id, TASK_QUEUE))
        .await
}
// ANCHOR_END: client
