//! `ctx.side_effect` on a Temporal dev server. Temporal's core has no
//! side-effect command, so weft records each value as a local activity of
//! the built-in type `weft.SideEffect`: its closure runs once, its value
//! comes back from history when a worker replays the run (after a restart,
//! or on every task with no cache), and the history, exported by Temporal's
//! CLI or read by weft's client, replays in weft's `Replayer`, where the
//! marker reads as the `core_side_effect` marker weft's engine writes.

mod temporal_support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use serde::{Deserialize, Serialize, Serializer};
use weft::history::{Event, EventAttributes};
use weft::prelude::*;
use weft::replay::Replayer;
use weft::{ClientError, WorkerOptions};

const QUEUE: &str = "side-effects";

/// How long a run may take before the test gives up on it.
const PATIENCE: Duration = Duration::from_secs(60);

/// Closure calls, one counter per workflow (tests run side by side).
static WAITER_CALLS: AtomicUsize = AtomicUsize::new(0);
static STAMPED_CALLS: AtomicUsize = AtomicUsize::new(0);
static MANY_CALLS: AtomicUsize = AtomicUsize::new(0);

/// A value each call makes different: a rerun closure would show.
fn token(calls: &AtomicUsize, name: &str) -> String {
    format!("{name}-{}", calls.fetch_add(1, Ordering::SeqCst) + 1)
}

#[activity(start_to_close_timeout = "5s")]
async fn greet(name: String) -> Result<String, ApplicationError> {
    Ok(format!("Hello, {name}!"))
}

#[activity(start_to_close_timeout = "5s")]
async fn double(n: u32) -> Result<u32, ApplicationError> {
    Ok(n * 2)
}

/// Records a side effect, waits for a signal (so the next task runs on
/// whichever worker is up), records another.
#[workflow]
#[derive(Default)]
struct Waiter {
    go: bool,
}

#[workflow]
impl Waiter {
    #[run]
    async fn run(ctx: WorkflowContext<Self>, _input: ()) -> WorkflowResult<(String, String)> {
        let first = ctx.side_effect(|| token(&WAITER_CALLS, "first")).await;
        ctx.wait_condition(|s| s.go).await?;
        let second = ctx.side_effect(|| token(&WAITER_CALLS, "second")).await;
        Ok((first, second))
    }

    #[signal]
    fn go(&mut self) {
        self.go = true;
    }
}

/// A side effect between an activity and a timer, another after the timer.
#[workflow]
async fn stamped(ctx: WorkflowContext, name: String) -> WorkflowResult<Vec<String>> {
    let greeting = ctx.activity(GREET, name).await?;
    let before = ctx.side_effect(|| token(&STAMPED_CALLS, "before")).await;
    ctx.sleep(Duration::from_millis(200)).await?;
    let after = ctx.side_effect(|| token(&STAMPED_CALLS, "after")).await;
    Ok(vec![greeting, before, after])
}

/// Many side effects in one workflow task, local activities between them
/// (core numbers both in one space), and some awaited together.
#[workflow]
#[derive(Default)]
struct Many {
    values: Vec<u32>,
}

#[workflow]
impl Many {
    #[run]
    async fn run(ctx: WorkflowContext<Self>, n: u32) -> WorkflowResult<Vec<u32>> {
        for i in 0..n {
            let value = ctx
                .side_effect(move || {
                    MANY_CALLS.fetch_add(1, Ordering::SeqCst);
                    i * 10
                })
                .await;
            ctx.state_mut(|s| s.values.push(value));
            if i % 7 == 0 {
                let doubled = ctx.local_activity(DOUBLE, i).await?;
                ctx.state_mut(|s| s.values.push(doubled));
            }
        }
        let together = (0..5).map(|i| {
            ctx.side_effect(move || {
                MANY_CALLS.fetch_add(1, Ordering::SeqCst);
                1000 + i
            })
        });
        let together = weft::workflow::join_all(together).await;
        ctx.state_mut(|s| s.values.extend(together));
        // The timer is asked for after the side effect, in the same poll:
        // its event comes after the side effect's marker, as on weft's
        // engine.
        let (last, slept) = weft::workflow::join(
            ctx.side_effect(|| {
                MANY_CALLS.fetch_add(1, Ordering::SeqCst);
                2000
            }),
            ctx.sleep(Duration::from_millis(50)),
        )
        .await;
        slept?;
        ctx.state_mut(|s| s.values.push(last));
        Ok(ctx.state(|s| s.values.clone()))
    }

    #[query]
    fn values(&self) -> Vec<u32> {
        self.values.clone()
    }
}

/// A value serde refuses to encode.
#[derive(Debug, Deserialize)]
struct Socket;

impl Serialize for Socket {
    fn serialize<S: Serializer>(&self, _: S) -> Result<S::Ok, S::Error> {
        Err(serde::ser::Error::custom("a socket has no value to record"))
    }
}

/// A side effect that records, then one whose value cannot be encoded.
#[workflow]
async fn unrecordable(ctx: WorkflowContext, _input: ()) -> WorkflowResult<u32> {
    let fine = ctx.side_effect(|| 7u32).await;
    let _socket: Socket = ctx.side_effect(|| Socket).await;
    Ok(fine)
}

/// An activity under the name weft reserves.
#[activity(name = "weft.SideEffect", start_to_close_timeout = "5s")]
async fn impostor(n: u32) -> Result<u32, ApplicationError> {
    Ok(n)
}

fn worker(client: &Client, cache: usize) -> Worker {
    Worker::new(client, QUEUE)
        .with_options(WorkerOptions {
            max_cached_workflows: cache,
            ..WorkerOptions::default()
        })
        .register_workflow::<Waiter>()
        .register_workflow::<Stamped>()
        .register_workflow::<Many>()
        .register_workflow::<Unrecordable>()
        .register_activity(GREET)
        .register_activity(DOUBLE)
}

fn replayer() -> Replayer {
    let mut replayer = Replayer::new();
    replayer
        .register_workflow::<Waiter>()
        .register_workflow::<Stamped>()
        .register_workflow::<Many>()
        .register_workflow::<Unrecordable>();
    replayer
}

/// The side effect markers of a history: seq and value, in order.
fn side_effects<T: serde::de::DeserializeOwned>(events: &[Event]) -> Vec<(u32, T)> {
    events
        .iter()
        .filter_map(|e| match &e.attributes {
            EventAttributes::MarkerRecorded {
                marker_name,
                details,
                ..
            } if marker_name == weft::history::SIDE_EFFECT_MARKER => Some((
                weft::converter::decode_single(&details["seq"]).unwrap(),
                weft::converter::decode_single(&details["data"]).unwrap(),
            )),
            _ => None,
        })
        .collect()
}

/// Local activity markers of weft's built-in type: none should be left,
/// each reads as a side effect marker.
fn built_in_markers(events: &[Event]) -> usize {
    events
        .iter()
        .filter(|e| {
            matches!(&e.attributes, EventAttributes::MarkerRecorded { marker_name, details, .. }
            if marker_name == weft::history::LOCAL_ACTIVITY_MARKER
                && details.get("activity_type").is_some_and(|t| {
                    weft::converter::decode_single::<String>(t).ok().as_deref()
                        == Some("weft.SideEffect")
                }))
        })
        .count()
}

/// Waits until the run's history satisfies `done`.
async fn history_until(client: &Client, id: &str, done: impl Fn(&[Event]) -> bool) -> Vec<Event> {
    let handle = client.workflow_handle::<Waiter>(id, None);
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let events = handle.history().await.unwrap();
        if done(&events) {
            return events;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{id}: history never got there: {events:#?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The run's history, as Temporal's CLI exports it and as weft's client
/// reads it, replays in weft's `Replayer` without running any closure.
async fn replays_in_weft(
    server: &temporal_support::DevServer,
    client: &Client,
    id: &str,
    calls: &AtomicUsize,
) {
    let before = calls.load(Ordering::SeqCst);
    let replayer = replayer();
    let events = server
        .replay_both_ways::<Waiter>(client, &replayer, id)
        .await;
    assert!(
        !side_effects::<serde_json::Value>(&events).is_empty(),
        "{id}: {events:#?}"
    );
    assert_eq!(built_in_markers(&events), 0, "{id}: {events:#?}");
    assert_eq!(
        calls.load(Ordering::SeqCst),
        before,
        "{id}: replay ran a side effect's closure"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restarted_worker_reads_the_recorded_value_and_does_not_run_the_closure() {
    let Some(server) = temporal_support::start(&[]).await else {
        return;
    };
    let client = server.client().await;
    let first = worker(&client, 100).start().unwrap();
    let handle = client
        .start_workflow(Waiter::run, (), WorkflowOptions::new("waiter-1", QUEUE))
        .await
        .unwrap();
    let events = history_until(&client, "waiter-1", |e| {
        !side_effects::<String>(e).is_empty()
    })
    .await;
    assert_eq!(side_effects(&events), vec![(1, "first-1".to_string())]);
    first.shutdown().await;

    // A new worker has no cache: it replays the run from history.
    let second = worker(&client, 100).start().unwrap();
    handle.go().await.unwrap();
    let result = tokio::time::timeout(PATIENCE, handle.result())
        .await
        .expect("the run ends")
        .unwrap();
    assert_eq!(result, ("first-1".to_string(), "second-2".to_string()));
    assert_eq!(WAITER_CALLS.load(Ordering::SeqCst), 2);
    let events = handle.history().await.unwrap();
    assert_eq!(
        side_effects(&events),
        vec![(1, "first-1".to_string()), (2, "second-2".to_string())]
    );
    replays_in_weft(&server, &client, "waiter-1", &WAITER_CALLS).await;

    // Changed code (the side effect removed) does not replay the history.
    let mut changed = Replayer::new();
    changed.register_workflow::<Waiter>();
    let mut events = events;
    events.retain(|e| {
        !matches!(&e.attributes, EventAttributes::MarkerRecorded { marker_name, .. }
            if marker_name == weft::history::SIDE_EFFECT_MARKER)
    });
    assert!(
        changed.replay(&events).is_err(),
        "a history without its side effects replayed"
    );
    second.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_side_effect_between_an_activity_and_a_timer_replays_on_every_task() {
    let Some(server) = temporal_support::start(&[]).await else {
        return;
    };
    let client = server.client().await;
    // No cache: every workflow task replays the run from its history.
    let worker = worker(&client, 0).start().unwrap();
    let handle = client
        .start_workflow(
            stamped,
            "weft".into(),
            WorkflowOptions::new("stamped-1", QUEUE),
        )
        .await
        .unwrap();
    let result = tokio::time::timeout(PATIENCE, handle.result())
        .await
        .expect("the run ends")
        .unwrap();
    assert_eq!(result, ["Hello, weft!", "before-1", "after-2"]);
    assert_eq!(STAMPED_CALLS.load(Ordering::SeqCst), 2);

    let events = handle.history().await.unwrap();
    let position = |what: &str| {
        events
            .iter()
            .position(|e| match &e.attributes {
                EventAttributes::MarkerRecorded {
                    marker_name,
                    details,
                    ..
                } => {
                    marker_name == weft::history::SIDE_EFFECT_MARKER
                        && weft::converter::decode_single::<String>(&details["data"]).unwrap()
                            == what
                }
                EventAttributes::ActivityTaskCompleted { .. } => what == "activity",
                EventAttributes::TimerStarted { .. } => what == "timer started",
                EventAttributes::TimerFired { .. } => what == "timer fired",
                _ => false,
            })
            .unwrap_or_else(|| panic!("no {what} in {events:#?}"))
    };
    let order = [
        "activity",
        "before-1",
        "timer started",
        "timer fired",
        "after-2",
    ]
    .map(position);
    assert!(order.is_sorted(), "{order:?}: {events:#?}");
    replays_in_weft(&server, &client, "stamped-1", &STAMPED_CALLS).await;
    worker.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_side_effects_among_local_activities_keep_their_values_and_order() {
    let Some(server) = temporal_support::start(&[]).await else {
        return;
    };
    let client = server.client().await;
    let n = 30;
    let mut expected = Vec::new();
    for i in 0..n {
        expected.push(i * 10);
        if i % 7 == 0 {
            expected.push(i * 2);
        }
    }
    expected.extend(1000..1005);
    expected.push(2000);
    let first = worker(&client, 100).start().unwrap();
    let handle = client
        .start_workflow(Many::run, n, WorkflowOptions::new("many-1", QUEUE))
        .await
        .unwrap();
    let result = tokio::time::timeout(PATIENCE, handle.result())
        .await
        .expect("the run ends")
        .unwrap();
    assert_eq!(result, expected);
    assert_eq!(MANY_CALLS.load(Ordering::SeqCst), n as usize + 6);
    first.shutdown().await;

    // A new worker answers a query by replaying the whole closed run: the
    // values come from history and no closure runs.
    let second = worker(&client, 100).start().unwrap();
    let replayed = tokio::time::timeout(PATIENCE, handle.values())
        .await
        .expect("the query is answered")
        .unwrap();
    assert_eq!(replayed, expected);
    assert_eq!(MANY_CALLS.load(Ordering::SeqCst), n as usize + 6);

    let events = handle.history().await.unwrap();
    let recorded: Vec<(u32, u32)> = side_effects(&events);
    let seqs: Vec<u32> = recorded.iter().map(|(seq, _)| *seq).collect();
    assert_eq!(seqs, (1..=n + 6).collect::<Vec<_>>());
    let values: Vec<u32> = recorded.iter().map(|(_, v)| *v).collect();
    let mut want: Vec<u32> = (0..n).map(|i| i * 10).collect();
    want.extend(1000..1005);
    want.push(2000);
    assert_eq!(values, want);
    replays_in_weft(&server, &client, "many-1", &MANY_CALLS).await;
    second.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_value_that_cannot_be_encoded_fails_the_task_with_a_clear_error() {
    let Some(server) = temporal_support::start(&[]).await else {
        return;
    };
    let client = server.client().await;

    // The type is weft's: a worker cannot register an activity under it.
    let err = worker(&client, 100)
        .register_activity(IMPOSTOR)
        .start()
        .err()
        .expect("a worker with an activity named weft.SideEffect starts");
    assert!(err.to_string().contains("reserved"), "{err}");

    let worker = worker(&client, 100).start().unwrap();
    let handle = client
        .start_workflow(
            unrecordable,
            (),
            WorkflowOptions::new("unrecordable-1", QUEUE),
        )
        .await
        .unwrap();
    let events = history_until(&client, "unrecordable-1", |events| {
        events
            .iter()
            .any(|e| matches!(e.attributes, EventAttributes::WorkflowTaskFailed { .. }))
    })
    .await;
    let failure = events
        .iter()
        .find_map(|e| match &e.attributes {
            EventAttributes::WorkflowTaskFailed { failure, .. } => Some(failure.to_string()),
            _ => None,
        })
        .unwrap();
    assert!(
        failure.contains("side effect 2: cannot encode its value")
            && failure.contains("a socket has no value to record"),
        "{failure}"
    );
    // A failed task records nothing, the first side effect's value neither.
    assert_eq!(side_effects::<u32>(&events), vec![]);
    handle
        .terminate("the value cannot be recorded")
        .await
        .unwrap();
    let err = handle.result().await.unwrap_err();
    assert!(matches!(err, ClientError::Workflow(_)), "{err:?}");
    worker.shutdown().await;
}
