//! Polling (infrequent): a short activity that fails while the service is
//! not ready, and a retry policy with a constant interval that turns its
//! retries into a poll. No activity runs between two polls, and retries add
//! nothing to history. The reference's second workflow, job monitoring,
//! polls a job the same way until it completes, and stops at once when it
//! failed.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

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

// ANCHOR: jobs
/// How a job of the stand-in job system ends.
#[derive(Clone, Debug)]
pub enum JobEnd {
    Completed,
    Failed(String),
}

/// A stand-in for an external job system: each job is running until it has
/// been checked a given number of times, then ends as it was told to.
#[derive(Default)]
pub struct JobSystem {
    jobs: Mutex<HashMap<String, (u32, JobEnd)>>,
}

impl JobSystem {
    /// Adds job `id`, which ends as `end` on check number `checks`.
    pub fn with_job(self, id: &str, checks: u32, end: JobEnd) -> Self {
        let mut jobs = self.jobs.lock().unwrap_or_else(PoisonError::into_inner);
        jobs.insert(id.to_string(), (checks, end));
        drop(jobs);
        self
    }

    /// One check: `None` while the job runs, then how it ended.
    fn check(&self, id: &str) -> Result<Option<JobEnd>, ApplicationError> {
        let mut jobs = self.jobs.lock().unwrap_or_else(PoisonError::into_inner);
        let Some((left, end)) = jobs.get_mut(id) else {
            let error = ApplicationError::new(format!("no job {id}")).with_type("UnknownJob");
            return Err(error.non_retryable());
        };
        *left = left.saturating_sub(1);
        Ok((*left == 0).then(|| end.clone()))
    }
}

#[activity]
impl JobSystem {
    /// Checks job `job_id` once: fails, to be retried, while it runs; fails
    /// with type `JobFailed`, which the workflow's policy does not retry,
    /// when it failed.
    pub async fn check_job_completion(&self, job_id: String) -> Result<bool, ApplicationError> {
        match self.check(&job_id)? {
            None => Err(ApplicationError::new("Job not complete: running")),
            Some(JobEnd::Completed) => Ok(true),
            Some(JobEnd::Failed(error)) => Err(ApplicationError::new(format!(
                "Job {job_id} failed: {error}"
            ))
            .with_type("JobFailed")),
        }
    }
}
// ANCHOR_END: jobs

// ANCHOR: job_workflow
/// The pause between two checks of a job: 5 minutes in the reference.
pub const JOB_CHECK_INTERVAL: Duration = Duration::from_millis(100);

#[workflow]
pub async fn job_monitoring(ctx: WorkflowContext, job_id: String) -> WorkflowResult<bool> {
    let done = ctx
        .activity(JobSystem::CHECK_JOB_COMPLETION, job_id)
        .start_to_close_timeout(Duration::from_secs(10))
        .retry_policy(RetryPolicy {
            initial_interval: JOB_CHECK_INTERVAL,
            backoff_coefficient: 1.0,
            maximum_interval: Some(JOB_CHECK_INTERVAL),
            // 4 hours of checks every 5 minutes.
            maximum_attempts: 48,
            // A failed job is not checked again.
            non_retryable_error_types: vec!["JobFailed".to_string()],
        })
        .await?;
    Ok(done)
}
// ANCHOR_END: job_workflow

/// The jobs the example monitors: one completes on its third check, one
/// fails on its second.
pub fn example_jobs() -> JobSystem {
    JobSystem::default()
        .with_job("job-7", 3, JobEnd::Completed)
        .with_job("job-8", 2, JobEnd::Failed("disk full".to_string()))
}

/// A worker for this example's task queue, with a service that is ready on
/// call [`READY_AFTER`] and the example's jobs.
pub fn worker(client: &Client) -> Worker {
    let service = Arc::new(StatusService::new(READY_AFTER));
    worker_with(client, service, Arc::new(example_jobs()))
}

/// A worker for this example's task queue, polling `service` and `jobs`.
pub fn worker_with(client: &Client, service: Arc<StatusService>, jobs: Arc<JobSystem>) -> Worker {
    Worker::new(client, TASK_QUEUE)
        .register_workflow::<InfrequentPolling>()
        .register_workflow::<JobMonitoring>()
        .register_activities(service)
        .register_activities(jobs)
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

// ANCHOR: job_client
/// Monitors job `job_id` until it completes or fails: `Ok(true)` once
/// completed, the workflow's failure (caused by the job's) otherwise.
pub async fn monitor_job(client: &Client, job_id: &str) -> Result<bool, ClientError> {
    let id = format!("monitor-{job_id}");
    client
        .execute_workflow(job_monitoring, job_id.to_string(), options(&id, TASK_QUEUE))
        .await
}
// ANCHOR_END: job_client
