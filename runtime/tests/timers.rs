//! Timers end to end, and what dropping a started timer or activity future
//! does: a timer fires once; concurrent timers fire in the order of their
//! durations; the timer of a lost `select!` branch is cancelled
//! (`TimerCanceled`), an activity's cancellation is requested
//! (`ActivityTaskCancelRequested`, with `ActivityTaskCanceled` at once when no
//! worker had started it); every history replays cleanly, in strict mode too.

mod support;

use support::{env, history_until, names, strict, within};

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use weft::history::{Event, EventAttributes};
use weft::replay::Replayer;
use weft::workflow::{ActivityCancellationType, select_first};
use weft::{
    Client, Worker, WorkerOptions, Workflow, WorkflowContext, WorkflowOptions, WorkflowResult,
};

const QUEUE: &str = "timers";

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// Latches activities wait on, by tag (tests of both stores run at once).
static RELEASE: Mutex<Option<HashMap<String, Arc<tokio::sync::Notify>>>> = Mutex::new(None);
/// Where activities say they started, by tag.
type Started = tokio::sync::mpsc::UnboundedSender<()>;
static STARTED: Mutex<Option<HashMap<String, Started>>> = Mutex::new(None);

fn latch(tag: &str) -> Arc<tokio::sync::Notify> {
    RELEASE
        .lock()
        .unwrap()
        .get_or_insert_with(HashMap::new)
        .entry(tag.to_string())
        .or_default()
        .clone()
}

fn on_start(tag: &str) -> tokio::sync::mpsc::UnboundedReceiver<()> {
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    STARTED
        .lock()
        .unwrap()
        .get_or_insert_with(HashMap::new)
        .insert(tag.to_string(), tx);
    rx
}

fn started(tag: &str) {
    if let Some(tx) = STARTED
        .lock()
        .unwrap()
        .get_or_insert_with(HashMap::new)
        .get(tag)
    {
        let _ = tx.send(());
    }
}

// Says it started, then waits for the test to release it.
activity!(blocker, String, |tag| {
    started(&tag);
    latch(&tag).notified().await;
    Ok(format!("{tag} released"))
});

// ---- workflows -------------------------------------------------------------

async fn one_timer(ctx: WorkflowContext<OneTimer>, _: ()) -> WorkflowResult<u64> {
    let before = ctx.now();
    ctx.sleep(ms(10)).await?;
    let waited = ctx.now().duration_since(before);
    Ok(u64::try_from(waited.as_millis()).unwrap_or(u64::MAX))
}
workflow!(OneTimer, (), u64, one_timer);

/// Two timers run at once as tasks; each records when it fired.
#[derive(Default)]
struct TwoTimers {
    fired: Vec<String>,
}

impl Workflow for TwoTimers {
    const NAME: &'static str = "TwoTimers";
    type Input = ();
    type Output = Vec<String>;

    fn init(_: &()) -> Self {
        TwoTimers::default()
    }

    fn run(
        ctx: WorkflowContext<Self>,
        _: (),
    ) -> futures::future::LocalBoxFuture<'static, WorkflowResult<Vec<String>>> {
        Box::pin(async move {
            let timer = |label: &'static str, d: Duration| {
                let ctx = ctx.clone();
                weft::i_promise_this_is_deterministic(async move {
                    let fired = ctx.sleep(d).await;
                    ctx.state_mut(|s| s.fired.push(label.to_string()));
                    fired
                })
            };
            // The long one is started first (timer 1).
            let long = ctx.spawn(timer("long", ms(400)));
            let short = ctx.spawn(timer("short", ms(10)));
            let (a, b) = weft::workflow::join(long, short).await;
            a?;
            b?;
            Ok(ctx.state(|s| s.fired.clone()))
        })
    }
}

/// A short timer races a long one: the long one is dropped.
async fn race(ctx: WorkflowContext<Race>, _: ()) -> WorkflowResult<String> {
    let winner = weft::select! {
        fired = ctx.sleep(ms(10)) => { fired?; "short" },
        fired = ctx.sleep(Duration::from_secs(3600)) => { fired?; "long" },
    };
    Ok(winner.to_string())
}
workflow!(Race, (), String, race);

/// `select_first` over `&mut` timers leaves the loser running: it fires
/// later and is awaited again.
async fn keep_loser(ctx: WorkflowContext<KeepLoser>, _: ()) -> WorkflowResult<Vec<usize>> {
    let mut slow = ctx.sleep(ms(150));
    let mut fast = ctx.sleep(ms(10));
    let (first, fired) = select_first([&mut slow, &mut fast]).await;
    fired?;
    // Only the slow one is left: awaiting it again sees it fire.
    (&mut slow).await?;
    Ok(vec![first])
}
workflow!(KeepLoser, (), Vec<usize>, keep_loser);

/// An activity no worker polls races a short timer; the activity is
/// dropped. The workflow then waits a little longer, so the activity's
/// cancellation reaches it (and is ignored).
async fn drop_unstarted(
    ctx: WorkflowContext<DropUnstarted>,
    tag: String,
) -> WorkflowResult<String> {
    let nobody = ctx
        .activity(blocker, tag)
        .task_queue("nobody-polls-this")
        .start_to_close_timeout(Duration::from_secs(30));
    let outcome = weft::select! {
        r = nobody => r?,
        fired = ctx.sleep(ms(10)) => { fired?; "timer".to_string() },
    };
    ctx.sleep(ms(10)).await?;
    Ok(outcome)
}
workflow!(DropUnstarted, String, String, drop_unstarted);

/// A started activity races a short timer and is dropped; the workflow then
/// waits for its worker's answer to land (released by the test).
async fn drop_started(ctx: WorkflowContext<DropStarted>, tag: String) -> WorkflowResult<String> {
    let running = ctx
        .activity(blocker, tag.clone())
        .start_to_close_timeout(Duration::from_secs(30));
    let outcome = weft::select! {
        r = running => r?,
        fired = ctx.sleep(ms(200)) => { fired?; "timer".to_string() },
    };
    // A later timer keeps the run open while the test releases the activity.
    ctx.sleep(ms(300)).await?;
    Ok(outcome)
}
workflow!(DropStarted, String, String, drop_started);

/// An abandoned activity's future is dropped: nothing is asked.
async fn drop_abandoned(
    ctx: WorkflowContext<DropAbandoned>,
    tag: String,
) -> WorkflowResult<String> {
    let nobody = ctx
        .activity(blocker, tag)
        .task_queue("nobody-polls-this")
        .start_to_close_timeout(Duration::from_secs(30))
        .cancellation_type(ActivityCancellationType::Abandon);
    let outcome = weft::select! {
        r = nobody => r?,
        fired = ctx.sleep(ms(10)) => { fired?; "timer".to_string() },
    };
    Ok(outcome)
}
workflow!(DropAbandoned, String, String, drop_abandoned);

fn worker(client: &Client, options: WorkerOptions) -> weft::worker::WorkerHandle {
    let w = Worker::new(client, QUEUE)
        .with_options(options)
        .register_workflow::<OneTimer>()
        .register_workflow::<TwoTimers>()
        .register_workflow::<Race>()
        .register_workflow::<KeepLoser>()
        .register_workflow::<DropUnstarted>()
        .register_workflow::<DropStarted>()
        .register_workflow::<DropAbandoned>()
        .register_activity(blocker);
    w.start().unwrap()
}

fn replayer() -> Replayer {
    let mut r = Replayer::new();
    r.register_workflow::<OneTimer>()
        .register_workflow::<TwoTimers>()
        .register_workflow::<Race>()
        .register_workflow::<KeepLoser>()
        .register_workflow::<DropUnstarted>()
        .register_workflow::<DropStarted>()
        .register_workflow::<DropAbandoned>();
    r
}

fn options(id: &str) -> WorkflowOptions {
    WorkflowOptions::new(id, QUEUE)
}

fn count(events: &[Event], name: &str) -> usize {
    names(events).iter().filter(|n| **n == name).count()
}

fn fired_timers(events: &[Event]) -> Vec<String> {
    events
        .iter()
        .filter_map(|e| match &e.attributes {
            EventAttributes::TimerFired { timer_id, .. } => Some(timer_id.clone()),
            _ => None,
        })
        .collect()
}

/// Runs `Race` and checks its history: pinned by a snapshot, replayed.
async fn dropped_timer_is_cancelled(sqlite: bool, worker_options: WorkerOptions) {
    let env = env(sqlite).await;
    let w = worker(&env.client, worker_options);
    let h = env
        .client
        .start_workflow(race, (), options("race"))
        .await
        .unwrap();
    assert_eq!(within(h.result()).await.unwrap(), "short");
    let events = h.history().await.unwrap();
    insta::assert_debug_snapshot!("dropped_timer_history", names(&events));
    match events.iter().find_map(|e| match &e.attributes {
        EventAttributes::TimerCanceled {
            timer_id,
            started_event_id,
            ..
        } => Some((timer_id.clone(), *started_event_id)),
        _ => None,
    }) {
        Some((timer_id, started)) => {
            assert_eq!(timer_id, "2", "the long timer is the one cancelled");
            assert!(matches!(
                &events[started as usize - 1].attributes,
                EventAttributes::TimerStarted { timer_id, .. } if timer_id == "2"
            ));
        }
        None => panic!("no TimerCanceled in {:?}", names(&events)),
    }
    replayer()
        .replay(&events)
        .expect("the history replays cleanly");
    w.shutdown().await;
}

both_stores! {
    a_timer_fires_once(sqlite) {
        let env = env(sqlite).await;
        let w = worker(&env.client, WorkerOptions::default());
        let h = env.client.start_workflow(one_timer, (), options("one")).await.unwrap();
        let waited = within(h.result()).await.unwrap();
        assert!(waited >= 10, "workflow time moved by the timer: {waited} ms");
        let events = h.history().await.unwrap();
        assert_eq!(count(&events, "TimerStarted"), 1);
        assert_eq!(fired_timers(&events), ["1"]);
        assert_eq!(count(&events, "TimerCanceled"), 0);
        replayer().replay(&events).expect("the history replays cleanly");
        w.shutdown().await;
    }

    concurrent_timers_fire_in_order(sqlite) {
        let env = env(sqlite).await;
        let w = worker(&env.client, WorkerOptions::default());
        let h = env
            .client
            .start_workflow(TwoTimers::run, (), options("two"))
            .await
            .unwrap();
        assert_eq!(within(h.result()).await.unwrap(), ["short", "long"]);
        let events = h.history().await.unwrap();
        assert_eq!(count(&events, "TimerStarted"), 2);
        // Timer 2 (10 ms) fires before timer 1 (400 ms), though started after.
        assert_eq!(fired_timers(&events), ["2", "1"]);
        replayer().replay(&events).expect("the history replays cleanly");
        w.shutdown().await;
    }

    dropped_timer_writes_timer_canceled(sqlite) {
        dropped_timer_is_cancelled(sqlite, WorkerOptions::default()).await;
    }

    dropped_timer_writes_timer_canceled_in_strict_mode(sqlite) {
        // Cache 0: every task replays the run, and strict replay checks it.
        dropped_timer_is_cancelled(sqlite, strict(0)).await;
    }

    select_first_over_references_leaves_the_loser_running(sqlite) {
        let env = env(sqlite).await;
        let w = worker(&env.client, strict(0));
        let h = env
            .client
            .start_workflow(keep_loser, (), options("keep"))
            .await
            .unwrap();
        assert_eq!(within(h.result()).await.unwrap(), [1]);
        let events = h.history().await.unwrap();
        assert_eq!(fired_timers(&events), ["2", "1"], "both timers fired");
        assert_eq!(count(&events, "TimerCanceled"), 0);
        replayer().replay(&events).expect("the history replays cleanly");
        w.shutdown().await;
    }

    dropped_unstarted_activity_is_cancelled_at_once(sqlite) {
        let env = env(sqlite).await;
        let w = worker(&env.client, strict(0));
        let tag = format!("unstarted-{sqlite}");
        let h = env
            .client
            .start_workflow(drop_unstarted, tag.clone(), options(&tag))
            .await
            .unwrap();
        assert_eq!(within(h.result()).await.unwrap(), "timer");
        let events = h.history().await.unwrap();
        let names = names(&events);
        let requested = names.iter().position(|n| *n == "ActivityTaskCancelRequested");
        let canceled = names.iter().position(|n| *n == "ActivityTaskCanceled");
        match (requested, canceled) {
            (Some(r), Some(c)) => assert_eq!(c, r + 1, "cancelled at once: {names:?}"),
            _ => panic!("no cancellation in {names:?}"),
        }
        assert_eq!(count(&events, "ActivityTaskStarted"), 0);
        assert_eq!(names.last(), Some(&"WorkflowExecutionCompleted"));
        replayer().replay(&events).expect("the history replays cleanly");
        w.shutdown().await;
    }

    dropped_started_activity_requests_cancellation(sqlite) {
        let env = env(sqlite).await;
        let w = worker(&env.client, WorkerOptions::default());
        let tag = format!("started-{sqlite}");
        let mut on_start = on_start(&tag);
        let h = env
            .client
            .start_workflow(drop_started, tag.clone(), options(&tag))
            .await
            .unwrap();
        within(on_start.recv()).await.expect("the activity started");
        // The timer wins; the workflow's task asks for the cancellation.
        history_until(&h, |e| {
            matches!(e.attributes, EventAttributes::ActivityTaskCancelRequested { .. })
        })
        .await;
        // It never heartbeats, so it never learns: it completes, and the
        // workflow ignores the result.
        latch(&tag).notify_one();
        assert_eq!(within(h.result()).await.unwrap(), "timer");
        let events = h.history().await.unwrap();
        assert_eq!(count(&events, "ActivityTaskCancelRequested"), 1);
        replayer().replay(&events).expect("the history replays cleanly");
        w.shutdown().await;
    }

    dropped_abandoned_activity_asks_nothing(sqlite) {
        let env = env(sqlite).await;
        let w = worker(&env.client, strict(0));
        let tag = format!("abandoned-{sqlite}");
        let h = env
            .client
            .start_workflow(drop_abandoned, tag.clone(), options(&tag))
            .await
            .unwrap();
        assert_eq!(within(h.result()).await.unwrap(), "timer");
        let events = h.history().await.unwrap();
        assert_eq!(count(&events, "ActivityTaskCancelRequested"), 0);
        assert_eq!(count(&events, "ActivityTaskCanceled"), 0);
        replayer().replay(&events).expect("the history replays cleanly");
        w.shutdown().await;
    }
}
