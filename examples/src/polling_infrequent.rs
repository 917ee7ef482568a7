//! Polling (infrequent): a short activity that fails while the service is
//! not ready, and a retry policy with a constant interval that turns its
//! retries into a poll. No activity runs between two polls, and retries add
//! nothing to history.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use serde::{Deserialize, Serialize};
use weft::prelude::*;

use crate::support::options;

/// Task queue of this example.
pub const TASK_QUEUE: &str = "polling-infrequent";
/// The example's workflow id (also its request id).
pub const WORKFLOW_ID: &str = "polling-infrequent";
/// The address the example polls.
pub const SERVICE_URL: &str = "https://api.example.com/status";
/// How many calls the example's service fails before it answers.
pub const READY_AFTER: u32 = 5;

// ANCHOR: service
/// A stand-in for an external service: not ready until it has been called
/// `ready_after` times.
pub struct StatusService {
    ready_after: u32,
    calls: AtomicU32,
}

impl StatusService {
    /// A service that is ready on call number `ready_after`.
    pub fn new(ready_after: u32) -> Self {
        StatusService {
            ready_after,
            calls: AtomicU32::new(0),
        }
    }

    /// Calls made so far.
    pub fn calls(&self) -> u32 {
        self.calls.load(Ordering::SeqCst)
    }

    /// One call: `Some(status)` once ready, `None` before.
    pub async fn fetch_service_status(&self, _url: &str) -> Option<String> {
        let call = self.calls.fetch_add(1, Ordering::SeqCst) + 1;
        (call >= self.ready_after).then(|| "ready".to_string())
    }
}
// ANCHOR_END: service

// ANCHOR: activity
/// What the poll found, and on which poll.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PollResult {
    pub status: String,
    pub polls: u32,
}

#[activity]
impl StatusService {
    /// Checks the service once; fails, to be retried, while it is not ready.
    pub async fn poll_service_status(
        &self,
        ctx: ActivityContext,
        service_url: String,
    ) -> Result<PollResult, ApplicationError> {
        match self.fetch_service_status(&service_url).await {
            Some(status) => Ok(PollResult {
                status,
                // Every poll is one attempt of this activity.
                polls: ctx.info().attempt,
            }),
            None => Err(ApplicationError::new("Service not ready").with_type("ServiceNotReady")),
        }
    }
}
// ANCHOR_END: activity

// ANCHOR: workflow
/// The pause between two polls. In production this is 60 s, as in the
/// reference; 100 ms keeps the tour quick.
pub const POLL_INTERVAL: Duration = Duration::from_millis(100);

#[workflow]
#[derive(Default)]
pub struct InfrequentPolling;

#[workflow]
impl InfrequentPolling {
    #[run]
    pub async fn run(
        ctx: WorkflowContext<Self>,
        service_url: String,
    ) -> WorkflowResult<PollResult> {
        let result = ctx
            .activity(StatusService::POLL_SERVICE_STATUS, service_url)
            // One poll is short.
            .start_to_close_timeout(Duration::from_secs(5))
            .retry_policy(RetryPolicy {
                initial_interval: POLL_INTERVAL,
                // No exponential backoff: every retry waits the same.
                backoff_coefficient: 1.0,
                maximum_interval: Some(POLL_INTERVAL),
                maximum_attempts: 100,
                ..RetryPolicy::default()
            })
            .await?;
        Ok(result)
    }
}
// ANCHOR_END: workflow

/// A worker for this example's task queue, with a service that is ready on
/// call [`READY_AFTER`].
pub fn worker(client: &Client) -> Worker {
    worker_with(client, Arc::new(StatusService::new(READY_AFTER)))
}

/// A worker for this example's task queue, polling `service`.
pub fn worker_with(client: &Client, service: Arc<StatusService>) -> Worker {
    Worker::new(client, TASK_QUEUE)
        .register_workflow::<InfrequentPolling>()
        .register_activities(service)
}

// ANCHOR: client
/// Polls the service until it is ready; returns the result and the count.
pub async fn run(client: &Client) -> Result<PollResult, ClientError> {
    client
        .execute_workflow(
            InfrequentPolling::run,
            SERVICE_URL.to_string(),
            options(WORKFLOW_ID, TASK_QUEUE),
        )
        .await
}
// ANCHOR_END: client
