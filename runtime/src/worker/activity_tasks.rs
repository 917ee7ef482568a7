//! Activity tasks on a worker: polled from the backend under the worker's
//! concurrency cap, run on the tokio runtime (sync activities on its
//! blocking pool) with heartbeats sent back, and reported.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinSet;

use super::{Shared, backoff_after, next};
use tracing::Instrument as _;

use crate::activity::{ActivityContext, ErasedActivity, HeartbeatSink};
use crate::backend::{ActivityTask, ActivityTaskResult};
use crate::converter::Payload;
use crate::failure::{ApplicationError, Failure, TimeoutError, TimeoutType};
use crate::telemetry::{ActivityInterceptor, ActivityNext, ExecuteActivityInput, MetricMeter};

pub(super) async fn activity_loop(shared: Arc<Shared>, mut stop: watch::Receiver<bool>) {
    let mut running = JoinSet::new();
    loop {
        let permit = tokio::select! {
            biased;
            _ = stop.changed() => break,
            permit = shared.activity_slots.clone().acquire_owned() => permit,
        };
        let Ok(permit) = permit else { break };
        let poll = shared
            .backend
            .poll_activity_task(&shared.namespace, &shared.task_queue);
        match next(&mut stop, poll).await {
            None => break,
            Some(Ok(task)) => {
                let shared = shared.clone();
                let span =
                    crate::telemetry::spans::activity(&shared.namespace, &shared.task_queue, &task);
                running.spawn(
                    async move {
                        run_activity_task(&shared, task).await;
                        drop(permit);
                    }
                    .instrument(span),
                );
            }
            Some(Err(e)) => {
                if !backoff_after(&e).await {
                    break;
                }
            }
        }
        while running.try_join_next().is_some() {}
    }
    while running.join_next().await.is_some() {}
}

async fn run_activity_task(shared: &Shared, mut task: ActivityTask) {
    super::telemetry::activity_started(shared, &task);
    let info = super::telemetry::activity_info(shared, &task);
    let limit = task.start_to_close_timeout;
    let backend = shared.backend.clone();
    let token = task.token.clone();
    let activity_type = task.activity_type.clone();
    let sink: HeartbeatSink = Arc::new(move |details| {
        let backend = backend.clone();
        let token = token.clone();
        let activity_type = activity_type.clone();
        Box::pin(async move {
            match backend.record_activity_heartbeat(token, details).await {
                Ok(response) => Some(response.cancel_requested),
                Err(e) => {
                    tracing::warn!(activity = activity_type, error = %e, "heartbeat not recorded");
                    None
                }
            }
        })
    });
    let (ctx, heart) = ActivityContext::with_heartbeat(
        info,
        sink,
        task.heartbeat_timeout,
        std::mem::take(&mut task.heartbeat_details),
    );
    let ctx = ctx.with_meter(MetricMeter::new(shared.metrics.clone()));
    let started = std::time::Instant::now();
    let interceptors = &shared.activity_interceptors;
    let input = std::mem::take(&mut task.input);
    let result = run_activity(&shared.activities, interceptors, ctx, input, limit).await;
    let took = started.elapsed();
    if let Some(details) = heart.stop() {
        // The latest details were held back by the throttle: record them
        // before the attempt's end, so a retry resumes from them.
        if let Err(e) = shared
            .backend
            .record_activity_heartbeat(task.token.clone(), details)
            .await
        {
            tracing::warn!(activity = task.activity_type, error = %e, "last heartbeat not recorded");
        }
    }
    let result = match result {
        Ok(p) => ActivityTaskResult::Completed(p),
        Err(Failure::Canceled(e)) => ActivityTaskResult::Canceled(e.details),
        Err(f) => ActivityTaskResult::Failed(f),
    };
    super::telemetry::activity_finished(shared, &task, took, &result);
    if let Err(e) = shared
        .backend
        .complete_activity_task(task.token, result)
        .await
    {
        tracing::warn!(activity = task.activity_type, error = %e, "activity result refused");
    }
}

/// Runs a registered activity, catching panics and unknown types; a
/// failed attempt is logged with its attempt number and error.
///
/// Past `limit` (the attempt's start-to-close timeout) an async activity is
/// stopped and the attempt fails with a start-to-close `TimeoutError`; a
/// blocking one cannot be stopped and runs on, its result discarded.
pub(crate) async fn run_activity(
    activities: &HashMap<String, ErasedActivity>,
    interceptors: &Arc<[Arc<dyn ActivityInterceptor>]>,
    ctx: ActivityContext,
    input: Vec<Payload>,
    limit: Option<Duration>,
) -> Result<Payload, Failure> {
    let info = ctx.info().clone();
    let result = run_attempt(activities, interceptors, ctx, input, limit).await;
    if let Err(failure) = &result
        && !matches!(failure, Failure::Canceled(_))
    {
        tracing::warn!(
            activity = info.activity_type,
            activity_id = info.activity_id,
            workflow_id = info.workflow_id,
            attempt = info.attempt,
            local = info.is_local,
            error = format!("{failure:#}"),
            "activity attempt failed"
        );
    }
    result
}

async fn run_attempt(
    activities: &HashMap<String, ErasedActivity>,
    interceptors: &Arc<[Arc<dyn ActivityInterceptor>]>,
    ctx: ActivityContext,
    input: Vec<Payload>,
    limit: Option<Duration>,
) -> Result<Payload, Failure> {
    let activity_type = ctx.info().activity_type.clone();
    let Some(run) = activities.get(&activity_type) else {
        let mut known: Vec<_> = activities.keys().cloned().collect();
        known.sort();
        return Err(ApplicationError::new(format!(
            "activity type {activity_type:?} is not registered on this worker (registered: {})",
            known.join(", ")
        ))
        .with_type("NotFoundError")
        .into());
    };
    // In the attempt's span, so the activity's own events are in it.
    let attempt = if interceptors.is_empty() {
        run(ctx, input)
    } else {
        let input = ExecuteActivityInput { ctx, args: input };
        ActivityNext::run(interceptors.clone(), run.clone(), input)
    };
    let mut handle = tokio::spawn(attempt.in_current_span());
    let joined = match limit {
        Some(limit) => match tokio::time::timeout(limit, &mut handle).await {
            Ok(joined) => joined,
            Err(_) => {
                handle.abort();
                // Wait until the activity's future is dropped, so nothing of
                // this attempt runs on once its failure is reported.
                let _ = handle.await;
                return Err(Failure::Timeout(TimeoutError {
                    timeout_type: TimeoutType::StartToClose,
                    last_heartbeat_details: Vec::new(),
                }));
            }
        },
        None => handle.await,
    };
    match joined {
        Ok(result) => result.map_err(Failure::truncated),
        Err(e) => Err(ApplicationError::new(format!(
            "activity {activity_type:?} panicked: {}",
            crate::panic::join_error(e)
        ))
        .with_type("Panic")
        .into()),
    }
}
