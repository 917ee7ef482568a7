//! Where an activity call's options come from: the call, the activity's
//! `#[activity(..)]` declaration, the worker's default; and what a call
//! that cannot be scheduled does (it fails the workflow task, not the
//! workflow).

mod support;

use support::{env, names, task_failure, within};

use std::time::Duration;

use weft::WorkerOptions;
use weft::backend::RunStatus;
use weft::history::{Event, EventAttributes};
use weft::prelude::*;

const QUEUE: &str = "options";

#[activity(
    start_to_close_timeout = "5s",
    heartbeat_timeout = "2s",
    retry(maximum_attempts = 2, initial_interval = "10ms", non_retryable_errors = ["Fatal"])
)]
async fn flaky(fail_with: String) -> Result<String, ApplicationError> {
    if fail_with.is_empty() {
        Ok("done".into())
    } else {
        Err(ApplicationError::new("failed").with_type(fail_with))
    }
}

#[activity]
async fn plain(n: u32) -> Result<u32, ApplicationError> {
    Ok(n + 1)
}

/// Calls `flaky` with only its declared options, then with a call-site
/// timeout that wins over them.
#[workflow]
#[derive(Default)]
struct Declared;

#[workflow]
impl Declared {
    #[run]
    async fn run(ctx: WorkflowContext<Self>, fail_with: String) -> WorkflowResult<String> {
        let first = ctx.activity(FLAKY, String::new()).await?;
        ctx.activity(FLAKY, String::new())
            .start_to_close_timeout(Duration::from_secs(9))
            .await?;
        match ctx.activity(FLAKY, fail_with).await {
            Ok(_) => Ok(first),
            Err(e) => Ok(format!("{} after {} attempt(s)", e.cause, e.attempt)),
        }
    }
}

/// Calls `plain`, which declares nothing, with an invalid retry policy or
/// none at all.
#[workflow]
#[derive(Default)]
struct Undeclared;

#[workflow]
impl Undeclared {
    #[run]
    async fn run(ctx: WorkflowContext<Self>, bad_policy: bool) -> WorkflowResult<u32> {
        let call = ctx.activity(PLAIN, 1);
        let call = if bad_policy {
            call.start_to_close_timeout(Duration::from_secs(1))
                .retry_policy(RetryPolicy::default().with_backoff_coefficient(0.5))
        } else {
            call
        };
        Ok(call.await?)
    }
}

fn scheduled(events: &[Event]) -> Vec<(Option<Duration>, Option<Duration>, u32)> {
    events
        .iter()
        .filter_map(|e| match &e.attributes {
            EventAttributes::ActivityTaskScheduled {
                start_to_close_timeout,
                heartbeat_timeout,
                retry_policy,
                ..
            } => Some((
                *start_to_close_timeout,
                *heartbeat_timeout,
                retry_policy.maximum_attempts,
            )),
            _ => None,
        })
        .collect()
}

fn worker(client: &Client, options: WorkerOptions) -> weft::worker::WorkerHandle {
    let w = Worker::new(client, QUEUE)
        .with_options(options)
        .register_workflow::<Declared>()
        .register_workflow::<Undeclared>()
        .register_activity(FLAKY)
        .register_activity(PLAIN);
    w.start().unwrap()
}

both_stores! {
    declared_options_apply_where_the_call_sets_none(sqlite) {
        let env = env(sqlite).await;
        let w = worker(&env.client, WorkerOptions::default());
        let h = env.client
            .start_workflow(Declared::run, "Transient".to_string(), WorkflowOptions::new("declared", QUEUE))
            .await
            .unwrap();
        let out = within(h.result()).await.unwrap();
        assert!(out.contains("after 2 attempt(s)"), "{out}");
        let events = h.history().await.unwrap();
        let secs = |s| Some(Duration::from_secs(s));
        assert_eq!(scheduled(&events), [(secs(5), secs(2), 2), (secs(9), secs(2), 2), (secs(5), secs(2), 2)]);
        // A declared non-retryable type stops at the first attempt.
        let h = env.client
            .start_workflow(Declared::run, "Fatal".to_string(), WorkflowOptions::new("fatal", QUEUE))
            .await
            .unwrap();
        let out = within(h.result()).await.unwrap();
        assert!(out.contains("after 1 attempt(s)"), "{out}");
        w.shutdown().await;
    }

    an_invalid_retry_policy_fails_the_task_not_the_workflow(sqlite) {
        let env = env(sqlite).await;
        let w = worker(&env.client, WorkerOptions::default());
        let h = env.client
            .start_workflow(Undeclared::run, true, WorkflowOptions::new("bad-policy", QUEUE))
            .await
            .unwrap();
        let text = task_failure(&h).await;
        assert!(text.contains("activity \"plain\": invalid retry policy: backoff_coefficient"), "{text}");
        let d = h.describe().await.unwrap();
        assert_eq!(d.status, RunStatus::Running);
        assert!(!names(&h.history().await.unwrap()).contains(&"ActivityTaskScheduled"));
        w.shutdown().await;
    }

    the_workers_default_timeout_covers_calls_without_one(sqlite) {
        let env = env(sqlite).await;
        let w = worker(&env.client, WorkerOptions {
            default_start_to_close_timeout: Some(Duration::from_secs(3)),
            ..WorkerOptions::default()
        });
        let h = env.client
            .start_workflow(Undeclared::run, false, WorkflowOptions::new("default", QUEUE))
            .await
            .unwrap();
        assert_eq!(within(h.result()).await.unwrap(), 2);
        let events = h.history().await.unwrap();
        assert_eq!(scheduled(&events), [(Some(Duration::from_secs(3)), None, 0)]);
        w.shutdown().await;
    }
}
