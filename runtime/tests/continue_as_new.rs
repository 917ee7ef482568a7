//! Continue-as-new end to end, on both stores: a run closes with
//! `WorkflowExecutionContinuedAsNew` and the next run of the chain starts in
//! the same commit; the original handle follows the chain (result, describe,
//! signals, updates); the engine's suggestion is recorded and replayed;
//! update dedup spans the chain.

mod support;

use std::time::Duration;

use futures::future::LocalBoxFuture;
use serde::{Deserialize, Serialize};
use weft::backend::RunStatus;
use weft::converter::{self, Payload};
use weft::engine::{Engine, EngineOptions, MemoryStore, SqliteStore};
use weft::history::{Event, EventAttributes};
use weft::replay::{ReplayError, Replayer};
use weft::workflow::{Handler, UpdateHandler};
use weft::{Client, Failure, Worker, WorkerOptions, Workflow, WorkflowContext, WorkflowResult};
use weft::{WorkflowHandle, WorkflowOptions};

const QUEUE: &str = "can";

async fn within<F: std::future::Future>(f: F) -> F::Output {
    tokio::time::timeout(Duration::from_secs(120), f)
        .await
        .expect("timed out")
}

struct Env {
    client: Client,
    _engine: Engine,
    _dir: Option<tempfile::TempDir>,
}

fn env_with(sqlite: bool, options: EngineOptions) -> Env {
    let (engine, dir) = if sqlite {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(dir.path().join("weft.db")).unwrap();
        (Engine::start(store, options).unwrap(), Some(dir))
    } else {
        (Engine::start(MemoryStore::new(), options).unwrap(), None)
    };
    Env {
        client: Client::new(engine.clone()),
        _engine: engine,
        _dir: dir,
    }
}

fn strict() -> WorkerOptions {
    WorkerOptions {
        strict_replay: true,
        ..WorkerOptions::default()
    }
}

fn decode<T: serde::de::DeserializeOwned>(input: &[Payload]) -> Result<T, Failure> {
    converter::decode_single(input).map_err(Failure::from)
}

/// The histories of every run of the chain the handle addresses, oldest first.
async fn chain_histories<W: Workflow>(
    client: &Client,
    h: &WorkflowHandle<W>,
) -> (Vec<String>, Vec<Vec<Event>>) {
    let chain = h.describe().await.unwrap().run_chain;
    let mut histories = Vec::new();
    for run_id in &chain {
        let run = client.workflow_handle::<W>(h.workflow_id(), Some(run_id.clone()));
        histories.push(run.history().await.unwrap());
    }
    (chain, histories)
}

fn started_first_run(events: &[Event]) -> (String, Option<String>) {
    match &events[0].attributes {
        EventAttributes::WorkflowExecutionStarted {
            first_execution_run_id,
            continued_execution_run_id,
            ..
        } => (
            first_execution_run_id.clone(),
            continued_execution_run_id.clone(),
        ),
        other => panic!("a history starts with WorkflowExecutionStarted, not {other:?}"),
    }
}

fn continued_to(events: &[Event]) -> Option<String> {
    match &events.last()?.attributes {
        EventAttributes::WorkflowExecutionContinuedAsNew {
            new_execution_run_id,
            ..
        } => Some(new_execution_run_id.clone()),
        _ => None,
    }
}

// ---------------------------------------------------------------- Looper

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct Loop {
    count: u32,
    target: u32,
}

/// Sleeps once, then continues as new with `count + 1` until `target`.
struct Looper;

impl Workflow for Looper {
    const NAME: &'static str = "Looper";
    type Input = Loop;
    type Output = u32;

    fn init(_: &Loop) -> Self {
        Looper
    }

    fn run(
        ctx: WorkflowContext<Self>,
        input: Loop,
    ) -> LocalBoxFuture<'static, WorkflowResult<u32>> {
        Box::pin(async move {
            ctx.sleep(Duration::from_millis(1)).await?;
            if input.count < input.target {
                return ctx.continue_as_new(Loop {
                    count: input.count + 1,
                    target: input.target,
                });
            }
            Ok(input.count)
        })
    }
}

// ---------------------------------------------------------------- Grower

/// Sleeps until the engine suggests continue-as-new, then continues as new
/// (twice), and returns the number of runs and sleeps of the last run.
struct Grower;

impl Workflow for Grower {
    const NAME: &'static str = "Grower";
    type Input = u32;
    type Output = (u32, u32);

    fn init(_: &u32) -> Self {
        Grower
    }

    fn run(
        ctx: WorkflowContext<Self>,
        run: u32,
    ) -> LocalBoxFuture<'static, WorkflowResult<(u32, u32)>> {
        Box::pin(async move {
            let mut sleeps = 0;
            while !ctx.is_continue_as_new_suggested() {
                ctx.sleep(Duration::from_millis(1)).await?;
                sleeps += 1;
                if sleeps > 1000 {
                    return Err(weft::ApplicationError::new("never suggested").into());
                }
            }
            if run < 2 {
                return ctx.continue_as_new(run + 1);
            }
            Ok((run, sleeps))
        })
    }
}

// ---------------------------------------------------------------- Tally

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct TallyInput {
    total: i64,
    applied: u64,
    runs: u32,
}

/// Adds numbers by update (`add`, which returns the new total) and
/// continues as new after every `PER_RUN` updates of a run; ends on the
/// `finish` signal.
struct Tally {
    total: i64,
    applied: u64,
    in_run: u64,
    done: bool,
}

const PER_RUN: u64 = 100;

impl Workflow for Tally {
    const NAME: &'static str = "Tally";
    type Input = TallyInput;
    type Output = TallyInput;

    fn init(input: &TallyInput) -> Self {
        Tally {
            total: input.total,
            applied: input.applied,
            in_run: 0,
            done: false,
        }
    }

    fn run(
        ctx: WorkflowContext<Self>,
        input: TallyInput,
    ) -> LocalBoxFuture<'static, WorkflowResult<TallyInput>> {
        Box::pin(async move {
            ctx.wait_condition(|s| s.done || s.in_run >= PER_RUN)
                .await?;
            ctx.all_handlers_finished().await?;
            let (total, applied, done) = ctx.state(|s| (s.total, s.applied, s.done));
            let next = TallyInput {
                total,
                applied,
                runs: input.runs + 1,
            };
            if done {
                return Ok(next);
            }
            ctx.continue_as_new(next)
        })
    }

    fn signal(
        ctx: &WorkflowContext<Self>,
        name: &str,
        _input: &[Payload],
    ) -> Option<Result<Handler, Failure>> {
        (name == "finish").then(|| {
            ctx.state_mut(|s| s.done = true);
            Ok(Handler::Done)
        })
    }

    fn validate(_: &Self, name: &str, input: &[Payload]) -> Option<Result<(), Failure>> {
        (name == "add").then(|| decode::<i64>(input).map(|_| ()))
    }

    fn update(
        ctx: &WorkflowContext<Self>,
        name: &str,
        input: &[Payload],
    ) -> Option<Result<UpdateHandler, Failure>> {
        (name == "add").then(|| {
            decode::<i64>(input).map(|x| {
                let total = ctx.state_mut(|s| {
                    s.total += x;
                    s.applied += 1;
                    s.in_run += 1;
                    s.total
                });
                UpdateHandler::Done(converter::encode(&total).map_err(Failure::from))
            })
        })
    }
}

// ---------------------------------------------------------------- Collector

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
struct Collected {
    items: Vec<u32>,
    runs: u32,
}

/// Collects `item` signals and continues as new after every 5 new ones;
/// ends on `finish`.
struct Collector {
    items: Vec<u32>,
    new: usize,
    done: bool,
}

impl Workflow for Collector {
    const NAME: &'static str = "Collector";
    type Input = Collected;
    type Output = Collected;

    fn init(input: &Collected) -> Self {
        Collector {
            items: input.items.clone(),
            new: 0,
            done: false,
        }
    }

    fn run(
        ctx: WorkflowContext<Self>,
        input: Collected,
    ) -> LocalBoxFuture<'static, WorkflowResult<Collected>> {
        Box::pin(async move {
            ctx.wait_condition(|s| s.done || s.new >= 5).await?;
            let (items, done) = ctx.state(|s| (s.items.clone(), s.done));
            let next = Collected {
                items,
                runs: input.runs + 1,
            };
            if done {
                return Ok(next);
            }
            ctx.continue_as_new(next)
        })
    }

    fn signal(
        ctx: &WorkflowContext<Self>,
        name: &str,
        input: &[Payload],
    ) -> Option<Result<Handler, Failure>> {
        match name {
            "item" => Some(decode::<u32>(input).map(|x| {
                ctx.state_mut(|s| {
                    s.items.push(x);
                    s.new += 1;
                });
                Handler::Done
            })),
            "finish" => {
                ctx.state_mut(|s| s.done = true);
                Some(Ok(Handler::Done))
            }
            _ => None,
        }
    }
}

fn replayer() -> Replayer {
    let mut r = Replayer::new();
    r.register_workflow::<Looper>()
        .register_workflow::<Grower>()
        .register_workflow::<Tally>()
        .register_workflow::<Collector>();
    r
}

fn worker(client: &Client) -> weft::worker::WorkerHandle {
    let w = Worker::new(client, QUEUE)
        .with_options(strict())
        .register_workflow::<Looper>()
        .register_workflow::<Grower>()
        .register_workflow::<Tally>()
        .register_workflow::<Collector>();
    w.start().unwrap()
}

both_stores! {
    a_loop_continues_as_new_and_the_handle_follows_the_chain(sqlite) {
        let env = env_with(sqlite, EngineOptions::default());
        let w = worker(&env.client);
        const N: u32 = 5;
        let h = env
            .client
            .start_workflow(Looper::run, Loop { count: 0, target: N }, WorkflowOptions::new("loop", QUEUE))
            .await
            .unwrap();
        let first = h.run_id().unwrap().to_string();
        assert_eq!(within(h.result()).await.unwrap(), N);
        // The original handle addresses the chain.
        let d = h.describe().await.unwrap();
        assert_eq!(d.run_chain.len(), N as usize + 1);
        assert_eq!(d.run_chain[0], first);
        assert_eq!(d.run_id, *d.run_chain.last().unwrap());
        assert_eq!(d.status, RunStatus::Completed);
        let (chain, histories) = chain_histories(&env.client, &h).await;
        let r = replayer();
        for (i, events) in histories.iter().enumerate() {
            // Each run's history starts fresh.
            assert_eq!(events[0].event_id, 1);
            let (first_run, continued) = started_first_run(events);
            assert_eq!(first_run, first);
            assert_eq!(continued, (i > 0).then(|| chain[i - 1].clone()));
            if i < N as usize {
                assert_eq!(continued_to(events), Some(chain[i + 1].clone()));
                // A handle given a run id describes exactly that run, the
                // first included: closed as continued, naming the next.
                let run = env.client.workflow_handle::<Looper>("loop", Some(chain[i].clone()));
                let d = run.describe().await.unwrap();
                assert_eq!(d.run_id, chain[i]);
                assert_eq!(d.status, RunStatus::ContinuedAsNew);
                assert_eq!(d.next_run_id.as_ref(), Some(&chain[i + 1]));
                assert_eq!(run.history().await.unwrap(), *events);
            } else {
                assert!(matches!(
                    events.last().unwrap().attributes,
                    EventAttributes::WorkflowExecutionCompleted { .. }
                ));
            }
            r.replay_workflow("loop", events).expect("each run's history replays");
        }
        // A handle without a run id reaches the last run too.
        let latest = env.client.workflow_handle::<Looper>("loop", None);
        assert_eq!(within(latest.result()).await.unwrap(), N);
        assert_eq!(latest.describe().await.unwrap().next_run_id, None);
        // A new run of the id begins another chain: the original handle
        // still describes the last run of its own.
        let again = env
            .client
            .start_workflow(Looper::run, Loop { count: 0, target: 0 }, WorkflowOptions::new("loop", QUEUE))
            .await
            .unwrap();
        within(again.result()).await.unwrap();
        assert_ne!(again.run_id(), h.run_id());
        assert_eq!(h.describe().await.unwrap().run_id, *chain.last().unwrap());
        assert_eq!(again.describe().await.unwrap().run_chain, [again.run_id().unwrap()]);
        w.shutdown().await;
    }

    the_suggestion_turns_true_and_is_replayed_from_history(sqlite) {
        let options = EngineOptions {
            continue_as_new_suggested_events: 25,
            ..EngineOptions::default()
        };
        let env = env_with(sqlite, options);
        let w = worker(&env.client);
        let h = env
            .client
            .start_workflow(Grower::run, 0, WorkflowOptions::new("grow", QUEUE))
            .await
            .unwrap();
        let (runs, sleeps) = within(h.result()).await.unwrap();
        assert_eq!(runs, 2);
        assert!(sleeps > 0);
        let (chain, histories) = chain_histories(&env.client, &h).await;
        assert_eq!(chain.len(), 3);
        let r = replayer();
        for events in &histories {
            let flags: Vec<(bool, u64)> = events
                .iter()
                .filter_map(|e| match e.attributes {
                    EventAttributes::WorkflowTaskStarted { suggest_continue_as_new, history_size_bytes, .. } => {
                        Some((suggest_continue_as_new, history_size_bytes))
                    }
                    _ => None,
                })
                .collect();
            // Only the last task saw the suggestion; sizes grow.
            assert!(flags.last().unwrap().0, "{flags:?}");
            assert!(flags[..flags.len() - 1].iter().all(|f| !f.0), "{flags:?}");
            assert!(flags.windows(2).all(|p| p[0].1 < p[1].1), "{flags:?}");
            let length_at_last_task = events
                .iter()
                .rev()
                .find(|e| matches!(e.attributes, EventAttributes::WorkflowTaskScheduled { .. }))
                .unwrap()
                .event_id
                - 1;
            assert!(length_at_last_task >= 25, "{length_at_last_task}");
            r.replay_workflow("grow", events).expect("replay reads the recorded flag");
            // With the flag taken away the code keeps sleeping: replay
            // reads the recorded value, and notices the difference.
            let mut altered = events.clone();
            for e in altered.iter_mut() {
                if let EventAttributes::WorkflowTaskStarted { suggest_continue_as_new, .. } = &mut e.attributes {
                    *suggest_continue_as_new = false;
                }
            }
            assert!(matches!(
                r.replay_workflow("grow", &altered),
                Err(ReplayError::Nondeterminism(_))
            ));
        }
        w.shutdown().await;
    }

    updates_across_boundaries_are_exact_and_deduplicated(sqlite) {
        let env = env_with(sqlite, EngineOptions::default());
        let w = worker(&env.client);
        let h = env
            .client
            .start_workflow(
                Tally::run,
                TallyInput { total: 0, applied: 0, runs: 0 },
                WorkflowOptions::new("tally", QUEUE),
            )
            .await
            .unwrap();
        let n: i64 = 1000;
        let add = |x: i64, id: String| {
            let h = h.clone();
            async move {
                let p = h
                    .update_payloads("add", vec![converter::encode(&x).unwrap()], Some(id))
                    .await
                    .unwrap();
                converter::decode::<i64>(&p).unwrap()
            }
        };
        let mut expected = 0;
        let mut first_result = None;
        for i in 1..=n {
            expected += i;
            assert_eq!(within(add(i, format!("u-{i}"))).await, expected);
            if i == 5 {
                first_result = Some(expected);
            }
        }
        // A repeated id after several boundaries: the first result, and
        // nothing runs again.
        assert_eq!(within(add(5, "u-5".into())).await, first_result.unwrap());
        assert_eq!(within(add(1000, format!("u-{n}"))).await, expected);
        h.signal("finish", &()).await.unwrap();
        let out = within(h.result()).await.unwrap();
        assert_eq!(out.total, expected);
        assert_eq!(out.applied, n as u64);
        let runs = (n as u64).div_ceil(PER_RUN) as u32;
        assert!(out.runs >= runs, "{} runs", out.runs);
        let d = h.describe().await.unwrap();
        assert_eq!(d.run_chain.len() as u32, out.runs);
        // Each update completed exactly once across the chain.
        let (_, histories) = chain_histories(&env.client, &h).await;
        let mut completed: Vec<String> = histories
            .iter()
            .flatten()
            .filter_map(|e| match &e.attributes {
                EventAttributes::WorkflowExecutionUpdateCompleted { update_id, .. } => Some(update_id.clone()),
                _ => None,
            })
            .collect();
        assert_eq!(completed.len(), n as usize);
        completed.sort();
        completed.dedup();
        assert_eq!(completed.len(), n as usize);
        let r = replayer();
        for events in &histories {
            r.replay_workflow("tally", events).expect("replay");
        }
        w.shutdown().await;
    }

    signals_around_a_boundary_are_applied_once(sqlite) {
        let env = env_with(sqlite, EngineOptions::default());
        let w = worker(&env.client);
        let h = env
            .client
            .start_workflow(Collector::run, Collected::default(), WorkflowOptions::new("collect", QUEUE))
            .await
            .unwrap();
        let by_id = env.client.workflow_handle::<Collector>("collect", None);
        // Six waves of ten concurrent signals; each wave makes the run
        // continue as new, and the next wave starts once it has, so signals
        // keep landing on the workflow task that continues.
        for wave in 0..6u32 {
            let mut sends = Vec::new();
            for i in wave * 10..wave * 10 + 10 {
                // Half through the original handle (its first run id), half
                // by workflow id.
                let target = if i % 2 == 0 { h.clone() } else { by_id.clone() };
                sends.push(tokio::spawn(async move {
                    target.signal_with_request_id("item", &i, format!("s-{i}")).await
                }));
            }
            for s in sends {
                within(s).await.unwrap().unwrap();
            }
            within(async {
                while h.describe().await.unwrap().run_chain.len() < wave as usize + 2 {
                    tokio::time::sleep(Duration::from_millis(2)).await;
                }
            })
            .await;
        }
        // A retried signal (same request id) after boundaries is not applied again.
        h.signal_with_request_id("item", &0u32, "s-0").await.unwrap();
        h.signal("finish", &()).await.unwrap();
        let out = within(h.result()).await.unwrap();
        let mut items = out.items.clone();
        items.sort();
        assert_eq!(items, (0..60).collect::<Vec<_>>());
        assert!(out.runs > 6, "{out:?}");
        let (chain, histories) = chain_histories(&env.client, &h).await;
        assert_eq!(chain.len() as u32, out.runs);
        let r = replayer();
        for events in &histories {
            r.replay_workflow("collect", events).expect("replay");
        }
        w.shutdown().await;
    }
}

both_stores! {
    dedup_memory_is_bounded_and_spans_the_chain(sqlite) {
        // Small windows: the latest 150 update outcomes, the latest 8
        // signal request ids, per chain.
        let options = EngineOptions {
            update_outcomes_kept: 150,
            signal_request_ids_kept: 8,
            ..EngineOptions::default()
        };
        let env = env_with(sqlite, options);
        let w = worker(&env.client);
        let h = env
            .client
            .start_workflow(
                Tally::run,
                TallyInput { total: 0, applied: 0, runs: 0 },
                WorkflowOptions::new("bounded-tally", QUEUE),
            )
            .await
            .unwrap();
        let add = |id: String| {
            let h = h.clone();
            async move {
                let p = h
                    .update_payloads("add", vec![converter::encode(&1i64).unwrap()], Some(id))
                    .await
                    .unwrap();
                converter::decode::<i64>(&p).unwrap()
            }
        };
        // 250 updates: three runs of the chain (100 per run).
        for i in 1..=250i64 {
            assert_eq!(within(add(format!("u-{i}"))).await, i);
        }
        // Kept (one of the latest 150), from an earlier run: the first
        // outcome, nothing applied.
        assert_eq!(within(add("u-120".into())).await, 120);
        assert_eq!(within(add("u-250".into())).await, 250);
        // Dropped (older than the latest 150): a new update, applied again.
        assert_eq!(within(add("u-50".into())).await, 251);

        let c = env
            .client
            .start_workflow(Collector::run, Collected::default(), WorkflowOptions::new("bounded-collect", QUEUE))
            .await
            .unwrap();
        // 15 signals in waves of 5: each wave ends a run (three runs).
        for wave in 0..3u32 {
            for i in wave * 5..wave * 5 + 5 {
                c.signal_with_request_id("item", &i, format!("s-{i}")).await.unwrap();
            }
            within(async {
                while c.describe().await.unwrap().run_chain.len() < wave as usize + 2 {
                    tokio::time::sleep(Duration::from_millis(2)).await;
                }
            })
            .await;
        }
        // Kept (one of the latest 8), from an earlier run: not applied again.
        c.signal_with_request_id("item", &9u32, "s-9").await.unwrap();
        // Forgotten: a new signal, applied again.
        c.signal_with_request_id("item", &1u32, "s-1").await.unwrap();
        c.signal("finish", &()).await.unwrap();
        let out = within(c.result()).await.unwrap();
        let mut items = out.items.clone();
        items.sort();
        let mut expected: Vec<u32> = (0..15).collect();
        expected.push(1);
        expected.sort();
        assert_eq!(items, expected);
        h.signal("finish", &()).await.unwrap();
        let out = within(h.result()).await.unwrap();
        assert_eq!((out.total, out.applied), (251, 251));
        w.shutdown().await;
    }
}

/// Chain state survives a restart: the first run id still addresses the
/// chain for updates, signals and the result, and a completed update id from an earlier run returns its first
/// result without running again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_chain_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("weft.db");
    let add = |h: WorkflowHandle<Tally>, x: i64, id: &str| {
        let id = id.to_string();
        async move {
            let p = h
                .update_payloads("add", vec![converter::encode(&x).unwrap()], Some(id))
                .await
                .unwrap();
            converter::decode::<i64>(&p).unwrap()
        }
    };
    let (first, total) = {
        let engine =
            Engine::start(SqliteStore::open(&path).unwrap(), EngineOptions::default()).unwrap();
        let client = Client::new(engine.clone());
        let w = worker(&client);
        let h = client
            .start_workflow(
                Tally::run,
                TallyInput {
                    total: 0,
                    applied: 0,
                    runs: 0,
                },
                WorkflowOptions::new("restart", QUEUE),
            )
            .await
            .unwrap();
        let mut total = 0;
        for i in 1..=(PER_RUN as i64 + 20) {
            total += i;
            assert_eq!(within(add(h.clone(), i, &format!("u-{i}"))).await, total);
        }
        assert_eq!(h.describe().await.unwrap().run_chain.len(), 2);
        w.shutdown().await;
        engine.shutdown().await;
        (h.run_id().unwrap().to_string(), total)
    };
    let engine =
        Engine::start(SqliteStore::open(&path).unwrap(), EngineOptions::default()).unwrap();
    let client = Client::new(engine.clone());
    let w = worker(&client);
    let h = client.workflow_handle::<Tally>("restart", Some(first.clone()));
    // u-3 completed in the first run: its first result, nothing runs.
    assert_eq!(within(add(h.clone(), 3, "u-3")).await, 6);
    assert_eq!(within(add(h.clone(), 1, "after")).await, total + 1);
    h.signal("finish", &()).await.unwrap();
    let out = within(h.result()).await.unwrap();
    assert_eq!(out.total, total + 1);
    assert_eq!(out.applied, PER_RUN + 21);
    // Describe names exactly the run it is given: the first, which
    // continued, and from there the chain's last.
    let d = h.describe().await.unwrap();
    assert_eq!(d.status, RunStatus::ContinuedAsNew);
    let last = client.workflow_handle::<Tally>("restart", d.next_run_id);
    let d = last.describe().await.unwrap();
    assert_eq!(d.run_chain.len(), 2);
    assert_eq!(d.run_chain[0], first);
    assert_eq!(d.status, RunStatus::Completed);
    w.shutdown().await;
    engine.shutdown().await;
}
