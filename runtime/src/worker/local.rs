//! Local activities: run inside the worker while it holds the workflow task,
//! retried here by their policy. Their results reach history as markers, so
//! replay reads them instead of running them again.

use std::time::Duration;

use tokio::task::JoinSet;

use super::Shared;
use super::activity_tasks::run_activity;
use crate::activity::{ActivityContext, ActivityInfo};
use crate::backend::WorkflowTask;
use crate::failure::{ActivityError, Failure, RetryState};
use crate::protocol::{Resolution, ScheduleActivity};

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
    running: JoinSet<Done>,
    /// Types of the running local activities, for error messages.
    types: Vec<String>,
}

impl<'a> Runner<'a> {
    pub fn new(shared: &'a Shared, task: &WorkflowTask) -> Self {
        Runner {
            shared,
            workflow_id: task.workflow_id.clone(),
            running: JoinSet::new(),
            types: Vec::new(),
        }
    }

    pub fn start(&mut self, request: ScheduleActivity) {
        let activities = self.shared.activities.clone();
        let info = ActivityInfo {
            activity_id: request.activity_id.clone(),
            activity_type: request.activity_type.clone(),
            workflow_id: self.workflow_id.clone(),
            namespace: self.shared.namespace.clone(),
            attempt: 1,
            is_local: true,
        };
        self.types.push(request.activity_type.clone());
        self.running.spawn(async move {
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
                let ctx = ActivityContext::new(ActivityInfo {
                    attempt,
                    ..info.clone()
                });
                let outcome =
                    run_activity(&activities, ctx, request.input.clone(), per_attempt).await;
                let failure = match outcome {
                    Ok(payload) => {
                        return Done {
                            seq: request.seq,
                            activity_type: request.activity_type,
                            attempt,
                            result: Resolution::Completed(payload),
                        };
                    }
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
                        return Done {
                            seq: request.seq,
                            activity_type: request.activity_type,
                            attempt,
                            result: Resolution::Failed(Failure::Activity(error)),
                        };
                    }
                }
            }
        });
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
