//! Cancelling a workflow (`handle.cancel()`), end to end: the request
//! reaches the timers and activities the workflow waits on, once, with a
//! canceled error; cleanup after it runs normally; the run closes canceled
//! when the code returns that error, and as its code says otherwise. Each
//! case runs on both stores, and the main ones in strict mode (cache 0), so
//! their replay is exercised.

mod support;

use support::{env, history_until, names, strict, within};

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use weft::backend::RunStatus;
use weft::history::{Event, EventAttributes};
use weft::replay::Replayer;
use weft::workflow::ActivityCancellationType;
use weft::{
    Client, ClientError, Failure, Worker, WorkerOptions, WorkflowContext, WorkflowHandle,
    WorkflowOptions, WorkflowResult,
};

const QUEUE: &str = "cancellation";

fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

// ---- what the activities and workflows tell the test, by tag ---------------

type Map<T> = Mutex<Option<HashMap<String, T>>>;

/// Latches blocking activities wait on.
static RELEASE: Map<Arc<tokio::sync::Notify>> = Mutex::new(None);
/// Where activities say they started.
static STARTED: Map<tokio::sync::mpsc::UnboundedSender<()>> = Mutex::new(None);
/// How many times each tag's cleanup activity ran.
static CLEANUPS: Map<u32> = Mutex::new(None);
/// What each tag's workflow saw.
static SAW: Map<String> = Mutex::new(None);

fn with<T, R>(map: &Map<T>, f: impl FnOnce(&mut HashMap<String, T>) -> R) -> R {
    f(map.lock().unwrap().get_or_insert_with(HashMap::new))
}

fn latch(tag: &str) -> Arc<tokio::sync::Notify> {
    with(&RELEASE, |m| m.entry(tag.to_string()).or_default().clone())
}

fn on_start(tag: &str) -> tokio::sync::mpsc::UnboundedReceiver<()> {
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    with(&STARTED, |m| m.insert(tag.to_string(), tx));
    rx
}

/// Starts `run` as `tag`, waits until its first task has run, and asks
/// for its cancellation.
async fn start_then_cancel<W: weft::Workflow<Input = String>>(
    client: &Client,
    run: impl weft::workflow::RunFn<W>,
    tag: &str,
) -> WorkflowHandle<W> {
    let mut on_start = on_start(tag);
    let h = client
        .start_workflow(run, tag.to_string(), options(tag))
        .await
        .unwrap();
    within(on_start.recv())
        .await
        .expect("the first task is done");
    h.cancel().await.unwrap();
    h
}

/// Starts `run` as `tag` with no worker, asks for its cancellation (so the
/// request is in history before the first task), then starts the worker.
async fn cancel_before_the_first_task<W: weft::Workflow<Input = String>>(
    client: &Client,
    run: impl weft::workflow::RunFn<W>,
    tag: &str,
) -> (WorkflowHandle<W>, weft::worker::WorkerHandle) {
    let h = client
        .start_workflow(run, tag.to_string(), options(tag))
        .await
        .unwrap();
    h.cancel().await.unwrap();
    (h, worker(client, strict(0)))
}

fn started(tag: &str) {
    with(&STARTED, |m| m.get(tag).map(|tx| tx.send(())));
}

fn cleanups(tag: &str) -> u32 {
    with(&CLEANUPS, |m| m.get(tag).copied().unwrap_or(0))
}

fn saw(tag: &str, what: String) {
    with(&SAW, |m| m.insert(tag.to_string(), what));
}

fn seen(tag: &str) -> Option<String> {
    with(&SAW, |m| m.get(tag).cloned())
}

activity!(notify_started, String, |tag| {
    started(&tag);
    Ok(tag)
});

// Says it started, then waits for the test to release it; never heartbeats.
activity!(blocker, String, |tag| {
    started(&tag);
    latch(&tag).notified().await;
    Ok(format!("{tag} released"))
});

activity!(cleanup, String, |tag| {
    with(&CLEANUPS, |m| *m.entry(tag.clone()).or_default() += 1);
    Ok(format!("{tag} cleaned up"))
});

// ---- workflows -------------------------------------------------------------

/// Tells the test (through an activity) that its first task is done.
fn announce<W>(ctx: &WorkflowContext<W>, tag: &str) -> weft::workflow::JoinHandle<()> {
    let call = ctx
        .activity(notify_started, tag.to_string())
        .start_to_close_timeout(secs(30));
    let announced = std::future::IntoFuture::into_future(call);
    ctx.spawn(weft::i_promise_this_is_deterministic(async move {
        // A cancellation that arrives first resolves it; that is fine.
        let _ = announced.await;
    }))
}

/// Waits on a long timer, then cleans up, then returns the timer's outcome
/// (the Cancellation pattern's try/finally).
async fn await_timer(ctx: WorkflowContext<AwaitTimer>, tag: String) -> WorkflowResult<String> {
    let _announced = announce(&ctx, &tag);
    let slept = ctx.sleep(secs(3600)).await;
    saw(&tag, format!("{slept:?}"));
    ctx.activity(cleanup, tag)
        .start_to_close_timeout(secs(30))
        .await?;
    slept?;
    Ok("slept".into())
}
workflow!(AwaitTimer, String, String, await_timer);

/// Waits on a blocking activity with the cancellation type given, then
/// cleans up, then returns the activity's outcome.
async fn await_activity(
    ctx: WorkflowContext<AwaitActivity>,
    (tag, cancellation): (String, ActivityCancellationType),
) -> WorkflowResult<String> {
    let outcome = ctx
        .activity(blocker, tag.clone())
        .start_to_close_timeout(secs(60))
        .cancellation_type(cancellation)
        .await;
    saw(
        &tag,
        match &outcome {
            Ok(value) => format!("completed: {value}"),
            Err(e) => format!(
                "failed: retry state {:?}, cause {}",
                e.retry_state,
                e.cause.type_name()
            ),
        },
    );
    ctx.activity(cleanup, tag)
        .start_to_close_timeout(secs(30))
        .await?;
    let value = outcome?;
    Ok(format!("{value}; cancelled() = {}", ctx.cancelled()))
}
workflow!(
    AwaitActivity,
    (String, ActivityCancellationType),
    String,
    await_activity
);

/// Catches the cancellation and completes normally; what it starts after
/// the request is not cancelled.
async fn catches(ctx: WorkflowContext<Catches>, tag: String) -> WorkflowResult<String> {
    let _announced = announce(&ctx, &tag);
    match ctx.sleep(secs(3600)).await {
        Ok(()) => Ok("slept".into()),
        Err(e) => {
            // Created after the request: it runs and fires.
            ctx.sleep(Duration::from_millis(10)).await?;
            ctx.activity(cleanup, tag)
                .start_to_close_timeout(secs(30))
                .await?;
            Ok(format!(
                "caught \"{}\"; cancelled() = {}",
                e.message,
                ctx.cancelled()
            ))
        }
    }
}
workflow!(Catches, String, String, catches);

/// Notes whether cancellation was requested before its first await.
async fn first_await(ctx: WorkflowContext<FirstAwait>, tag: String) -> WorkflowResult<String> {
    saw(&tag, format!("cancelled() at start = {}", ctx.cancelled()));
    ctx.sleep(secs(3600)).await?;
    Ok("slept".into())
}
workflow!(FirstAwait, String, String, first_await);

/// Awaits a local activity (the tag's cleanup, which counts its runs), and
/// notes how the call ended.
async fn local_first(ctx: WorkflowContext<LocalFirst>, tag: String) -> WorkflowResult<String> {
    let call = ctx
        .local_activity(cleanup, tag.clone())
        .start_to_close_timeout(secs(30))
        .await;
    saw(&tag, format!("{call:?}"));
    Ok(call?)
}
workflow!(LocalFirst, String, String, local_first);

/// Runs a local activity that waits for the test, notes how it ended, then
/// sleeps.
async fn local_then_sleep(
    ctx: WorkflowContext<LocalThenSleep>,
    tag: String,
) -> WorkflowResult<String> {
    let call = ctx
        .local_activity(blocker, tag.clone())
        .start_to_close_timeout(secs(30))
        .await;
    saw(&tag, format!("{call:?}"));
    ctx.sleep(secs(3600)).await?;
    Ok(call?)
}
workflow!(LocalThenSleep, String, String, local_then_sleep);

/// Waits on a condition that never holds: the cancellation ends the wait
/// with a canceled error. `ctx.cancellation()` then resolves at once, and
/// a condition created after the request waits as usual.
async fn condition(ctx: WorkflowContext<ConditionOrCancel>, tag: String) -> WorkflowResult<String> {
    let _announced = announce(&ctx, &tag);
    let waited = ctx.wait_condition(|_| false).await;
    ctx.cancellation().await;
    let after = ctx.wait_condition(|_| true).await;
    saw(&tag, format!("{waited:?} then {after:?}"));
    waited?;
    Ok("the condition held".to_string())
}
workflow!(ConditionOrCancel, String, String, condition);

fn worker(client: &Client, options: WorkerOptions) -> weft::worker::WorkerHandle {
    let w = Worker::new(client, QUEUE)
        .with_options(options)
        .register_workflow::<AwaitTimer>()
        .register_workflow::<AwaitActivity>()
        .register_workflow::<Catches>()
        .register_workflow::<FirstAwait>()
        .register_workflow::<ConditionOrCancel>()
        .register_workflow::<LocalFirst>()
        .register_workflow::<LocalThenSleep>()
        .register_activity(notify_started)
        .register_activity(blocker)
        .register_activity(cleanup);
    w.start().unwrap()
}

fn replay(events: &[Event]) {
    let mut r = Replayer::new();
    r.register_workflow::<AwaitTimer>()
        .register_workflow::<AwaitActivity>()
        .register_workflow::<Catches>()
        .register_workflow::<FirstAwait>()
        .register_workflow::<ConditionOrCancel>()
        .register_workflow::<LocalFirst>()
        .register_workflow::<LocalThenSleep>();
    r.replay(events).expect("the history replays cleanly");
}

fn options(id: &str) -> WorkflowOptions {
    WorkflowOptions::new(id, QUEUE)
}

fn count(events: &[Event], name: &str) -> usize {
    names(events).iter().filter(|n| **n == name).count()
}

/// Checks that the run closed canceled: its status, the error `result()`
/// returns, and the last event.
async fn assert_canceled<W: weft::Workflow>(h: &WorkflowHandle<W>) -> Vec<Event>
where
    W::Output: std::fmt::Debug,
{
    match within(h.result()).await {
        Err(ClientError::Workflow(e)) => assert!(
            matches!(e.cause, Failure::Canceled(_)),
            "the cause is a cancellation: {e:?}"
        ),
        other => panic!("expected a canceled run, got {other:?}"),
    }
    assert_eq!(h.describe().await.unwrap().status, RunStatus::Canceled);
    let events = h.history().await.unwrap();
    assert_eq!(
        names(&events).last(),
        Some(&"WorkflowExecutionCanceled"),
        "{:?}",
        names(&events)
    );
    assert_eq!(count(&events, "WorkflowExecutionCancelRequested"), 1);
    events
}

async fn cancel_while_awaiting_a_timer(sqlite: bool, worker_options: WorkerOptions) {
    let env = env(sqlite).await;
    let w = worker(&env.client, worker_options);
    let tag = format!("timer-{sqlite}-{}", unique());
    let h = start_then_cancel(&env.client, await_timer, &tag).await;
    let events = assert_canceled(&h).await;
    assert_eq!(cleanups(&tag), 1, "the cleanup activity ran once");
    let slept = seen(&tag).unwrap_or_default();
    assert!(slept.starts_with("Err(CanceledError"), "{slept}");
    assert_eq!(count(&events, "TimerCanceled"), 1);
    assert_eq!(count(&events, "TimerFired"), 0);
    replay(&events);
    w.shutdown().await;
}

/// A number no other run of this process has: tags of runs that differ
/// only by worker options stay apart.
fn unique() -> u32 {
    static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    NEXT.fetch_add(1, std::sync::atomic::Ordering::SeqCst)
}

/// Starts `AwaitActivity` with `cancellation`, waits until its blocker
/// runs, and cancels the workflow.
async fn cancel_while_awaiting_an_activity(
    client: &Client,
    tag: &str,
    cancellation: ActivityCancellationType,
) -> WorkflowHandle<AwaitActivity> {
    let mut on_start = on_start(tag);
    let h = client
        .start_workflow(
            await_activity,
            (tag.to_string(), cancellation),
            options(tag),
        )
        .await
        .unwrap();
    within(on_start.recv()).await.expect("the activity started");
    h.cancel().await.unwrap();
    h
}

async fn try_cancel(sqlite: bool, worker_options: WorkerOptions) {
    let env = env(sqlite).await;
    let w = worker(&env.client, worker_options);
    let tag = format!("try-{sqlite}-{}", unique());
    let h =
        cancel_while_awaiting_an_activity(&env.client, &tag, ActivityCancellationType::TryCancel)
            .await;
    // The run ends without waiting for the activity, which never heartbeats
    // and still runs.
    let events = assert_canceled(&h).await;
    assert_eq!(
        seen(&tag).as_deref(),
        Some("failed: retry state CancelRequested, cause CanceledError")
    );
    assert_eq!(cleanups(&tag), 1);
    assert_eq!(count(&events, "ActivityTaskCancelRequested"), 1);
    assert_eq!(
        count(&events, "ActivityTaskCompleted"),
        1,
        "only the cleanup"
    );
    replay(&events);
    latch(&tag).notify_one();
    w.shutdown().await;
}

both_stores! {
    cancel_while_awaiting_a_timer_runs_cleanup_and_ends_canceled(sqlite) {
        cancel_while_awaiting_a_timer(sqlite, WorkerOptions::default()).await;
    }

    cancel_while_awaiting_a_timer_in_strict_mode(sqlite) {
        cancel_while_awaiting_a_timer(sqlite, strict(0)).await;
    }

    try_cancel_resolves_at_once(sqlite) {
        try_cancel(sqlite, WorkerOptions::default()).await;
    }

    try_cancel_resolves_at_once_in_strict_mode(sqlite) {
        try_cancel(sqlite, strict(0)).await;
    }

    abandon_resolves_at_once_and_asks_nothing(sqlite) {
        let env = env(sqlite).await;
        let w = worker(&env.client, strict(0));
        let tag = format!("abandon-{sqlite}");
        let h = cancel_while_awaiting_an_activity(
            &env.client,
            &tag,
            ActivityCancellationType::Abandon,
        )
        .await;
        let events = assert_canceled(&h).await;
        assert_eq!(
            seen(&tag).as_deref(),
            Some("failed: retry state CancelRequested, cause CanceledError")
        );
        assert_eq!(cleanups(&tag), 1);
        assert_eq!(count(&events, "ActivityTaskCancelRequested"), 0);
        replay(&events);
        latch(&tag).notify_one();
        w.shutdown().await;
    }

    wait_cancellation_completed_waits_for_the_activity(sqlite) {
        let env = env(sqlite).await;
        let w = worker(&env.client, strict(0));
        let tag = format!("wait-{sqlite}");
        let h = cancel_while_awaiting_an_activity(
            &env.client,
            &tag,
            ActivityCancellationType::WaitCancellationCompleted,
        )
        .await;
        // The request is recorded, and the workflow keeps waiting.
        history_until(&h, |e| {
            matches!(e.attributes, EventAttributes::ActivityTaskCancelRequested { .. })
        })
        .await;
        assert_eq!(seen(&tag), None, "the workflow still waits");
        assert_eq!(h.describe().await.unwrap().status, RunStatus::Running);
        // The activity never heartbeats, so it never learns; it completes,
        // and the workflow sees its completion, as Temporal reports it.
        latch(&tag).notify_one();
        let result = within(h.result()).await.unwrap();
        assert_eq!(result, format!("{tag} released; cancelled() = true"));
        assert_eq!(seen(&tag), Some(format!("completed: {tag} released")));
        assert_eq!(cleanups(&tag), 1);
        let events = h.history().await.unwrap();
        assert_eq!(names(&events).last(), Some(&"WorkflowExecutionCompleted"));
        replay(&events);
        w.shutdown().await;
    }

    caught_cancellation_completes_and_later_futures_run(sqlite) {
        let env = env(sqlite).await;
        let w = worker(&env.client, strict(0));
        let tag = format!("catch-{sqlite}");
        let h = start_then_cancel(&env.client, catches, &tag).await;
        let result = within(h.result()).await.unwrap();
        assert!(result.starts_with("caught \"timer canceled"), "{result}");
        assert!(result.ends_with("cancelled() = true"), "{result}");
        assert_eq!(h.describe().await.unwrap().status, RunStatus::Completed);
        assert_eq!(cleanups(&tag), 1);
        let events = h.history().await.unwrap();
        let timers: Vec<(&str, String)> = events
            .iter()
            .filter_map(|e| match &e.attributes {
                EventAttributes::TimerCanceled { timer_id, .. } => {
                    Some(("canceled", timer_id.clone()))
                }
                EventAttributes::TimerFired { timer_id, .. } => Some(("fired", timer_id.clone())),
                _ => None,
            })
            .collect();
        // The timer waited on is cancelled; the one started after fires.
        assert_eq!(
            timers,
            [("canceled", "1".to_string()), ("fired", "2".to_string())]
        );
        replay(&events);
        w.shutdown().await;
    }

    // A local activity not yet started when the request reaches the code
    // does not run: its call resolves with the canceled error.
    local_activity_awaited_when_cancellation_arrives(sqlite) {
        let env = env(sqlite).await;
        let tag = format!("local-{sqlite}");
        let (h, w) = cancel_before_the_first_task(&env.client, local_first, &tag).await;
        let events = assert_canceled(&h).await;
        let saw = seen(&tag).unwrap_or_default();
        assert!(
            saw.starts_with("Err(ActivityError: ") && saw.contains("Caused by:\n    CanceledError"),
            "{saw}"
        );
        assert_eq!(cleanups(&tag), 0, "the local activity never ran");
        assert_eq!(count(&events, "MarkerRecorded"), 0);
        replay(&events);
        w.shutdown().await;
    }

    // A local activity running when the request arrives finishes and is
    // recorded: the worker holds the task meanwhile, so the request reaches
    // the code with the next task, at its next await.
    local_activity_running_when_cancellation_arrives(sqlite) {
        let env = env(sqlite).await;
        let tag = format!("local-running-{sqlite}");
        let mut on_start = on_start(&tag);
        let w = worker(&env.client, strict(0));
        let h = env
            .client
            .start_workflow(local_then_sleep, tag.clone(), options(&tag))
            .await
            .unwrap();
        within(on_start.recv()).await.expect("the local activity started");
        h.cancel().await.unwrap();
        latch(&tag).notify_one();
        let events = assert_canceled(&h).await;
        assert_eq!(seen(&tag).as_deref(), Some(&*format!("Ok(\"{tag} released\")")));
        assert_eq!(count(&events, "MarkerRecorded"), 1);
        assert_eq!(count(&events, "TimerCanceled"), 1);
        replay(&events);
        w.shutdown().await;
    }

    cancellation_requested_before_the_first_task(sqlite) {
        let env = env(sqlite).await;
        let tag = format!("early-{sqlite}");
        let (h, w) = cancel_before_the_first_task(&env.client, first_await, &tag).await;
        let events = assert_canceled(&h).await;
        assert_eq!(seen(&tag).as_deref(), Some("cancelled() at start = true"));
        // The code ran to its first await, which the request then reached,
        // all in the first task; the request is written after the task's
        // scheduled event, as Temporal writes it.
        assert_eq!(
            names(&events),
            [
                "WorkflowExecutionStarted",
                "WorkflowTaskScheduled",
                "WorkflowExecutionCancelRequested",
                "WorkflowTaskStarted",
                "WorkflowTaskCompleted",
                "TimerStarted",
                "TimerCanceled",
                "WorkflowExecutionCanceled",
            ]
        );
        replay(&events);
        w.shutdown().await;
    }

    a_waiting_condition_ends_canceled_and_later_ones_wait(sqlite) {
        let env = env(sqlite).await;
        let w = worker(&env.client, strict(0));
        let tag = format!("condition-{sqlite}");
        let h = start_then_cancel(&env.client, condition, &tag).await;
        let events = assert_canceled(&h).await;
        let saw = seen(&tag).unwrap_or_default();
        assert!(
            saw.starts_with("Err(CanceledError") && saw.ends_with("then Ok(())"),
            "{saw}"
        );
        replay(&events);
        w.shutdown().await;
    }

    a_condition_waiting_before_the_first_task_ends_canceled(sqlite) {
        let env = env(sqlite).await;
        let tag = format!("condition-first-{sqlite}");
        let (h, w) = cancel_before_the_first_task(&env.client, condition, &tag).await;
        let events = assert_canceled(&h).await;
        assert!(seen(&tag).unwrap_or_default().starts_with("Err(CanceledError"));
        replay(&events);
        w.shutdown().await;
    }
}
