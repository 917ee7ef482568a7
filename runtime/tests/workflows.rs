//! Workflows written by hand against the runtime's traits, run by a worker on
//! the embedded engine, on both stores. Each test states one rule.

mod support;

use support::{env, names, task_failure, within};

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use weft::backend::{BackendError, RunStatus};
use weft::converter::{self, Payload};
use weft::history::EventAttributes;
use weft::replay::Replayer;
use weft::workflow::{join_all, try_join_all};
use weft::{
    ApplicationError, Client, ClientError, Failure, RetryPolicy, Worker, WorkerOptions,
    WorkflowContext, WorkflowOptions, WorkflowResult,
};

activity!(greet, String, |name| Ok(format!("Hello, {name}!")));

/// Serialises the tests that share a static counter.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

static FLAKY_CALLS: AtomicU32 = AtomicU32::new(0);
activity!(flaky, u32, |fail_times| {
    let n = FLAKY_CALLS.fetch_add(1, Ordering::SeqCst) + 1;
    if n <= fail_times {
        Err(ApplicationError::new(format!("attempt {n} failed")).with_type("Flaky"))
    } else {
        Ok(format!("ok after {n}"))
    }
});

activity!(always_fails, String, |data| Err(ApplicationError::new(
    format!("Processing failed for: {data}")
)
.with_type("RuntimeError")));

static LOCAL_CALLS: AtomicU32 = AtomicU32::new(0);
activity!(local_upper, String, |s| {
    LOCAL_CALLS.fetch_add(1, Ordering::SeqCst);
    Ok(s.to_uppercase())
});

fn opts() -> std::time::Duration {
    Duration::from_secs(5)
}

async fn one_activity(ctx: WorkflowContext<OneActivity>, name: String) -> WorkflowResult<String> {
    Ok(ctx
        .activity(greet, name)
        .start_to_close_timeout(opts())
        .await?)
}
workflow!(OneActivity, String, String, one_activity);

async fn three_parallel(
    ctx: WorkflowContext<Parallel>,
    names: Vec<String>,
) -> WorkflowResult<Vec<String>> {
    let calls = names
        .into_iter()
        .map(|n| ctx.activity(greet, n).start_to_close_timeout(opts()));
    Ok(try_join_all(calls).await?)
}
workflow!(Parallel, Vec<String>, Vec<String>, three_parallel);

/// Greets, and fails one activity without retries: `try_join_all` returns
/// the failure; `join_all` returns every outcome.
async fn one_fails(ctx: WorkflowContext<OneFails>, all: bool) -> WorkflowResult<String> {
    let calls = [greet, always_fails].map(|activity| {
        ctx.activity(activity, "x".to_string())
            .start_to_close_timeout(opts())
            .retry_policy(RetryPolicy::no_retries())
    });
    if all {
        let outcomes = join_all(calls).await;
        return Ok(format!(
            "{} ok",
            outcomes.iter().filter(|o| o.is_ok()).count()
        ));
    }
    let greetings = try_join_all(calls).await?;
    Ok(greetings.join(" "))
}
workflow!(OneFails, bool, String, one_fails);

async fn retried(ctx: WorkflowContext<Retried>, fail_times: u32) -> WorkflowResult<String> {
    let policy = RetryPolicy::default().with_initial_interval(Duration::from_millis(10));
    Ok(ctx
        .activity(flaky, fail_times)
        .start_to_close_timeout(opts())
        .retry_policy(policy)
        .await?)
}
workflow!(Retried, u32, String, retried);

async fn exhausted(ctx: WorkflowContext<Exhausted>, data: String) -> WorkflowResult<String> {
    let policy = RetryPolicy::default()
        .with_initial_interval(Duration::from_millis(10))
        .with_maximum_attempts(3);
    Ok(ctx
        .activity(always_fails, data)
        .start_to_close_timeout(opts())
        .retry_policy(policy)
        .await?)
}
workflow!(Exhausted, String, String, exhausted);

async fn locals(ctx: WorkflowContext<Locals>, s: String) -> WorkflowResult<String> {
    let a = ctx
        .local_activity(local_upper, s)
        .start_to_close_timeout(opts())
        .await?;
    let b = ctx
        .activity(greet, a)
        .start_to_close_timeout(opts())
        .await?;
    Ok(ctx
        .local_activity(local_upper, b)
        .start_to_close_timeout(opts())
        .await?)
}
workflow!(Locals, String, String, locals);

static PANICS_LEFT: AtomicU32 = AtomicU32::new(0);
async fn panicky(ctx: WorkflowContext<Panicky>, name: String) -> WorkflowResult<String> {
    let greeting = ctx
        .activity(greet, name)
        .start_to_close_timeout(opts())
        .await?;
    if PANICS_LEFT
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
        .is_ok()
    {
        panic!("deliberate panic in workflow code");
    }
    Ok(greeting)
}
workflow!(Panicky, String, String, panicky);

async fn fails(_ctx: WorkflowContext<Fails>, reason: String) -> WorkflowResult<String> {
    Err(ApplicationError::new(reason).with_type("Refused").into())
}
workflow!(Fails, String, String, fails);

async fn sleeper(ctx: WorkflowContext<Sleeper>, ms: u64) -> WorkflowResult<u64> {
    let before = ctx.now();
    ctx.sleep(Duration::from_millis(ms)).await?;
    let waited = ctx.now().duration_since(before);
    Ok(u64::try_from(waited.as_millis()).unwrap_or(u64::MAX))
}
workflow!(Sleeper, u64, u64, sleeper);

activity!(never_ends, String, |_s| {
    tokio::time::sleep(Duration::from_secs(600)).await;
    Ok(String::new())
});

async fn slow_local(ctx: WorkflowContext<SlowLocal>, s: String) -> WorkflowResult<String> {
    Ok(ctx
        .local_activity(never_ends, s)
        .start_to_close_timeout(Duration::from_secs(900))
        .await?)
}
workflow!(SlowLocal, String, String, slow_local);

static STOPPED: AtomicU32 = AtomicU32::new(0);

/// Counts the attempts the worker stopped (their future was dropped).
struct CountsDrop;
impl Drop for CountsDrop {
    fn drop(&mut self) {
        STOPPED.fetch_add(1, Ordering::SeqCst);
    }
}

activity!(hangs, String, |_s| {
    let _guard = CountsDrop;
    tokio::time::sleep(Duration::from_secs(600)).await;
    Ok(String::new())
});

async fn hanging(ctx: WorkflowContext<Hanging>, s: String) -> WorkflowResult<String> {
    let policy = RetryPolicy::default()
        .with_initial_interval(Duration::from_millis(10))
        .with_maximum_attempts(2);
    Ok(ctx
        .activity(hangs, s)
        .start_to_close_timeout(Duration::from_millis(100))
        .retry_policy(policy)
        .await?)
}
workflow!(Hanging, String, String, hanging);

async fn huge_result(_ctx: WorkflowContext<HugeResult>, _: ()) -> WorkflowResult<String> {
    Ok("x".repeat(3 * 1024 * 1024))
}
workflow!(HugeResult, (), String, huge_result);

async fn no_timeout(ctx: WorkflowContext<NoTimeout>, name: String) -> WorkflowResult<String> {
    Ok(ctx.activity(greet, name).await?)
}
workflow!(NoTimeout, String, String, no_timeout);

fn worker(client: &Client, queue: &str, cache: usize) -> Worker {
    Worker::new(client, queue)
        .with_options(WorkerOptions {
            max_cached_workflows: cache,
            ..WorkerOptions::default()
        })
        .register_workflow::<OneActivity>()
        .register_workflow::<Parallel>()
        .register_workflow::<OneFails>()
        .register_workflow::<Retried>()
        .register_workflow::<Exhausted>()
        .register_workflow::<Locals>()
        .register_workflow::<Panicky>()
        .register_workflow::<Fails>()
        .register_workflow::<Sleeper>()
        .register_workflow::<NoTimeout>()
        .register_workflow::<HugeResult>()
        .register_workflow::<Hanging>()
        .register_activity(greet)
        .register_activity(flaky)
        .register_activity(always_fails)
        .register_activity(local_upper)
        .register_activity(hangs)
}

fn replayer() -> Replayer {
    let mut r = Replayer::new();
    r.register_workflow::<OneActivity>()
        .register_workflow::<Parallel>()
        .register_workflow::<Retried>()
        .register_workflow::<Exhausted>()
        .register_workflow::<Locals>()
        .register_workflow::<Panicky>()
        .register_workflow::<Fails>()
        .register_workflow::<Sleeper>();
    r
}

both_stores! {
    one_activity_history_has_temporals_layout(sqlite) {
        let env = env(sqlite).await;
        let w = worker(&env.client, "q", 100).start().unwrap();
        let h = env.client
            .start_workflow(one_activity, "Ada".to_string(), WorkflowOptions::new("wf-1", "q"))
            .await
            .unwrap();
        assert_eq!(h.result().await.unwrap(), "Hello, Ada!");
        let events = h.history().await.unwrap();
        assert_eq!(names(&events), [
            "WorkflowExecutionStarted",
            "WorkflowTaskScheduled", "WorkflowTaskStarted", "WorkflowTaskCompleted",
            "ActivityTaskScheduled", "ActivityTaskStarted", "ActivityTaskCompleted",
            "WorkflowTaskScheduled", "WorkflowTaskStarted", "WorkflowTaskCompleted",
            "WorkflowExecutionCompleted",
        ]);
        let ids: Vec<i64> = events.iter().map(|e| e.event_id).collect();
        assert_eq!(ids, (1..=11).collect::<Vec<_>>());
        replayer().replay(&events).unwrap();
        let d = h.describe().await.unwrap();
        assert_eq!(d.status, RunStatus::Completed);
        w.shutdown().await;
        env.engine.shutdown().await;
    }

    parallel_activities_are_scheduled_in_one_task(sqlite) {
        let env = env(sqlite).await;
        let w = worker(&env.client, "q", 100).start().unwrap();
        let input = vec!["a".to_string(), "b".into(), "c".into()];
        let h = env.client
            .start_workflow(three_parallel, input, WorkflowOptions::new("wf-par", "q"))
            .await
            .unwrap();
        assert_eq!(h.result().await.unwrap(), ["Hello, a!", "Hello, b!", "Hello, c!"]);
        let events = h.history().await.unwrap();
        assert_eq!(&names(&events)[4..7], ["ActivityTaskScheduled"; 3]);
        let first_close = events
            .iter()
            .position(|e| matches!(e.attributes, EventAttributes::ActivityTaskCompleted { .. }))
            .unwrap();
        assert!(first_close > 6, "all three scheduled before any completed");
        w.shutdown().await;
    }

    try_join_all_returns_the_failure_and_join_all_every_outcome(sqlite) {
        let env = env(sqlite).await;
        let w = worker(&env.client, "q", 100).start().unwrap();
        let err = env.client
            .execute_workflow(one_fails, false, WorkflowOptions::new("wf-try", "q"))
            .await
            .unwrap_err();
        assert!(format!("{err:#}").contains("Processing failed for: x"), "{err:#}");
        let out = env.client
            .execute_workflow(one_fails, true, WorkflowOptions::new("wf-all", "q"))
            .await
            .unwrap();
        assert_eq!(out, "1 ok");
        w.shutdown().await;
    }

    retries_add_no_events(sqlite) {
        let env = env(sqlite).await;
        let _serial = SERIAL.lock().await;
        FLAKY_CALLS.store(0, Ordering::SeqCst);
        let w = worker(&env.client, "q", 100).start().unwrap();
        let h = env.client
            .start_workflow(retried, 2, WorkflowOptions::new("wf-retry", "q"))
            .await
            .unwrap();
        assert_eq!(h.result().await.unwrap(), "ok after 3");
        let events = h.history().await.unwrap();
        assert_eq!(events.len(), 11, "{:?}", names(&events));
        let started = events
            .iter()
            .find_map(|e| match &e.attributes {
                EventAttributes::ActivityTaskStarted { attempt, last_failure, .. } => Some((*attempt, last_failure.clone())),
                _ => None,
            })
            .unwrap();
        assert_eq!(started.0, 3);
        assert!(format!("{}", started.1.unwrap()).contains("attempt 2 failed"));
        w.shutdown().await;
    }

    exhausted_retries_fail_the_workflow_with_the_chain(sqlite) {
        let env = env(sqlite).await;
        let w = worker(&env.client, "q", 100).start().unwrap();
        let err = env.client
            .execute_workflow(exhausted, "test-data".to_string(), WorkflowOptions::new("wf-ex", "q"))
            .await
            .unwrap_err();
        let ClientError::Workflow(err) = err else { panic!("{err:?}") };
        let text = format!("{err:#}");
        assert!(text.starts_with("WorkflowFailureError: Workflow execution failed"), "{text}");
        assert!(text.contains("ActivityError"), "{text}");
        assert!(text.contains("attempts: 3"), "{text}");
        assert!(text.contains("retry state: maximum attempts reached"), "{text}");
        assert_eq!(text.matches("Processing failed for: test-data").count(), 1, "{text}");
        let Failure::Activity(act) = &err.cause else { panic!("{:?}", err.cause) };
        assert_eq!(act.cause.as_application().unwrap().type_name, "RuntimeError");
        let h = env.client.workflow_handle::<Exhausted>("wf-ex", None);
        assert_eq!(h.history().await.unwrap().len(), 11);
        assert_eq!(h.describe().await.unwrap().status, RunStatus::Failed);
        w.shutdown().await;
    }

    local_activities_are_markers_and_not_rerun_on_replay(sqlite) {
        let env = env(sqlite).await;
        let _serial = SERIAL.lock().await;
        LOCAL_CALLS.store(0, Ordering::SeqCst);
        // Cache size 0: every workflow task replays the run from history.
        let w = worker(&env.client, "q", 0).start().unwrap();
        let out = env.client
            .execute_workflow(locals, "ada".to_string(), WorkflowOptions::new("wf-la", "q"))
            .await
            .unwrap();
        assert_eq!(out, "HELLO, ADA!");
        assert_eq!(LOCAL_CALLS.load(Ordering::SeqCst), 2, "each local activity ran once");
        let h = env.client.workflow_handle::<Locals>("wf-la", None);
        let events = h.history().await.unwrap();
        let markers = names(&events).iter().filter(|n| **n == "MarkerRecorded").count();
        assert_eq!(markers, 2, "{:?}", names(&events));
        replayer().replay(&events).unwrap();
        assert_eq!(LOCAL_CALLS.load(Ordering::SeqCst), 2);
        w.shutdown().await;
    }

    panics_fail_the_task_once_and_retry(sqlite) {
        let env = env(sqlite).await;
        let _serial = SERIAL.lock().await;
        PANICS_LEFT.store(3, Ordering::SeqCst);
        let w = worker(&env.client, "q", 100).start().unwrap();
        let out = env.client
            .execute_workflow(panicky, "Bo".to_string(), WorkflowOptions::new("wf-panic", "q"))
            .await
            .unwrap();
        assert_eq!(out, "Hello, Bo!");
        let h = env.client.workflow_handle::<Panicky>("wf-panic", None);
        let events = h.history().await.unwrap();
        let failed: Vec<_> = events
            .iter()
            .filter_map(|e| match &e.attributes {
                EventAttributes::WorkflowTaskFailed { failure, .. } => Some(failure.to_string()),
                _ => None,
            })
            .collect();
        assert_eq!(failed.len(), 1, "{:?}", names(&events));
        assert!(failed[0].contains("deliberate panic"), "{}", failed[0]);
        let attempts: Vec<u32> = events
            .iter()
            .filter_map(|e| match &e.attributes {
                EventAttributes::WorkflowTaskScheduled { attempt, .. } => Some(*attempt),
                _ => None,
            })
            .collect();
        assert_eq!(attempts.last(), Some(&4), "three failures, then the fourth attempt");
        w.shutdown().await;
    }

    err_fails_the_workflow(sqlite) {
        let env = env(sqlite).await;
        let w = worker(&env.client, "q", 100).start().unwrap();
        let err = env.client
            .execute_workflow(fails, "no".to_string(), WorkflowOptions::new("wf-err", "q"))
            .await
            .unwrap_err();
        let ClientError::Workflow(err) = err else { panic!("{err:?}") };
        assert_eq!(err.cause.as_application().unwrap().type_name, "Refused");
        w.shutdown().await;
    }

    durable_timer_fires_and_time_is_recorded(sqlite) {
        let env = env(sqlite).await;
        let w = worker(&env.client, "q", 0).start().unwrap();
        let waited = env.client
            .execute_workflow(sleeper, 50, WorkflowOptions::new("wf-timer", "q"))
            .await
            .unwrap();
        assert!(waited >= 50, "workflow time advanced by the timer: {waited} ms");
        let h = env.client.workflow_handle::<Sleeper>("wf-timer", None);
        let events = h.history().await.unwrap();
        assert!(names(&events).contains(&"TimerStarted"));
        assert!(names(&events).contains(&"TimerFired"));
        replayer().replay(&events).unwrap();
        w.shutdown().await;
    }

    // A call with no timeout is a mistake in the code: it fails the
    // workflow task (retried), not the workflow, so a fix deployed lets
    // the run go on.
    missing_timeout_fails_the_task_until_a_default_is_deployed(sqlite) {
        let env = env(sqlite).await;
        let w = worker(&env.client, "q", 100).start().unwrap();
        let h = env.client
            .start_workflow(no_timeout, "x".to_string(), WorkflowOptions::new("wf-nt", "q"))
            .await
            .unwrap();
        let text = task_failure(&h).await;
        assert!(text.contains("activity \"greet\" has no timeout"), "{text}");
        assert!(text.contains("default_start_to_close_timeout"), "{text}");
        let events = h.history().await.unwrap();
        assert!(names(&events).contains(&"WorkflowTaskFailed"), "{:?}", names(&events));
        assert!(!names(&events).contains(&"ActivityTaskScheduled"), "{:?}", names(&events));
        w.shutdown().await;
        // The fix: a worker whose default timeout covers the call.
        let fixed = worker(&env.client, "q", 100).with_options(WorkerOptions {
            default_start_to_close_timeout: Some(Duration::from_secs(5)),
            ..WorkerOptions::default()
        });
        let w = fixed.start().unwrap();
        assert_eq!(within(h.result()).await.unwrap(), "Hello, x!");
        let events = h.history().await.unwrap();
        let scheduled = events.iter().find_map(|e| match &e.attributes {
            EventAttributes::ActivityTaskScheduled { start_to_close_timeout, .. } => {
                Some(*start_to_close_timeout)
            }
            _ => None,
        });
        assert_eq!(scheduled, Some(Some(Duration::from_secs(5))));
        // Replay reads the timeout from history: no default needed.
        let mut replayer = Replayer::new();
        replayer.register_workflow::<NoTimeout>();
        replayer.replay(&events).unwrap();
        w.shutdown().await;
    }

    oversized_input_is_refused(sqlite) {
        let env = env(sqlite).await;
        let big = "x".repeat(3 * 1024 * 1024);
        let err = env.client
            .start_workflow(one_activity, big, WorkflowOptions::new("wf-big", "q"))
            .await
            .err()
            .unwrap();
        assert!(matches!(err, ClientError::Backend(BackendError::PayloadTooLarge(_))), "{err:?}");
        let text = err.to_string();
        assert!(text.contains("workflow input is 3145748 bytes encoded, over the limit of 2097152 bytes"), "{text}");
    }

    // Regression: a completion the engine refused (here a result over the
    // payload limit) left the task started until it timed out, with the
    // reason nowhere to be seen.
    refused_completion_fails_the_task_with_the_reason(sqlite) {
        let env = env(sqlite).await;
        let w = worker(&env.client, "q", 100).start().unwrap();
        let h = env.client
            .start_workflow(huge_result, (), WorkflowOptions::new("wf-huge", "q"))
            .await
            .unwrap();
        let failure = task_failure(&h).await;
        assert!(failure.contains("workflow result is 3145748 bytes encoded, over the limit of 2097152 bytes"), "{failure}");
        let events = h.history().await.unwrap();
        assert!(names(&events).contains(&"WorkflowTaskFailed"), "{:?}", names(&events));
        w.shutdown().await;
    }

    // Regression: the worker let an attempt run past its start-to-close
    // timeout, holding a concurrency slot while the engine retried it.
    start_to_close_stops_the_attempt_in_the_worker(sqlite) {
        let env = env(sqlite).await;
        let _serial = SERIAL.lock().await;
        STOPPED.store(0, Ordering::SeqCst);
        let w = worker(&env.client, "q", 100).start().unwrap();
        let err = env.client
            .execute_workflow(hanging, "x".to_string(), WorkflowOptions::new("wf-hang", "q"))
            .await
            .unwrap_err();
        let ClientError::Workflow(err) = err else { panic!("{err:?}") };
        let Failure::Activity(act) = &err.cause else { panic!("{:?}", err.cause) };
        assert!(matches!(*act.cause, Failure::Timeout(_)), "{:?}", act.cause);
        assert_eq!(act.attempt, 2);
        // Shutdown waits for the worker's activity tasks, which end only
        // once their attempt is stopped.
        w.shutdown().await;
        assert_eq!(STOPPED.load(Ordering::SeqCst), 2, "both attempts were stopped");
    }

    idempotent_start_returns_the_same_run(sqlite) {
        let env = env(sqlite).await;
        let w = worker(&env.client, "q", 100).start().unwrap();
        let o = || WorkflowOptions::new("wf-idem", "q").request_id("req-1");
        let a = env.client.start_workflow(one_activity, "A".to_string(), o()).await.unwrap();
        a.result().await.unwrap();
        let b = env.client.start_workflow(one_activity, "A".to_string(), o()).await.unwrap();
        assert_eq!(a.run_id(), b.run_id());
        assert_eq!(b.result().await.unwrap(), "Hello, A!");
        w.shutdown().await;
    }

    unknown_workflow_type_fails_the_task_visibly(sqlite) {
        let env = env(sqlite).await;
        let w = Worker::new(&env.client, "q2")
            .register_workflow::<Fails>()
            .start()
            .unwrap();
        let h = env.client
            .start_workflow(one_activity, "A".to_string(), WorkflowOptions::new("wf-unknown", "q2"))
            .await
            .unwrap();
        let failure = task_failure(&h).await;
        assert!(failure.contains("workflow type \"OneActivity\" is not registered on this worker"), "{failure}");
        assert_eq!(h.describe().await.unwrap().status, RunStatus::Running);
        w.shutdown().await;
    }
}

#[test]
fn replay_detects_reordered_code() {
    // A history where the workflow scheduled `greet`, replayed against code
    // that schedules `flaky` first.
    async fn reordered(ctx: WorkflowContext<OneActivity2>, _n: String) -> WorkflowResult<String> {
        Ok(ctx
            .activity(flaky, 0)
            .start_to_close_timeout(opts())
            .await?)
    }
    workflow!(OneActivity2, String, String, reordered);
    let rt = tokio::runtime::Runtime::new().unwrap();
    let events = rt.block_on(async {
        let env = env(false).await;
        let w = worker(&env.client, "q", 100).start().unwrap();
        let h = env
            .client
            .start_workflow(
                one_activity,
                "A".to_string(),
                WorkflowOptions::new("wf-nd", "q"),
            )
            .await
            .unwrap();
        h.result().await.unwrap();
        w.shutdown().await;
        h.history().await.unwrap()
    });
    let mut events = events;
    // Pretend the history belongs to OneActivity2.
    if let EventAttributes::WorkflowExecutionStarted { workflow_type, .. } =
        &mut events[0].attributes
    {
        *workflow_type = "OneActivity2".into();
    }
    let mut r = Replayer::new();
    r.register_workflow::<OneActivity2>();
    let err = r.replay(&events).unwrap_err().to_string();
    assert!(err.contains("event 5"), "{err}");
    assert!(
        err.contains("ActivityTaskScheduled(type greet, id 1)"),
        "{err}"
    );
    assert!(err.contains("ScheduleActivity(type flaky, id 1)"), "{err}");
}

#[test]
fn payload_debug_is_readable() {
    let p: Payload = converter::encode(&"hi").unwrap();
    assert_eq!(format!("{p:?}"), "Payload(json/plain \"hi\")");
}

// Regression: a local activity outliving the workflow task timeout kept its
// task's runner busy while the engine handed the task out again, so copies
// piled up until the worker had no workflow slot left.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_local_activity_fails_the_task_and_frees_the_worker() {
    use weft::engine::{Engine, EngineOptions, MemoryStore};
    let options = EngineOptions {
        workflow_task_timeout: Duration::from_millis(500),
        ..EngineOptions::default()
    };
    let engine = Engine::start(MemoryStore::new(), options).unwrap();
    let client = Client::new(engine.clone());
    let w = Worker::new(&client, "q")
        .with_options(WorkerOptions {
            max_concurrent_workflow_tasks: 1,
            ..WorkerOptions::default()
        })
        .register_workflow::<SlowLocal>()
        .register_workflow::<OneActivity>()
        .register_activity(never_ends)
        .register_activity(greet);
    let w = w.start().unwrap();
    let slow = client
        .start_workflow(
            slow_local,
            "x".to_string(),
            WorkflowOptions::new("wf-slow-la", "q"),
        )
        .await
        .unwrap();
    let failure = task_failure(&slow).await;
    assert!(failure.contains("did not finish within"), "{failure}");
    assert!(failure.contains("never_ends"), "{failure}");
    // With one workflow slot, another workflow still completes.
    let after = client.execute_workflow(
        one_activity,
        "Ann".to_string(),
        WorkflowOptions::new("wf-after", "q"),
    );
    let out = tokio::time::timeout(Duration::from_secs(30), after)
        .await
        .expect("the worker's only workflow slot stayed busy")
        .unwrap();
    assert_eq!(out, "Hello, Ann!");
    w.shutdown().await;
    engine.shutdown().await;
}

async fn id_from_workflow_id(
    ctx: WorkflowContext<IdFromWorkflowId>,
    n: String,
) -> WorkflowResult<String> {
    let id = format!("{}-greet", ctx.info().workflow_id);
    Ok(ctx
        .activity(greet, n)
        .activity_id(id)
        .start_to_close_timeout(opts())
        .await?)
}
workflow!(IdFromWorkflowId, String, String, id_from_workflow_id);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replayer_can_replay_as_the_recorded_workflow_id() {
    let env = env(false).await;
    let w = Worker::new(&env.client, "q")
        .register_workflow::<IdFromWorkflowId>()
        .register_activity(greet);
    let w = w.start().unwrap();
    let h = env
        .client
        .start_workflow(
            id_from_workflow_id,
            "Al".to_string(),
            WorkflowOptions::new("order-7", "q"),
        )
        .await
        .unwrap();
    h.result().await.unwrap();
    let events = h.history().await.unwrap();
    w.shutdown().await;
    let mut r = Replayer::new();
    r.register_workflow::<IdFromWorkflowId>();
    r.replay_workflow("order-7", &events).unwrap();
    let err = r.replay(&events).unwrap_err().to_string();
    assert!(
        err.contains("order-7-greet") && err.contains("replay-greet"),
        "{err}"
    );
}
