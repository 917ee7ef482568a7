//! What a user sees when work waits or fails: a task type no worker polls
//! for is a warning in the log and in `describe`; a pending activity's
//! attempt, last failure and last heartbeat are in `describe`; every
//! failed activity attempt is logged with its attempt and error.

mod support;

use support::logs::logs;
use support::{env, within};

use std::time::Duration;

use weft::WorkflowHandle;
use weft::backend::{PendingActivityState, RunStatus};
use weft::prelude::*;

#[activity(start_to_close_timeout = "10s", retry(initial_interval = "1h"))]
async fn broken(order: u32) -> Result<u32, ApplicationError> {
    Err(ApplicationError::new(format!("order {order}: the shop is closed")).with_type("Closed"))
}

/// Lets `beating` finish.
static RELEASE: tokio::sync::Notify = tokio::sync::Notify::const_new();

#[activity(start_to_close_timeout = "1h", heartbeat_timeout = "1h")]
async fn beating(ctx: ActivityContext) -> Result<(), Failure> {
    ctx.heartbeat(&1u32)?;
    RELEASE.notified().await;
    Ok(())
}

#[workflow]
#[derive(Default)]
struct Shop;

#[workflow]
impl Shop {
    #[run]
    async fn run(ctx: WorkflowContext<Self>, order: u32) -> WorkflowResult<u32> {
        if order == 0 {
            ctx.activity(BEATING, ()).await?;
            return Ok(0);
        }
        Ok(ctx.activity(BROKEN, order).await?)
    }
}

/// Panics every time its workflow task runs.
#[workflow]
async fn broken_flow(ctx: WorkflowContext, order: u32) -> WorkflowResult<u32> {
    let _ = ctx;
    if order > 0 {
        panic!("order {order} cannot be handled");
    }
    Ok(order)
}

/// Reads `describe` until `pred` holds (there is no event to await for
/// what it shows), for at most 10 s.
async fn describe_until(
    h: &WorkflowHandle<Shop>,
    pred: impl Fn(&weft::backend::Description) -> bool,
) -> weft::backend::Description {
    for _ in 0..2000 {
        let d = h.describe().await.unwrap();
        if pred(&d) {
            return d;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    panic!("describe never showed what was awaited");
}

both_stores! {
    an_unpolled_queue_is_a_warning_in_the_log_and_in_describe(sqlite) {
        let logs = logs();
        let env = env(sqlite).await;
        let queue = if sqlite { "nobody-sqlite" } else { "nobody-memory" };
        let h = env.client
            .start_workflow(Shop::run, 7, WorkflowOptions::new("unpolled", queue))
            .await
            .unwrap();
        let d = h.describe().await.unwrap();
        let expected = format!("no worker polls task queue \"{queue}\" for workflow tasks");
        assert!(d.warnings.iter().any(|w| w.contains(&expected)), "{:?}", d.warnings);
        let line = within(logs.wait_for(&[&expected, "\"Shop\""])).await;
        assert!(line.starts_with("WARN"), "{line}");
        // A worker with the workflow but no activities: the activity waits.
        let w = Worker::new(&env.client, queue).register_workflow::<Shop>();
        let w = w.start().unwrap();
        let expected = format!("no worker polls task queue \"{queue}\" for activity tasks");
        let d = describe_until(&h, |d| d.warnings.iter().any(|w| w.contains(&expected))).await;
        assert_eq!(d.warnings.len(), 1, "{:?}", d.warnings);
        assert!(d.warnings[0].contains("\"broken\""), "{:?}", d.warnings);
        within(logs.wait_for(&[&expected, "\"broken\""])).await;
        w.shutdown().await;
    }

    a_failed_attempt_is_logged_and_described(sqlite) {
        let logs = logs();
        let env = env(sqlite).await;
        let queue = if sqlite { "broken-sqlite" } else { "broken-memory" };
        let w = Worker::new(&env.client, queue).register_workflow::<Shop>().register_activity(BROKEN);
        let w = w.start().unwrap();
        let h = env.client
            .start_workflow(Shop::run, 42, WorkflowOptions::new("broken", queue))
            .await
            .unwrap();
        let line = within(logs.wait_for(&["activity attempt failed", "order 42: the shop is closed"])).await;
        assert!(line.contains("attempt=1") && line.contains("activity=broken"), "{line}");
        // The retry waits an hour: describe shows why.
        let d = describe_until(&h, |d| {
            d.activities.first().is_some_and(|a| a.last_failure.is_some())
        })
        .await;
        let a = &d.activities[0];
        assert_eq!((a.activity_type.as_str(), a.attempt), ("broken", 2));
        assert!(matches!(a.state, PendingActivityState::Backoff(_)), "{:?}", a.state);
        assert!(a.last_failure.as_deref().unwrap().contains("the shop is closed (type: Closed)"), "{a:?}");
        assert!(d.warnings.is_empty(), "{:?}", d.warnings);
        h.terminate("done").await.unwrap();
        w.shutdown().await;
    }

    a_panic_retried_is_reported_once_then_counted(sqlite) {
        let env = env(sqlite).await;
        let queue = if sqlite { "panics-sqlite" } else { "panics-memory" };
        let w = Worker::new(&env.client, queue)
            .register_workflow::<BrokenFlow>()
            .start()
            .unwrap();
        let h = env.client
            .start_workflow(broken_flow, 3, WorkflowOptions::new("panics", queue))
            .await
            .unwrap();
        // Retried with backoff (100, 200 ms, ..): the third attempt's
        // failure says how often the panic was seen; only the first was
        // reported by the panic hook.
        for _ in 0..2000 {
            let d = h.describe().await.unwrap();
            if d.workflow_task_attempt >= 3 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let d = h.describe().await.unwrap();
        let failure = d.last_workflow_task_failure.unwrap();
        assert!(failure.contains("order 3 cannot be handled (at "), "{failure}");
        assert!(failure.contains("visibility.rs"), "{failure}");
        assert!(failure.contains("times, reported the first)"), "{failure}");
        h.terminate("done").await.unwrap();
        w.shutdown().await;
    }

    a_running_activity_shows_its_last_heartbeat(sqlite) {
        let env = env(sqlite).await;
        let queue = if sqlite { "beating-sqlite" } else { "beating-memory" };
        let w = Worker::new(&env.client, queue).register_workflow::<Shop>().register_activity(BEATING);
        let w = w.start().unwrap();
        let h = env.client
            .start_workflow(Shop::run, 0, WorkflowOptions::new("beating", queue))
            .await
            .unwrap();
        let d = describe_until(&h, |d| {
            d.activities.first().is_some_and(|a| a.last_heartbeat.is_some())
        })
        .await;
        let a = &d.activities[0];
        assert_eq!((a.activity_type.as_str(), a.attempt), ("beating", 1));
        assert!(matches!(a.state, PendingActivityState::Started(_)), "{:?}", a.state);
        assert_eq!(d.status, RunStatus::Running);
        RELEASE.notify_one();
        assert_eq!(within(h.result()).await.unwrap(), 0);
        w.shutdown().await;
    }
}
