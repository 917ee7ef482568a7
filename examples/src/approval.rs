//! Approval: a workflow that waits for a human, through a signal, for at
//! most two days. The book's signal and testing chapters use it: a client
//! sends the signal with the typed stub `handle.approve(..)`, and a test
//! on the manual test clock approves after one day.

use weft::prelude::*;

use crate::support::options;

/// Task queue of this example.
pub const TASK_QUEUE: &str = "approvals";

/// How long the request waits for an approval.
pub const APPROVAL_TIMEOUT: Duration = Duration::from_secs(2 * 24 * 60 * 60);

// ANCHOR: workflow
#[workflow]
#[derive(Default)]
pub struct Approval {
    approved_by: Option<String>,
}

#[workflow]
impl Approval {
    #[run]
    pub async fn run(ctx: WorkflowContext<Self>, request: String) -> WorkflowResult<String> {
        let approved = ctx
            .wait_condition_timeout(APPROVAL_TIMEOUT, |s| s.approved_by.is_some())
            .await?;
        let by = ctx.state(|s| s.approved_by.clone()).unwrap_or_default();
        Ok(if approved {
            format!("{request}: approved by {by}")
        } else {
            format!("{request}: no approval within two days")
        })
    }

    #[signal]
    fn approve(&mut self, by: String) {
        self.approved_by = Some(by);
    }
}

/// A worker for this example's task queue.
pub fn worker(client: &Client) -> Worker {
    Worker::new(client, TASK_QUEUE).register_workflow::<Approval>()
}
// ANCHOR_END: workflow

// ANCHOR: client
/// Asks for approval of `request` as workflow `id`, and approves it as
/// `by`: the signal goes through the handle's typed stub.
pub async fn request_and_approve(
    client: &Client,
    id: &str,
    request: &str,
    by: &str,
) -> Result<String, ClientError> {
    let handle = client
        .start_workflow(Approval::run, request.into(), options(id, TASK_QUEUE))
        .await?;
    // The stub is a method of the `ApprovalHandle` trait `#[workflow]`
    // generates; it returns once the signal is durable.
    handle.approve(by.into()).await?;
    handle.result().await
}
// ANCHOR_END: client
