//! Polling (frequent): one long-running activity polls a service in a loop,
//! swallowing its transient errors and heartbeating after each try, until the
//! service answers. The heartbeats keep the attempt alive within its
//! heartbeat timeout, carry the poll count a retried attempt resumes from,
//! and bring back the news that the activity should stop.

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use tokio::sync::watch;
use weft::prelude::*;

use crate::support::options;

/// Task queue of this example.
pub const TASK_QUEUE: &str = "polling-frequent";
/// The example's workflow id (also its request id).
pub const WORKFLOW_ID: &str = "polling-frequent";
/// The address the example polls.
pub const SERVICE_URL: &str = "https://api.example.com/status";
/// How many calls the example's service fails before it answers.
pub const READY_AFTER: u32 = 5;
/// The pause between two polls (the reference polls every second; a short
/// pause keeps the tour quick).
pub const POLL_INTERVAL: Duration = Duration::from_millis(100);

// ANCHOR: service
/// A stand-in for an external service: unavailable (a transient error) until
/// it has been called `ready_after` times, then ready.
pub struct ExternalService {
    ready_after: u32,
    /// Calls so far; a watch channel, so observers can wait for a count.
    calls: watch::Sender<u32>,
    hang_on_call: Option<u32>,
}

/// The service's transient failure.
#[derive(Debug, thiserror::Error)]
#[error("service unavailable (call {0})")]
pub struct Unavailable(pub u32);

impl ExternalService {
    /// A service that answers on call number `ready_after`.
    pub fn new(ready_after: u32) -> Self {
        ExternalService {
            ready_after,
            calls: watch::Sender::new(0),
            hang_on_call: None,
        }
    }

    /// Makes call number `call` hang until a later call arrives, as a
    /// request to a stuck server does, and then fail.
    pub fn hanging_on_call(mut self, call: u32) -> Self {
        self.hang_on_call = Some(call);
        self
    }

    /// Calls made so far.
    pub fn calls(&self) -> u32 {
        *self.calls.borrow()
    }

    /// Follows the number of calls made.
    pub fn watch_calls(&self) -> watch::Receiver<u32> {
        self.calls.subscribe()
    }

    /// One call: the status once ready, a transient error before.
    pub async fn fetch(&self, _url: &str) -> Result<String, Unavailable> {
        let mut call = 0;
        self.calls.send_modify(|c| {
            *c += 1;
            call = *c;
        });
        if self.hang_on_call == Some(call) {
            let mut calls = self.calls.subscribe();
            // An error only if the sender is gone, which it is not while
            // `self` lives.
            let _ = calls.wait_for(|c| *c > call).await;
            return Err(Unavailable(call));
        }
        if call >= self.ready_after {
            Ok("ready".to_string())
        } else {
            Err(Unavailable(call))
        }
    }
}
// ANCHOR_END: service

// ANCHOR: activity
/// What the poll found, and after how many polls.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PollResult {
    pub status: String,
    pub polls: u32,
}

#[activity]
impl ExternalService {
    /// Polls until the service answers, heartbeating the poll count.
    pub async fn poll_external_service(
        &self,
        ctx: ActivityContext,
        service_url: String,
    ) -> Result<PollResult, Failure> {
        // A retried attempt (after a heartbeat timeout, say) goes on
        // counting from the last heartbeat the engine received.
        let mut polls: u32 = ctx.heartbeat_details()?.unwrap_or(0);
        loop {
            polls += 1;
            // The service may be down for a while: an error is swallowed,
            // and the loop polls again.
            if let Ok(status) = self.fetch(&service_url).await {
                return Ok(PollResult { status, polls });
            }
            // Cheap to call each time: it is throttled. Errs with the
            // cancellation once a heartbeat's answer said to stop.
            ctx.heartbeat(&polls)?;
            tokio::select! {
                () = tokio::time::sleep(POLL_INTERVAL) => {}
                () = ctx.cancelled() => return Err(ctx.cancellation_error().into()),
            }
        }
    }
}
// ANCHOR_END: activity

// ANCHOR: workflow
#[workflow]
#[derive(Default)]
pub struct FrequentPolling;

#[workflow]
impl FrequentPolling {
    #[run]
    pub async fn run(
        ctx: WorkflowContext<Self>,
        service_url: String,
    ) -> WorkflowResult<PollResult> {
        let result = ctx
            .activity(ExternalService::POLL_EXTERNAL_SERVICE, service_url)
            // The whole poll may take long...
            .start_to_close_timeout(Duration::from_secs(30 * 60))
            // ...but a silent attempt is noticed within 2 s and retried.
            .heartbeat_timeout(Duration::from_secs(2))
            .await?;
        Ok(result)
    }
}
// ANCHOR_END: workflow

/// A worker for this example's task queue, with a service that answers on
/// call [`READY_AFTER`].
pub fn worker(client: &Client) -> Worker {
    worker_with(client, Arc::new(ExternalService::new(READY_AFTER)))
}

/// A worker for this example's task queue, polling `service`.
pub fn worker_with(client: &Client, service: Arc<ExternalService>) -> Worker {
    Worker::new(client, TASK_QUEUE)
        .register_workflow::<FrequentPolling>()
        .register_activities(service)
}

// ANCHOR: client
/// Polls the service until it is ready; returns the result and the count.
pub async fn run(client: &Client) -> Result<PollResult, ClientError> {
    client
        .execute_workflow(
            FrequentPolling::run,
            SERVICE_URL.to_string(),
            options(WORKFLOW_ID, TASK_QUEUE),
        )
        .await
}
// ANCHOR_END: client
