//! Determinism: the context's deterministic replacements (randomness, uuid,
//! side effects, patches, spawn, biased select, logger) and the run-time
//! backstops (no tokio on the workflow thread, nondeterminism errors after a
//! code change, strict replay). Workflows are written by hand against the
//! `Workflow` trait. Each test states one rule.

mod support;

use support::{env, names, task_failure, within};

use std::cell::Cell;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use weft::converter;
use weft::history::{Event, EventAttributes};
use weft::replay::{ReplayError, Replayer};
use weft::workflow::select_first;
use weft::{
    Client, Worker, WorkerOptions, WorkflowContext, WorkflowOptions, WorkflowResult,
    i_promise_this_is_deterministic,
};

activity!(greet, String, |name| Ok(format!("Hello, {name}!")));
activity!(shout, String, |name| Ok(format!(
    "HELLO, {}!",
    name.to_uppercase()
)));

static GATE: AtomicBool = AtomicBool::new(false);
activity!(gated, String, |name| {
    while !GATE.load(Ordering::SeqCst) {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    Ok(format!("gated {name}"))
});

fn secs() -> Duration {
    Duration::from_secs(30)
}

fn options(cache: usize, strict: bool) -> WorkerOptions {
    WorkerOptions {
        max_cached_workflows: cache,
        strict_replay: strict,
        ..WorkerOptions::default()
    }
}

fn scheduled_activities(events: &[Event]) -> Vec<String> {
    events
        .iter()
        .filter_map(|e| match &e.attributes {
            EventAttributes::ActivityTaskScheduled { activity_type, .. } => {
                Some(activity_type.clone())
            }
            _ => None,
        })
        .collect()
}

fn markers(events: &[Event]) -> Vec<String> {
    events
        .iter()
        .filter_map(|e| match &e.attributes {
            EventAttributes::MarkerRecorded { marker_name, .. } => Some(marker_name.clone()),
            _ => None,
        })
        .collect()
}

// ---- workflows -------------------------------------------------------------

async fn tokio_timer(_ctx: WorkflowContext<TokioTimer>, _: ()) -> WorkflowResult<()> {
    i_promise_this_is_deterministic(tokio::time::sleep(Duration::from_millis(1))).await;
    Ok(())
}
workflow!(TokioTimer, (), (), tokio_timer);

/// (random u64, uuid, dice) drawn before the first activity.
type Draw = (u64, String, u64);

async fn randoms(ctx: WorkflowContext<Randoms>, _: ()) -> WorkflowResult<(Draw, String)> {
    let draw = (ctx.random_u64(), ctx.uuid(), ctx.random().range(1..7));
    let encoded = serde_json::to_string(&draw).unwrap_or_default();
    // The draw reaches history as the activity's input.
    let echoed = ctx
        .activity(greet, encoded)
        .start_to_close_timeout(secs())
        .await?;
    Ok((draw, echoed))
}
workflow!(Randoms, (), (Draw, String), randoms);

static SIDE_EFFECT_RUNS: AtomicU32 = AtomicU32::new(0);
async fn side_effects(ctx: WorkflowContext<SideEffects>, _: ()) -> WorkflowResult<Vec<u32>> {
    let a: u32 = ctx
        .side_effect(|| SIDE_EFFECT_RUNS.fetch_add(1, Ordering::SeqCst) + 100)
        .await;
    ctx.activity(greet, "x".to_string())
        .start_to_close_timeout(secs())
        .await?;
    let b: u32 = ctx
        .side_effect(|| SIDE_EFFECT_RUNS.fetch_add(1, Ordering::SeqCst) + 200)
        .await;
    ctx.sleep(Duration::from_millis(1)).await?;
    Ok(vec![a, b])
}
workflow!(SideEffects, (), Vec<u32>, side_effects);

thread_local! {
    /// What `patched("p1")` answered last on this thread (for Replayer tests).
    static PATCHED: Cell<Option<bool>> = const { Cell::new(None) };
}

async fn patch_v0(ctx: WorkflowContext<PatchV0>, name: String) -> WorkflowResult<String> {
    Ok(ctx
        .activity(greet, name)
        .start_to_close_timeout(secs())
        .await?)
}
workflow!(PatchV0 as "Patchy", String, String, patch_v0);

async fn patch_v1(ctx: WorkflowContext<PatchV1>, name: String) -> WorkflowResult<String> {
    let patched = ctx.patched("p1");
    PATCHED.with(|p| p.set(Some(patched)));
    let call = if patched {
        ctx.activity(shout, name)
    } else {
        ctx.activity(greet, name)
    };
    Ok(call.start_to_close_timeout(secs()).await?)
}
workflow!(PatchV1 as "Patchy", String, String, patch_v1);

async fn patch_v2(ctx: WorkflowContext<PatchV2>, name: String) -> WorkflowResult<String> {
    ctx.deprecate_patch("p1");
    Ok(ctx
        .activity(shout, name)
        .start_to_close_timeout(secs())
        .await?)
}
workflow!(PatchV2 as "Patchy", String, String, patch_v2);

async fn patch_v3(ctx: WorkflowContext<PatchV3>, name: String) -> WorkflowResult<String> {
    Ok(ctx
        .activity(shout, name)
        .start_to_close_timeout(secs())
        .await?)
}
workflow!(PatchV3 as "Patchy", String, String, patch_v3);

async fn spawner(ctx: WorkflowContext<Spawner>, _: ()) -> WorkflowResult<Vec<String>> {
    let call = |name: &str| {
        ctx.activity(greet, name.to_string())
            .start_to_close_timeout(secs())
    };
    let a = ctx.spawn(call("a").into_future());
    let b = ctx.spawn(call("b").into_future());
    let own = call("run").await?;
    let (a, b) = weft::workflow::join(a, b).await;
    Ok(vec![a?, b?, own])
}
workflow!(Spawner, (), Vec<String>, spawner);

async fn selector(ctx: WorkflowContext<Selector>, _: ()) -> WorkflowResult<Vec<String>> {
    let mut out = Vec::new();
    // Both branches are ready on the first poll: the first written wins, and
    // the losing side effect is never polled (no marker).
    let first = weft::select! {
        a = ctx.side_effect(|| 1u32) => format!("first {a}"),
        b = ctx.side_effect(|| 2u32) => format!("second {b}"),
    };
    out.push(first);
    let slow = ctx.sleep(Duration::from_secs(3600));
    let greeting = ctx
        .activity(greet, "sel".to_string())
        .start_to_close_timeout(secs());
    let raced = weft::select! {
        _ = slow => "timer".to_string(),
        r = greeting => r?,
    };
    out.push(raced);
    let x: fn() -> String = || "x".into();
    let y: fn() -> String = || "y".into();
    let (index, value) = select_first(vec![ctx.side_effect(x), ctx.side_effect(y)]).await;
    out.push(format!("{index} {value}"));
    Ok(out)
}
workflow!(Selector, (), Vec<String>, selector);

async fn logging(ctx: WorkflowContext<Logging>, _: ()) -> WorkflowResult<()> {
    ctx.logger().info("step 1");
    ctx.activity(greet, "log".to_string())
        .start_to_close_timeout(secs())
        .await?;
    ctx.logger().warn(format_args!("step {}", 2));
    Ok(())
}
workflow!(Logging, (), (), logging);

async fn order_v1(ctx: WorkflowContext<OrderV1>, name: String) -> WorkflowResult<String> {
    let a = ctx
        .activity(gated, name.clone())
        .start_to_close_timeout(secs())
        .await?;
    let b = ctx
        .activity(greet, name)
        .start_to_close_timeout(secs())
        .await?;
    Ok(format!("{a} / {b}"))
}
workflow!(OrderV1 as "Ordered", String, String, order_v1);

async fn order_v2(ctx: WorkflowContext<OrderV2>, name: String) -> WorkflowResult<String> {
    let b = ctx
        .activity(greet, name.clone())
        .start_to_close_timeout(secs())
        .await?;
    let a = ctx
        .activity(gated, name)
        .start_to_close_timeout(secs())
        .await?;
    Ok(format!("{a} / {b}"))
}
workflow!(OrderV2 as "Ordered", String, String, order_v2);

static CODE_RUNS: AtomicU32 = AtomicU32::new(0);
/// Depends on how often the code ran in this process: only a cached worker
/// without strict replay gets away with it.
async fn counted(ctx: WorkflowContext<Counted>, _: ()) -> WorkflowResult<String> {
    let call = if CODE_RUNS.fetch_add(1, Ordering::SeqCst).is_multiple_of(2) {
        ctx.activity(greet, "even".to_string())
    } else {
        ctx.activity(shout, "odd".to_string())
    };
    Ok(call.start_to_close_timeout(secs()).await?)
}
workflow!(Counted, (), String, counted);

/// Schedules activities in the iteration order of a std `HashMap`, whose
/// hasher is seeded randomly per map.
async fn hash_order(ctx: WorkflowContext<HashOrder>, _: ()) -> WorkflowResult<usize> {
    let map: std::collections::HashMap<String, u32> =
        (0..32).map(|i| (format!("k{i}"), i)).collect();
    // Replay compares activity ids and types, not inputs: name each by key.
    let calls = map.keys().map(|k| {
        ctx.activity(greet, k.clone())
            .activity_id(k.clone())
            .start_to_close_timeout(secs())
            .into_future()
    });
    Ok(weft::workflow::join_all(calls).await.len())
}
workflow!(HashOrder, (), usize, hash_order);

/// Same as [`hash_order`] with weft's fixed-hasher map: passes strict mode.
async fn fixed_order(ctx: WorkflowContext<FixedOrder>, _: ()) -> WorkflowResult<usize> {
    let mut map = weft::collections::hash_map();
    for i in 0..32u32 {
        map.insert(format!("k{i}"), i);
    }
    let calls = map.keys().map(|k: &String| {
        ctx.activity(greet, k.clone())
            .activity_id(k.clone())
            .start_to_close_timeout(secs())
            .into_future()
    });
    Ok(weft::workflow::join_all(calls).await.len())
}
workflow!(FixedOrder, (), usize, fixed_order);

fn worker(client: &Client, queue: &str, options: WorkerOptions) -> Worker {
    Worker::new(client, queue)
        .with_options(options)
        .register_activity(greet)
        .register_activity(shout)
        .register_activity(gated)
}

// ---- tests -----------------------------------------------------------------

both_stores! {
    tokio_future_in_workflow_code_fails_the_task_not_the_run(sqlite) {
        let env = env(sqlite).await;
        let w = worker(&env.client, "q", options(100, false)).register_workflow::<TokioTimer>();
        let w = w.start().unwrap();
        let h = env.client
            .start_workflow(tokio_timer, (), WorkflowOptions::new("wf-tokio", "q"))
            .await
            .unwrap();
        let failure = task_failure(&h).await;
        assert!(failure.contains("workflow code panicked"), "{failure}");
        assert!(failure.contains("outside any tokio runtime"), "{failure}");
        assert!(failure.contains("Tokio") || failure.contains("reactor"), "{failure}");
        w.shutdown().await;
        env.engine.shutdown().await;
    }

    random_and_uuid_replay_the_same_and_differ_between_runs(sqlite) {
        let env = env(sqlite).await;
        let w = worker(&env.client, "q", options(0, true)).register_workflow::<Randoms>();
        let w = w.start().unwrap();
        let run = |id: &'static str| {
            let client = env.client.clone();
            async move {
                client
                    .execute_workflow(randoms, (), WorkflowOptions::new(id, "q"))
                    .await
                    .unwrap()
            }
        };
        // Cache 0: the result is computed by a replay of the first task,
        // while the activity's input was recorded by its live run.
        let (draw1, echoed1) = run("wf-rand-1").await;
        let (draw2, _) = run("wf-rand-2").await;
        let live = serde_json::to_string(&draw1).unwrap();
        assert_eq!(echoed1, format!("Hello, {live}!"));
        assert_ne!(draw1, draw2, "each run has its own seed");
        assert!((1..7).contains(&draw1.2));
        let uuid = uuid::Uuid::parse_str(&draw1.1).unwrap();
        assert_eq!(uuid.get_version_num(), 4);
        w.shutdown().await;
    }

    spawned_tasks_run_in_spawn_order_and_replay(sqlite) {
        let env = env(sqlite).await;
        let w = worker(&env.client, "q", options(0, true)).register_workflow::<Spawner>();
        let w = w.start().unwrap();
        let out = env.client
            .execute_workflow(spawner, (), WorkflowOptions::new("wf-spawn", "q"))
            .await
            .unwrap();
        assert_eq!(out, ["Hello, a!", "Hello, b!", "Hello, run!"]);
        let h = env.client.workflow_handle::<Spawner>("wf-spawn", None);
        let events = h.history().await.unwrap();
        // The run function reaches its await first; the tasks it spawned run
        // in the next pass of the same activation, in spawn order.
        let ids: Vec<String> = events
            .iter()
            .filter_map(|e| match &e.attributes {
                EventAttributes::ActivityTaskScheduled { input, .. } => {
                    converter::decode_single::<String>(input).ok()
                }
                _ => None,
            })
            .collect();
        assert_eq!(ids, ["run", "a", "b"]);
        let mut r = Replayer::new();
        r.register_workflow::<Spawner>();
        r.replay(&events).unwrap();
        w.shutdown().await;
    }

    select_takes_the_first_ready_branch_in_written_order(sqlite) {
        let env = env(sqlite).await;
        let w = worker(&env.client, "q", options(0, true)).register_workflow::<Selector>();
        let w = w.start().unwrap();
        let out = env.client
            .execute_workflow(selector, (), WorkflowOptions::new("wf-select", "q"))
            .await
            .unwrap();
        assert_eq!(out, ["first 1", "Hello, sel!", "0 x"]);
        let h = env.client.workflow_handle::<Selector>("wf-select", None);
        let events = h.history().await.unwrap();
        assert_eq!(markers(&events), ["core_side_effect"; 2], "losers are never polled");
        let mut r = Replayer::new();
        r.register_workflow::<Selector>();
        r.replay(&events).unwrap();
        w.shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn side_effect_closure_runs_once_across_replays() {
    let env = env(true).await;
    // Cache 0: every workflow task replays the run from history.
    let w = worker(&env.client, "q", options(0, false)).register_workflow::<SideEffects>();
    let w = w.start().unwrap();
    let out = env
        .client
        .execute_workflow(side_effects, (), WorkflowOptions::new("wf-se", "q"))
        .await
        .unwrap();
    assert_eq!(out, [100, 201]);
    assert_eq!(SIDE_EFFECT_RUNS.load(Ordering::SeqCst), 2);
    let h = env.client.workflow_handle::<SideEffects>("wf-se", None);
    let events = h.history().await.unwrap();
    assert_eq!(markers(&events), ["core_side_effect"; 2]);
    let mut r = Replayer::new();
    r.register_workflow::<SideEffects>();
    r.replay(&events).unwrap();
    assert_eq!(
        SIDE_EFFECT_RUNS.load(Ordering::SeqCst),
        2,
        "replay read the markers"
    );

    // A recorded value the code cannot decode, or no value at all, fails the
    // workflow task with a message (never a panic).
    let mut bad = events.clone();
    let mut missing = events.clone();
    for (history, replacement) in [(&mut bad, Some("not a number")), (&mut missing, None)] {
        let marker = history
            .iter_mut()
            .find_map(|e| match &mut e.attributes {
                EventAttributes::MarkerRecorded { details, .. } => Some(details),
                _ => None,
            })
            .unwrap();
        match replacement {
            Some(text) => {
                marker.insert("data".into(), vec![converter::encode(&text).unwrap()]);
            }
            None => {
                marker.remove("data");
            }
        }
    }
    let err = r.replay(&bad).unwrap_err();
    assert!(
        matches!(&err, ReplayError::TaskFailed(m) if m.contains("side effect 1: cannot decode")),
        "{err}"
    );
    let err = r.replay(&missing).unwrap_err();
    assert!(
        matches!(&err, ReplayError::TaskFailed(m) if m.contains("holds no value")),
        "{err}"
    );
    w.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn patches_keep_old_runs_on_the_old_branch() {
    let env = env(true).await;
    let w0 = worker(&env.client, "q-v0", options(100, false)).register_workflow::<PatchV0>();
    let w1 = worker(&env.client, "q-v1", options(0, false)).register_workflow::<PatchV1>();
    let w2 = worker(&env.client, "q-v2", options(0, false)).register_workflow::<PatchV2>();
    let (w0, w1, w2) = (
        w0.start().unwrap(),
        w1.start().unwrap(),
        w2.start().unwrap(),
    );

    // Recorded by the code before the patch.
    let old = env
        .client
        .execute_workflow(
            patch_v0,
            "old".into(),
            WorkflowOptions::new("wf-p0", "q-v0"),
        )
        .await
        .unwrap();
    assert_eq!(old, "Hello, old!");
    let h0 = env
        .client
        .workflow_handle::<PatchV0>("wf-p0", None)
        .history()
        .await
        .unwrap();
    assert!(markers(&h0).is_empty());

    // New runs of the patched code take the new branch and record the marker.
    let new = env
        .client
        .execute_workflow(
            patch_v1,
            "new".into(),
            WorkflowOptions::new("wf-p1", "q-v1"),
        )
        .await
        .unwrap();
    assert_eq!(new, "HELLO, NEW!");
    let h1 = env
        .client
        .workflow_handle::<PatchV1>("wf-p1", None)
        .history()
        .await
        .unwrap();
    assert_eq!(markers(&h1), ["core_patch"]);
    assert_eq!(scheduled_activities(&h1), ["shout"]);

    // The old history replays against the patched code down the old branch.
    let mut r1 = Replayer::new();
    r1.register_workflow::<PatchV1>();
    PATCHED.with(|p| p.set(None));
    r1.replay(&h0).unwrap();
    assert_eq!(PATCHED.with(Cell::get), Some(false));
    r1.replay(&h1).unwrap();
    assert_eq!(PATCHED.with(Cell::get), Some(true));

    // Deprecated: records its own marker, replays histories with either marker.
    let dep = env
        .client
        .execute_workflow(
            patch_v2,
            "dep".into(),
            WorkflowOptions::new("wf-p2", "q-v2"),
        )
        .await
        .unwrap();
    assert_eq!(dep, "HELLO, DEP!");
    let h2 = env
        .client
        .workflow_handle::<PatchV2>("wf-p2", None)
        .history()
        .await
        .unwrap();
    assert_eq!(markers(&h2), ["core_patch"]);
    let mut r2 = Replayer::new();
    r2.register_workflow::<PatchV2>();
    r2.replay(&h1).unwrap();
    r2.replay(&h2).unwrap();

    // With the call removed, the deprecated marker is skipped on replay; the
    // marker of `patched` is not (those runs may still need the old branch).
    let mut r3 = Replayer::new();
    r3.register_workflow::<PatchV3>();
    r3.replay(&h2).unwrap();
    let err = r3.replay(&h1).unwrap_err();
    assert!(matches!(err, ReplayError::Nondeterminism(_)), "{err}");
    assert!(err.to_string().contains("patch \"p1\""), "{err}");

    w0.shutdown().await;
    w1.shutdown().await;
    w2.shutdown().await;
}

/// A tracing subscriber that keeps (workflow_id, message) of every event
/// whose target is `weft::workflow`.
struct Capture(Arc<Mutex<Vec<(String, String)>>>);

#[derive(Default)]
struct Fields {
    workflow_id: String,
    message: String,
}

impl tracing::field::Visit for Fields {
    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        match field.name() {
            "message" => self.message = format!("{value:?}"),
            "workflow_id" => self.workflow_id = format!("{value:?}"),
            _ => {}
        }
    }
}

impl tracing::Subscriber for Capture {
    fn enabled(&self, _: &tracing::Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, _: &tracing::span::Attributes<'_>) -> tracing::span::Id {
        tracing::span::Id::from_u64(1)
    }
    fn record(&self, _: &tracing::span::Id, _: &tracing::span::Record<'_>) {}
    fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}
    fn event(&self, event: &tracing::Event<'_>) {
        if event.metadata().target() == "weft::workflow" {
            let mut fields = Fields::default();
            event.record(&mut fields);
            if let Ok(mut seen) = self.0.lock() {
                seen.push((fields.workflow_id, fields.message));
            }
        }
    }
    fn enter(&self, _: &tracing::span::Id) {}
    fn exit(&self, _: &tracing::span::Id) {}
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logger_is_silent_while_replaying() {
    let seen = Arc::new(Mutex::new(Vec::new()));
    // The workflow thread has no subscriber of its own: a global one sees it.
    tracing::subscriber::set_global_default(Capture(seen.clone())).unwrap();
    let env = env(false).await;
    // Cache 0: the second task replays the first, which logs "step 1".
    let w = worker(&env.client, "q", options(0, false)).register_workflow::<Logging>();
    let w = w.start().unwrap();
    env.client
        .execute_workflow(logging, (), WorkflowOptions::new("wf-log", "q"))
        .await
        .unwrap();
    let of = |id: &str| -> Vec<String> {
        seen.lock()
            .unwrap()
            .iter()
            .filter(|(w, _)| w == id)
            .map(|(_, m)| m.clone())
            .collect()
    };
    assert_eq!(of("wf-log"), ["step 1", "step 2"]);
    let events = env
        .client
        .workflow_handle::<Logging>("wf-log", None)
        .history()
        .await
        .unwrap();
    let mut r = Replayer::new();
    r.register_workflow::<Logging>();
    r.replay(&events).unwrap();
    assert!(of("replay").is_empty(), "{:?}", of("replay"));
    w.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reordered_code_fails_the_task_until_the_original_code_returns() {
    let env = env(true).await;
    // Activities run on their own worker for the whole test.
    let activities = worker(&env.client, "q", options(100, false))
        .start()
        .unwrap();
    let workflows = |v2: bool| {
        let w = Worker::new(&env.client, "q").with_options(options(100, false));
        let w = if v2 {
            w.register_workflow::<OrderV2>()
        } else {
            w.register_workflow::<OrderV1>()
        };
        w.start().unwrap()
    };
    let v1 = workflows(false);
    let h = env
        .client
        .start_workflow(
            order_v1,
            "Ada".into(),
            WorkflowOptions::new("wf-order", "q"),
        )
        .await
        .unwrap();
    // Halfway: the first activity is scheduled and waits for the gate.
    for _ in 0..2000 {
        if scheduled_activities(&h.history().await.unwrap()) == ["gated"] {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    v1.shutdown().await;

    let v2 = workflows(true);
    GATE.store(true, Ordering::SeqCst);
    let failure = task_failure(&h).await;
    assert!(failure.contains("NondeterminismError"), "{failure}");
    assert!(failure.contains("event 5"), "{failure}");
    assert!(
        failure.contains("ActivityTaskScheduled(type gated, id 1)"),
        "{failure}"
    );
    assert!(
        failure.contains("ScheduleActivity(type greet, id 1)"),
        "{failure}"
    );
    v2.shutdown().await;

    let v1 = workflows(false);
    assert_eq!(h.result().await.unwrap(), "gated Ada / Hello, Ada!");
    let events = h.history().await.unwrap();
    let failed: Vec<_> = events
        .iter()
        .filter_map(|e| match &e.attributes {
            EventAttributes::WorkflowTaskFailed { cause, .. } => Some(*cause),
            _ => None,
        })
        .collect();
    assert_eq!(
        failed,
        [weft::history::WorkflowTaskFailedCause::NonDeterministicError],
        "one event however many attempts: {:?}",
        names(&events)
    );
    v1.shutdown().await;
    activities.shutdown().await;
    env.engine.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn strict_replay_catches_code_that_depends_on_more_than_history() {
    let env = env(true).await;
    // A cached worker without strict mode never replays, so it never notices.
    // Regression: with several workflow tasks at once, a run's next task
    // could reach the workflow thread before the ack of its previous
    // completion, miss the cache and replay.
    let lax = worker(&env.client, "lax", options(100, false))
        .register_workflow::<Counted>()
        .register_workflow::<HashOrder>()
        .start()
        .unwrap();
    within(
        env.client
            .execute_workflow(counted, (), WorkflowOptions::new("wf-count-lax", "lax")),
    )
    .await
    .expect("the cached worker never replays");
    within(
        env.client
            .execute_workflow(hash_order, (), WorkflowOptions::new("wf-hash-lax", "lax")),
    )
    .await
    .expect("the cached worker never replays");
    lax.shutdown().await;

    let strict = worker(&env.client, "strict", options(100, true))
        .register_workflow::<Counted>()
        .register_workflow::<HashOrder>()
        .register_workflow::<FixedOrder>()
        .start()
        .unwrap();
    let h = env
        .client
        .start_workflow(counted, (), WorkflowOptions::new("wf-count", "strict"))
        .await
        .unwrap();
    let failure = task_failure(&h).await;
    assert!(failure.contains("NondeterminismError"), "{failure}");
    assert!(failure.contains("strict replay"), "{failure}");
    assert!(failure.contains("ActivityTaskScheduled(type"), "{failure}");
    assert!(
        failure.contains("the code produced ScheduleActivity(type"),
        "{failure}"
    );

    let h = env
        .client
        .start_workflow(hash_order, (), WorkflowOptions::new("wf-hash", "strict"))
        .await
        .unwrap();
    let failure = task_failure(&h).await;
    assert!(failure.contains("strict replay"), "{failure}");

    let fixed = env
        .client
        .execute_workflow(fixed_order, (), WorkflowOptions::new("wf-fixed", "strict"))
        .await
        .unwrap();
    assert_eq!(fixed, 32);
    strict.shutdown().await;
    env.engine.shutdown().await;
}
