//! Signals end to end: a hand-written `Workflow::signal`, the engine's
//! signal and signal-with-start, ordering (with updates too), buffering,
//! dedup, replay and restart, on both stores.

mod support;

use support::{env, names, strict, within};

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::mpsc as std_mpsc;
use std::time::Duration;

use futures::future::LocalBoxFuture;
use serde::{Deserialize, Serialize};
use weft::backend::{BackendError, RunStatus};
use weft::converter::{self, Payload};
use weft::engine::Engine;
use weft::history::{Event, EventAttributes};
use weft::replay::Replayer;
use weft::workflow::{Handler, UpdateHandler};
use weft::{
    Client, ClientError, Failure, WorkerOptions, Workflow, WorkflowContext, WorkflowOptions,
    WorkflowResult,
};

/// What the workflow saw.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct Seen {
    values: Vec<String>,
    unhandled: u64,
}

thread_local! {
    /// The last result each tag's run computed on this thread (Replayer tests).
    static REPLAYED: RefCell<HashMap<String, Seen>> = RefCell::new(HashMap::new());
}

/// Gates that hold a run's first workflow task until the test opens them:
/// (tell the test the task is running, wait for the test).
type Gate = (std_mpsc::Sender<()>, std_mpsc::Receiver<()>);
static GATES: Mutex<Option<HashMap<String, Gate>>> = Mutex::new(None);

fn gate(tag: &str) {
    let gate = GATES
        .lock()
        .unwrap()
        .get_or_insert_with(HashMap::new)
        .remove(tag);
    if let Some((entered, release)) = gate {
        let _ = entered.send(());
        let _ = release.recv_timeout(Duration::from_secs(20));
    }
}

/// Installs a gate for `tag`; returns (entered, release).
fn install_gate(tag: &str) -> (std_mpsc::Receiver<()>, std_mpsc::Sender<()>) {
    let (entered_tx, entered_rx) = std_mpsc::channel();
    let (release_tx, release_rx) = std_mpsc::channel();
    GATES
        .lock()
        .unwrap()
        .get_or_insert_with(HashMap::new)
        .insert(tag.to_string(), (entered_tx, release_rx));
    (entered_rx, release_tx)
}

async fn entered(rx: std_mpsc::Receiver<()>) {
    tokio::task::spawn_blocking(move || rx.recv_timeout(Duration::from_secs(20)))
        .await
        .unwrap()
        .expect("the workflow task started");
}

/// Collects `add` signals until `finish`; `slow_add` adds after a timer
/// (an async handler); anything else has no handler. The `add` update adds
/// too and returns what was collected so far.
#[derive(Default)]
struct Collector {
    values: Vec<String>,
    done: bool,
}

/// The input: a tag naming the run for the test, and whether its first
/// task waits at a gate.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct Input {
    tag: String,
    gated: bool,
}

fn input(tag: &str) -> Input {
    Input {
        tag: tag.to_string(),
        gated: false,
    }
}

impl Workflow for Collector {
    const NAME: &'static str = "Collector";
    type Input = Input;
    type Output = Seen;

    fn init(_: &Input) -> Self {
        Collector::default()
    }

    fn run(
        ctx: WorkflowContext<Self>,
        input: Input,
    ) -> LocalBoxFuture<'static, WorkflowResult<Seen>> {
        Box::pin(async move {
            if input.gated && !ctx.is_replaying() {
                gate(&input.tag);
            }
            ctx.wait_condition(|s| s.done).await?;
            ctx.all_handlers_finished().await?;
            let seen = Seen {
                values: ctx.state(|s| s.values.clone()),
                unhandled: ctx.unhandled_signals(),
            };
            REPLAYED.with(|r| r.borrow_mut().insert(input.tag.clone(), seen.clone()));
            Ok(seen)
        })
    }

    fn signal(
        ctx: &WorkflowContext<Self>,
        name: &str,
        input: &[Payload],
    ) -> Option<Result<Handler, Failure>> {
        let decode = || converter::decode_single::<String>(input).map_err(Failure::from);
        match name {
            "add" => Some(decode().map(|v| {
                ctx.state_mut(|s| s.values.push(v));
                Handler::Done
            })),
            "slow_add" => Some(decode().map(|v| {
                let ctx = ctx.clone();
                Handler::Async(Box::pin(async move {
                    let _ = ctx.sleep(Duration::from_millis(20)).await;
                    ctx.state_mut(|s| s.values.push(v));
                }))
            })),
            "finish" => {
                ctx.state_mut(|s| s.done = true);
                Some(Ok(Handler::Done))
            }
            _ => None,
        }
    }

    fn validate(_: &Self, name: &str, input: &[Payload]) -> Option<Result<(), Failure>> {
        (name == "add").then(|| {
            converter::decode_single::<String>(input)
                .map(drop)
                .map_err(Failure::from)
        })
    }

    fn update(
        ctx: &WorkflowContext<Self>,
        name: &str,
        input: &[Payload],
    ) -> Option<Result<UpdateHandler, Failure>> {
        (name == "add").then(|| {
            converter::decode_single::<String>(input)
                .map_err(Failure::from)
                .map(|v| {
                    let values = ctx.state_mut(|s| {
                        s.values.push(v);
                        s.values.clone()
                    });
                    UpdateHandler::Done(converter::encode(&values).map_err(Failure::from))
                })
        })
    }
}

const QUEUE: &str = "signals";

fn options(id: &str) -> WorkflowOptions {
    WorkflowOptions::new(id, QUEUE)
}

fn worker(client: &Client, options: WorkerOptions) -> weft::worker::WorkerHandle {
    support::start_worker::<Collector>(client, QUEUE, options)
}

/// The (name, first argument) of each signal event.
fn signals(events: &[Event]) -> Vec<(String, Option<String>)> {
    events
        .iter()
        .filter_map(|e| match &e.attributes {
            EventAttributes::WorkflowExecutionSignaled {
                signal_name, input, ..
            } => Some((
                signal_name.clone(),
                input
                    .first()
                    .and_then(|p| converter::decode::<String>(p).ok()),
            )),
            _ => None,
        })
        .collect()
}

fn seen(values: &[&str], unhandled: u64) -> Seen {
    Seen {
        values: values.iter().map(|v| v.to_string()).collect(),
        unhandled,
    }
}

/// Replays `events` with the Replayer and returns what the run computed.
fn replay(tag: &str, events: &[Event]) -> Seen {
    REPLAYED.with(|r| r.borrow_mut().remove(tag));
    let mut r = Replayer::new();
    r.register_workflow::<Collector>();
    r.replay(events).expect("replay matches history");
    REPLAYED
        .with(|r| r.borrow_mut().remove(tag))
        .expect("the replay ran the workflow to its end")
}

both_stores! {
    signals_sent_before_the_worker_are_applied_in_order(sqlite) {
        let env = env(sqlite).await;
        let h = env.client.start_workflow(Collector::run, input("order"), options("order")).await.unwrap();
        for v in ["a", "b", "c"] {
            h.signal("add", &v).await.unwrap();
        }
        h.signal("finish", &()).await.unwrap();
        let w = worker(&env.client, strict(1000));
        assert_eq!(within(h.result()).await.unwrap(), seen(&["a", "b", "c"], 0));
        let events = h.history().await.unwrap();
        assert_eq!(
            &names(&events)[..6],
            [
                "WorkflowExecutionStarted",
                "WorkflowTaskScheduled",
                "WorkflowExecutionSignaled",
                "WorkflowExecutionSignaled",
                "WorkflowExecutionSignaled",
                "WorkflowExecutionSignaled",
            ]
        );
        // One task saw every signal and completed the run.
        assert_eq!(names(&events).iter().filter(|n| **n == "WorkflowTaskCompleted").count(), 1);
        assert_eq!(replay("order", &events), seen(&["a", "b", "c"], 0));
        w.shutdown().await;
    }

    a_signal_sent_while_a_task_runs_is_buffered_and_delivered_next(sqlite) {
        let env = env(sqlite).await;
        let tag = format!("buffered-{sqlite}");
        let (entered_rx, release) = install_gate(&tag);
        let w = worker(&env.client, WorkerOptions::default());
        let mut inp = input(&tag);
        inp.gated = true;
        let h = env.client.start_workflow(Collector::run, inp, options(&tag)).await.unwrap();
        entered(entered_rx).await;
        h.signal("add", &"x").await.unwrap();
        h.signal("finish", &()).await.unwrap();
        // Durable but buffered: not in history while the task runs.
        assert!(signals(&h.history().await.unwrap()).is_empty());
        release.send(()).unwrap();
        assert_eq!(within(h.result()).await.unwrap(), seen(&["x"], 0));
        let events = h.history().await.unwrap();
        assert_eq!(
            &names(&events)[..7],
            [
                "WorkflowExecutionStarted",
                "WorkflowTaskScheduled",
                "WorkflowTaskStarted",
                "WorkflowTaskCompleted",
                "WorkflowExecutionSignaled",
                "WorkflowExecutionSignaled",
                "WorkflowTaskScheduled",
            ]
        );
        assert_eq!(replay(&tag, &events), seen(&["x"], 0));
        w.shutdown().await;
    }

    an_unknown_or_undecodable_signal_is_recorded_counted_and_skipped(sqlite) {
        let env = env(sqlite).await;
        let w = worker(&env.client, strict(1000));
        let h = env.client.start_workflow(Collector::run, input("unknown"), options("unknown")).await.unwrap();
        h.signal("no_such_signal", &"?").await.unwrap();
        h.signal("add", &42).await.unwrap(); // not a String: dropped with a warning
        h.signal("add", &"a").await.unwrap();
        h.signal("finish", &()).await.unwrap();
        assert_eq!(within(h.result()).await.unwrap(), seen(&["a"], 2));
        let events = h.history().await.unwrap();
        let names: Vec<_> = signals(&events).into_iter().map(|(n, _)| n).collect();
        assert_eq!(names, ["no_such_signal", "add", "add", "finish"]);
        assert_eq!(replay("unknown", &events), seen(&["a"], 2));
        w.shutdown().await;
    }

    a_retried_signal_is_applied_once(sqlite) {
        let env = env(sqlite).await;
        let h = env.client.start_workflow(Collector::run, input("retry"), options("retry")).await.unwrap();
        h.signal_with_request_id("add", &"a", "req-1").await.unwrap();
        h.signal_with_request_id("add", &"a", "req-1").await.unwrap();
        h.signal_with_request_id("add", &"b", "req-2").await.unwrap();
        let w = worker(&env.client, WorkerOptions::default());
        // Also once after the worker has taken the earlier ones.
        h.signal_with_request_id("add", &"a", "req-1").await.unwrap();
        h.signal("finish", &()).await.unwrap();
        assert_eq!(within(h.result()).await.unwrap(), seen(&["a", "b"], 0));
        assert_eq!(signals(&h.history().await.unwrap()).len(), 3);
        w.shutdown().await;
    }

    signal_with_start_starts_then_signals_and_signals_an_open_run(sqlite) {
        let env = env(sqlite).await;
        let h = env
            .client
            .signal_with_start(Collector::run, input("sws"), options("sws").request_id("sws-1"), "add", &"a")
            .await
            .unwrap();
        let events = h.history().await.unwrap();
        assert_eq!(names(&events), ["WorkflowExecutionStarted", "WorkflowExecutionSignaled"]);
        // A retry of the same call neither starts nor signals again.
        let again = env
            .client
            .signal_with_start(Collector::run, input("sws"), options("sws").request_id("sws-1"), "add", &"a")
            .await
            .unwrap();
        assert_eq!(again.run_id(), h.run_id());
        // A new call signals the open run.
        let open = env
            .client
            .signal_with_start(Collector::run, input("sws"), options("sws"), "add", &"b")
            .await
            .unwrap();
        assert_eq!(open.run_id(), h.run_id());
        let w = worker(&env.client, strict(1000));
        h.signal("slow_add", &"c").await.unwrap();
        h.signal("finish", &()).await.unwrap();
        // The run waits for the async handler before returning.
        assert_eq!(within(h.result()).await.unwrap(), seen(&["a", "b", "c"], 0));
        // A closed run takes no signals, and says so.
        let err = h.signal("add", &"late").await.unwrap_err();
        match &err {
            ClientError::Backend(BackendError::NotFound { detail: Some(d), .. }) => {
                assert!(d.contains("closed"), "{err}")
            }
            other => panic!("expected NotFound(closed), got {other:?}"),
        }
        let missing = env.client.workflow_handle::<Collector>("nobody", None);
        assert!(matches!(
            missing.signal("add", &"x").await,
            Err(ClientError::Backend(BackendError::NotFound { .. }))
        ));
        w.shutdown().await;
    }

    replay_with_no_cache_reproduces_the_state(sqlite) {
        let env = env(sqlite).await;
        let tag = format!("nocache-{sqlite}");
        let w = worker(&env.client, strict(0));
        let h = env.client.start_workflow(Collector::run, input(&tag), options(&tag)).await.unwrap();
        for v in ["a", "b", "c"] {
            h.signal("add", &v).await.unwrap();
            // Let a workflow task take each signal on its own.
            within(async {
                loop {
                    let d = h.describe().await.unwrap();
                    let events = h.history().await.unwrap();
                    let last_signal = events.iter().rposition(|e| e.attributes.name() == "WorkflowExecutionSignaled");
                    let last_done = events.iter().rposition(|e| e.attributes.name() == "WorkflowTaskCompleted");
                    if d.status == RunStatus::Running && last_done > last_signal {
                        break;
                    }
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
            })
            .await;
        }
        h.signal("slow_add", &"d").await.unwrap();
        h.signal("finish", &()).await.unwrap();
        let expected = seen(&["a", "b", "c", "d"], 0);
        assert_eq!(within(h.result()).await.unwrap(), expected);
        let events = h.history().await.unwrap();
        assert!(names(&events).iter().filter(|n| **n == "WorkflowTaskCompleted").count() >= 4);
        assert_eq!(replay(&tag, &events), expected);
        // The exported JSON replays the same way.
        let json = h.history_json().await.unwrap();
        assert_eq!(replay(&tag, &weft::history::from_json(&json).unwrap()), expected);
        w.shutdown().await;
    }
}

/// Signals recorded, and signals buffered behind a task in flight, survive
/// the engine going away and the SQLite file being reopened.
/// Sends the update `add` far enough that the engine has its request (in
/// the engine's queue, ahead of whatever is sent next), and returns the
/// call, which waits for the update's result.
async fn send_update<'a>(
    h: &'a weft::WorkflowHandle<Collector>,
    value: &'static &'static str,
) -> std::pin::Pin<Box<impl std::future::Future<Output = Result<Vec<String>, ClientError>> + 'a>> {
    let mut call = Box::pin(h.update::<Vec<String>>("add", value));
    assert!(futures::poll!(&mut call).is_pending());
    call
}

/// The sequencing event id each accepted update recorded, by update name
/// argument, and the event id of each signal, by argument.
fn arrivals(events: &[Event]) -> Vec<(String, i64)> {
    events
        .iter()
        .filter_map(|e| match &e.attributes {
            EventAttributes::WorkflowExecutionSignaled { input, .. } => Some((
                converter::decode::<String>(input.first()?).ok()?,
                e.event_id,
            )),
            EventAttributes::WorkflowExecutionUpdateAccepted {
                input,
                accepted_request_sequencing_event_id,
                ..
            } => Some((
                converter::decode::<String>(input.first()?).ok()?,
                *accepted_request_sequencing_event_id,
            )),
            _ => None,
        })
        .collect()
}

both_stores! {
    signals_and_updates_apply_in_arrival_order(sqlite) {
        let env = env(sqlite).await;
        let tag = format!("interleaved-{sqlite}");
        let h = env.client.start_workflow(Collector::run, input(&tag), options(&tag)).await.unwrap();
        // No worker yet: all five arrive before the first workflow task.
        h.signal("add", &"s1").await.unwrap();
        let u1 = send_update(&h, &"u1").await;
        h.signal("add", &"s2").await.unwrap();
        let u2 = send_update(&h, &"u2").await;
        h.signal("add", &"s3").await.unwrap();
        // No cache: every task replays the run first, so the result
        // shows the replayed order too.
        let w = worker(&env.client, strict(0));
        assert_eq!(within(u1).await.unwrap(), ["s1", "u1"]);
        assert_eq!(within(u2).await.unwrap(), ["s1", "u1", "s2", "u2"]);
        h.signal("finish", &()).await.unwrap();
        let expected = seen(&["s1", "u1", "s2", "u2", "s3"], 0);
        assert_eq!(within(h.result()).await.unwrap(), expected);
        let events = h.history().await.unwrap();
        // Each update records the event it arrived after: its signal.
        let arrived = arrivals(&events);
        let at = |v: &str| arrived.iter().filter(|(x, _)| x == v).map(|(_, id)| *id).collect::<Vec<_>>();
        assert_eq!(at("u1"), at("s1"));
        assert_eq!(at("u2"), at("s2"));
        assert_eq!(replay(&tag, &events), expected);
        w.shutdown().await;
    }

    updates_sent_while_a_task_runs_keep_their_place_among_buffered_signals(sqlite) {
        let env = env(sqlite).await;
        let tag = format!("interleaved-buffered-{sqlite}");
        let (entered_rx, release) = install_gate(&tag);
        let w = worker(&env.client, strict(0));
        let mut inp = input(&tag);
        inp.gated = true;
        let h = env.client.start_workflow(Collector::run, inp, options(&tag)).await.unwrap();
        entered(entered_rx).await;
        // The first task is running: the signals are buffered, the
        // updates wait for the next task.
        let u0 = send_update(&h, &"u0").await;
        h.signal("add", &"s1").await.unwrap();
        let u1 = send_update(&h, &"u1").await;
        h.signal("add", &"s2").await.unwrap();
        let u2 = send_update(&h, &"u2").await;
        release.send(()).unwrap();
        assert_eq!(within(u0).await.unwrap(), ["u0"]);
        assert_eq!(within(u1).await.unwrap(), ["u0", "s1", "u1"]);
        assert_eq!(within(u2).await.unwrap(), ["u0", "s1", "u1", "s2", "u2"]);
        h.signal("finish", &()).await.unwrap();
        let expected = seen(&["u0", "s1", "u1", "s2", "u2"], 0);
        assert_eq!(within(h.result()).await.unwrap(), expected);
        let events = h.history().await.unwrap();
        assert_eq!(replay(&tag, &events), expected);
        w.shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signals_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("weft.db");
    let tag = "restart";
    {
        let engine = Engine::sqlite(&path).await.unwrap();
        let client = Client::new(engine.clone());
        let h = client
            .start_workflow(Collector::run, input(tag), options(tag))
            .await
            .unwrap();
        h.signal("add", &"recorded").await.unwrap();
        let w = worker(&client, WorkerOptions::default());
        h.signal("add", &"gated").await.unwrap();
        // A second run whose first task is held while a signal arrives.
        let mut inp = input("restart-gated");
        inp.gated = true;
        let (entered_rx, release) = install_gate("restart-gated");
        let g = client
            .start_workflow(Collector::run, inp, options("restart-gated"))
            .await
            .unwrap();
        entered(entered_rx).await;
        g.signal("add", &"buffered").await.unwrap();
        g.signal("finish", &()).await.unwrap();
        // The engine goes away with that task in flight.
        drop(w);
        engine.shutdown().await;
        release.send(()).unwrap();
    }
    let engine = Engine::sqlite(&path).await.unwrap();
    let client = Client::new(engine.clone());
    let w = worker(&client, WorkerOptions::default());
    let g = client.workflow_handle::<Collector>("restart-gated", None);
    assert_eq!(within(g.result()).await.unwrap(), seen(&["buffered"], 0));
    let h = client.workflow_handle::<Collector>(tag, None);
    h.signal("finish", &()).await.unwrap();
    assert_eq!(
        within(h.result()).await.unwrap(),
        seen(&["recorded", "gated"], 0)
    );
    w.shutdown().await;
    engine.shutdown().await;
}

/// Jobs of one activation come in Temporal core's order whatever order
/// their events arrived in: signals before resolutions.
#[test]
fn jobs_are_ordered_start_patches_signals_resolutions_locals() {
    use weft::protocol::{Job, Resolution, order_jobs};
    let p = converter::encode(&1).unwrap();
    let mut jobs = vec![
        Job::ResolveLocalActivity {
            seq: 1,
            result: Resolution::Completed(p.clone()),
        },
        Job::FireTimer { seq: 1 },
        Job::Signal {
            name: "s1".into(),
            input: vec![],
        },
        Job::ResolveActivity {
            seq: 1,
            result: Resolution::Completed(p),
        },
        Job::NotifyHasPatch {
            patch_id: "p".into(),
        },
        Job::Signal {
            name: "s2".into(),
            input: vec![],
        },
    ];
    order_jobs(&mut jobs);
    let kinds: Vec<String> = jobs
        .iter()
        .map(|j| match j {
            Job::Signal { name, .. } => name.clone(),
            other => format!("{other:?}")
                .split_whitespace()
                .next()
                .unwrap_or("")
                .to_string(),
        })
        .collect();
    assert_eq!(
        kinds,
        [
            "NotifyHasPatch",
            "s1",
            "s2",
            "FireTimer",
            "ResolveActivity",
            "ResolveLocalActivity"
        ]
    );
}
