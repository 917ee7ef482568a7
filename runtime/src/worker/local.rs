//! Local activities: run inside the worker while it holds the workflow task,
//! retried here by their policy. Their results reach history as markers, so
//! replay reads them instead of running them again.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use tokio::task::JoinSet;
use tracing::Instrument as _;

use super::Shared;
use super::activity_tasks::run_activity;
use crate::activity::{ActivityContext, ActivityInfo, ErasedActivity};
use crate::backend::WorkflowTask;
use crate::failure::{ActivityError, Failure, RetryState};
use crate::protocol::{Resolution, ScheduleActivity};
use crate::telemetry::{ActivityInterceptor, MetricMeter};

/// A finished local activity.
pub(super) struct Done {
    pub seq: u32,
    pub activity_type: String,
    pub attempt: u32,
    pub result: Resolution,
}

pub(super) struct Runner<'a> {
    shared: &'a Shared,
    workflow_id: String,
    workflow_run_id: String,
    workflow_type: String,
    running: JoinSet<Done>,
    /// Types of the running local activities, for error messages.
    types: Vec<String>,
}

impl<'a> Runner<'a> {
    pub fn new(shared: &'a Shared, task: &WorkflowTask) -> Self {
        Runner {
            shared,
            workflow_id: task.workflow_id.clone(),
            workflow_run_id: task.token.run_id.clone(),
            workflow_type: task.workflow_type.clone(),
            running: JoinSet::new(),
            types: Vec::new(),
        }
    }

    pub fn start(&mut self, request: ScheduleActivity) {
        let attempts = Attempts {
            activities: self.shared.activities.clone(),
            interceptors: self.shared.activity_interceptors.clone(),
            meter: MetricMeter::new(self.shared.metrics.clone()),
            info: ActivityInfo {
                activity_id: request.activity_id.clone(),
                activity_type: request.activity_type.clone(),
                workflow_id: self.workflow_id.clone(),
                workflow_run_id: self.workflow_run_id.clone(),
                workflow_type: self.workflow_type.clone(),
                namespace: self.shared.namespace.clone(),
                task_queue: request.task_queue.clone(),
                attempt: 1,
                is_local: true,
                scheduled_time: SystemTime::now(),
                started_time: SystemTime::now(),
            },
        };
        self.types.push(request.activity_type.clone());
        // In the workflow task's span.
        self.running.spawn(attempts.run(request).in_current_span());
    }

    /// Types of the local activities still running.
    pub fn running_types(&self) -> Vec<String> {
        self.types.clone()
    }

    /// Stops every local activity still running.
    pub fn abort(&mut self) {
        self.running.abort_all();
        self.types.clear();
    }

    /// The next local activity to finish, or `None` if none is running.
    pub async fn next(&mut self) -> Option<Done> {
        loop {
            match self.running.join_next().await? {
                Ok(done) => {
                    if let Some(i) = self.types.iter().position(|t| *t == done.activity_type) {
                        self.types.remove(i);
                    }
                    return Some(done);
                }
                Err(e) => tracing::error!(error = %e, "local activity runner failed"),
            }
        }
    }
}

/// What a local activity's attempts need, owned by the task that runs them.
struct Attempts {
    activities: HashMap<String, ErasedActivity>,
    interceptors: Arc<[Arc<dyn ActivityInterceptor>]>,
    meter: MetricMeter,
    info: ActivityInfo,
}

impl Attempts {
    /// Runs attempts until one succeeds or the retry policy gives up.
    async fn run(self, request: ScheduleActivity) -> Done {
        let policy = request.options.retry_policy.clone().unwrap_or_default();
        let per_attempt = request
            .options
            .start_to_close_timeout
            .or(request.options.schedule_to_close_timeout);
        let deadline = request
            .options
            .schedule_to_close_timeout
            .map(|d| tokio::time::Instant::now() + d);
        let mut attempt = 1;
        loop {
            let now = SystemTime::now();
            let ctx = ActivityContext::new(ActivityInfo {
                attempt,
                scheduled_time: now,
                started_time: now,
                ..self.info.clone()
            })
            .with_meter(self.meter.clone());
            let input = request.input.clone();
            let outcome = run_activity(
                &self.activities,
                &self.interceptors,
                ctx,
                input,
                per_attempt,
            )
            .await;
            let failure = match outcome {
                Ok(payload) => return done(&request, attempt, Resolution::Completed(payload)),
                Err(f) => f,
            };
            let retry = policy
                .next_delay(attempt, &failure)
                .and_then(|delay| match deadline {
                    Some(end) if tokio::time::Instant::now() + delay >= end => {
                        Err(RetryState::Timeout)
                    }
                    _ => Ok(delay),
                });
            match retry {
                Ok(delay) => {
                    tokio::time::sleep(delay.min(Duration::from_secs(3600))).await;
                    attempt += 1;
                }
                Err(retry_state) => {
                    let error = ActivityError {
                        activity_type: request.activity_type.clone(),
                        activity_id: request.activity_id.clone(),
                        retry_state,
                        attempt,
                        cause: Box::new(failure),
                    };
                    let result = Resolution::Failed(Failure::Activity(error));
                    return done(&request, attempt, result);
                }
            }
        }
    }
}

fn done(request: &ScheduleActivity, attempt: u32, result: Resolution) -> Done {
    Done {
        seq: request.seq,
        activity_type: request.activity_type.clone(),
        attempt,
        result,
    }
}
