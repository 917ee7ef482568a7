//! Activity tasks from Temporal core (remote and local ones alike), run by
//! weft's activity runner; the built-in local activity that records side
//! effects (`side_effects`) is answered here too, on every workflow worker.
//!
//! Heartbeats go to core, which throttles and sends them; the server
//! answers a heartbeat with the cancellation request, and core hands that
//! on as a second task with the same token (`Cancel`). The activity learns
//! it at its next heartbeat, as on weft's engine.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::SystemTime;

use temporalio_common::protos::coresdk::activity_result::ActivityExecutionResult;
use temporalio_common::protos::coresdk::activity_task::{
    ActivityTask, Start, activity_task::Variant,
};
use temporalio_common::protos::coresdk::{ActivityHeartbeat, ActivityTaskCompletion};
use temporalio_sdk_core::{PollError, Worker as CoreWorker};
use tokio::task::JoinSet;
use tracing::Instrument as _;

use super::convert::{
    duration_from, failure_to, payload_to, payloads_from, payloads_to, time_from,
};
use super::side_effects;
use crate::activity::{ActivityContext, ActivityInfo, ErasedActivity, HeartbeatSink};
use crate::backend::PayloadCoder;
use crate::failure::{ApplicationError, Failure};
use crate::telemetry::{ActivityInterceptor, MetricMeter, Metrics};

/// What running activities needs.
pub(crate) struct Setup {
    pub namespace: String,
    pub task_queue: String,
    pub activities: HashMap<String, ErasedActivity>,
    pub interceptors: Arc<[Arc<dyn ActivityInterceptor>]>,
    pub metrics: Option<Metrics>,
    /// The client's payload codecs, when it has any.
    pub converter: Option<crate::converter::DataConverter>,
}

/// Cancellation flags of the running attempts, by task token.
type Running = Arc<Mutex<HashMap<Vec<u8>, Arc<AtomicBool>>>>;

/// Polls core's activity tasks until core shuts down, running each.
pub(crate) async fn activity_loop(core: Arc<CoreWorker>, setup: Arc<Setup>) {
    let running: Running = Arc::default();
    let mut tasks = JoinSet::new();
    loop {
        let task = match core.poll_activity_task().await {
            Ok(task) => task,
            Err(PollError::ShutDown) => break,
            Err(e) => {
                tracing::warn!(error = %e, "polling activity tasks failed; retrying");
                tokio::time::sleep(std::time::Duration::from_millis(200)).await;
                continue;
            }
        };
        let ActivityTask {
            task_token,
            variant,
        } = task;
        match variant {
            Some(Variant::Start(start)) => {
                let flag = Arc::new(AtomicBool::new(false));
                running
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .insert(task_token.clone(), flag.clone());
                let (core, setup, running) = (core.clone(), setup.clone(), running.clone());
                let span = tracing::info_span!(
                    "activity",
                    activity_type = %start.activity_type,
                    activity_id = %start.activity_id,
                    attempt = start.attempt,
                );
                tasks.spawn(
                    async move {
                        let result = run(&core, &setup, task_token.clone(), start, flag).await;
                        running
                            .lock()
                            .unwrap_or_else(PoisonError::into_inner)
                            .remove(&task_token);
                        let completion = ActivityTaskCompletion {
                            task_token,
                            result: Some(result),
                        };
                        if let Err(e) = core.complete_activity_task(completion).await {
                            tracing::warn!(error = %e, "activity result refused");
                        }
                    }
                    .instrument(span),
                );
            }
            Some(Variant::Cancel(cancel)) => {
                tracing::debug!(reason = cancel.reason, "activity cancellation requested");
                if let Some(flag) = running
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .get(&task_token)
                {
                    flag.store(true, Ordering::SeqCst);
                }
            }
            None => tracing::warn!("activity task without a variant ignored"),
        }
        while tasks.try_join_next().is_some() {}
    }
    while tasks.join_next().await.is_some() {}
}

async fn run(
    core: &Arc<CoreWorker>,
    setup: &Setup,
    task_token: Vec<u8>,
    start: Start,
    cancelled: Arc<AtomicBool>,
) -> ActivityExecutionResult {
    if start.is_local && start.activity_type == side_effects::ACTIVITY_TYPE {
        return side_effects::run(start.input);
    }
    let info = activity_info(setup, &start);
    let sink = heartbeat_sink(core, setup, &task_token, cancelled);
    let coder = |encode| {
        setup
            .converter
            .as_ref()
            .map(|converter| PayloadCoder { converter, encode })
    };
    let mut input = payloads_from(start.input);
    let mut previous = payloads_from(start.heartbeat_details);
    if let Some(decoder) = coder(false)
        && let Err(e) = decoder
            .list(&mut input)
            .and_then(|()| decoder.list(&mut previous))
    {
        return ActivityExecutionResult::fail(failure_to(&codec_failure(&e)));
    }
    let (ctx, heart) = ActivityContext::with_heartbeat(
        info,
        sink,
        duration_from(start.heartbeat_timeout),
        previous,
    );
    let ctx = ctx.with_meter(MetricMeter::new(setup.metrics.clone()));
    let limit = duration_from(start.start_to_close_timeout);
    let result =
        crate::worker::run_activity(&setup.activities, &setup.interceptors, ctx, input, limit)
            .await;
    if let Some(details) = heart.stop() {
        core.record_activity_heartbeat(ActivityHeartbeat {
            task_token,
            details: payloads_to(&details),
        });
    }
    let mut result = result;
    if let Some(encoder) = coder(true)
        && let Err(e) = encoder.result(&mut result)
    {
        return ActivityExecutionResult::fail(failure_to(&codec_failure(&e)));
    }
    match result {
        Ok(p) => ActivityExecutionResult::ok(payload_to(&p)),
        Err(Failure::Canceled(e)) => {
            ActivityExecutionResult::cancel_from_details(e.details.first().map(payload_to))
        }
        Err(f) => ActivityExecutionResult::fail(failure_to(&f)),
    }
}

fn codec_failure(e: &crate::converter::CodecError) -> Failure {
    ApplicationError::new(format!("payload codec: {e}"))
        .with_type(crate::backend::PAYLOAD_CODEC_ERROR)
        .non_retryable()
        .into()
}

fn activity_info(setup: &Setup, start: &Start) -> ActivityInfo {
    let execution = start.workflow_execution.clone().unwrap_or_default();
    ActivityInfo {
        activity_id: start.activity_id.clone(),
        activity_type: start.activity_type.clone(),
        workflow_id: execution.workflow_id,
        workflow_run_id: execution.run_id,
        workflow_type: start.workflow_type.clone(),
        namespace: setup.namespace.clone(),
        task_queue: setup.task_queue.clone(),
        attempt: start.attempt.max(1),
        is_local: start.is_local,
        scheduled_time: time_from(start.current_attempt_scheduled_time)
            .unwrap_or_else(SystemTime::now),
        started_time: time_from(start.started_time).unwrap_or_else(SystemTime::now),
    }
}

/// Where an attempt's heartbeats go: to core, encoded by the client's
/// codecs; the answer is whether a cancellation task came for it.
fn heartbeat_sink(
    core: &Arc<CoreWorker>,
    setup: &Setup,
    task_token: &[u8],
    cancelled: Arc<AtomicBool>,
) -> HeartbeatSink {
    {
        let core = core.clone();
        let token = task_token.to_vec();
        let converter = setup.converter.clone();
        Arc::new(move |mut details| {
            if let Some(converter) = &converter {
                let encoder = PayloadCoder {
                    converter,
                    encode: true,
                };
                if let Err(e) = encoder.list(&mut details) {
                    tracing::warn!(error = %e, "heartbeat details not encoded; not sent");
                    return Box::pin(async { None });
                }
            }
            core.record_activity_heartbeat(ActivityHeartbeat {
                task_token: token.clone(),
                details: payloads_to(&details),
            });
            let cancelled = cancelled.load(Ordering::SeqCst);
            Box::pin(async move { Some(cancelled) })
        })
    }
}
