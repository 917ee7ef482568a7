//! `ctx.wait_condition_timeout`: a condition with a durable time limit.
//! It answers `true` when the condition holds first (and cancels its
//! timer), `false` when the time runs out first, and a canceled error when
//! a cancellation of the workflow arrives first; a condition that holds at
//! once starts no timer. Each case runs on both stores, on the manual test
//! clock, in strict mode with no cache so every task replays.

mod support;

use std::sync::Arc;
use std::time::Duration;

use weft::backend::RunStatus;
use weft::engine::{Engine, EngineOptions, MemoryStore, SqliteStore, VirtualClock};
use weft::history::{Event, EventAttributes};
use weft::prelude::*;
use weft::replay::Replayer;
use weft::worker::WorkerHandle;

use support::{history_until, names, strict, within};

const QUEUE: &str = "conditions";
const DAY: Duration = Duration::from_secs(24 * 60 * 60);

#[workflow]
#[derive(Default)]
struct Gate {
    opened_by: Option<String>,
}

#[workflow]
impl Gate {
    /// Waits up to `days` for the gate to open.
    #[run]
    async fn run(ctx: WorkflowContext<Self>, days: u32) -> WorkflowResult<String> {
        let opened = ctx
            .wait_condition_timeout(DAY * days, |s| s.opened_by.is_some())
            .await?;
        Ok(match ctx.state(|s| s.opened_by.clone()) {
            Some(by) if opened => format!("opened by {by}"),
            _ => "timed out".to_string(),
        })
    }

    #[signal]
    fn open(&mut self, by: String) {
        self.opened_by = Some(by);
    }
}

/// An engine on the manual clock (time moves only when the test says so),
/// on a fresh SQLite file or in memory, and its client.
struct Setup {
    clock: VirtualClock,
    engine: Engine,
    client: Client,
    _dir: Option<tempfile::TempDir>,
}

fn setup(sqlite: bool) -> Setup {
    let clock = VirtualClock::manual();
    let options = EngineOptions {
        clock: Arc::new(clock.clone()),
        ..EngineOptions::default()
    };
    let (engine, dir) = if sqlite {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(dir.path().join("weft.db")).unwrap();
        (Engine::start(store, options).unwrap(), Some(dir))
    } else {
        (Engine::start(MemoryStore::new(), options).unwrap(), None)
    };
    Setup {
        clock,
        client: Client::new(engine.clone()),
        engine,
        _dir: dir,
    }
}

fn worker(client: &Client) -> WorkerHandle {
    Worker::new(client, QUEUE)
        .with_options(strict(0))
        .register_workflow::<Gate>()
        .start()
        .unwrap()
}

async fn start(client: &Client, id: &str, days: u32) -> WorkflowHandle<Gate> {
    client
        .start_workflow(Gate::run, days, WorkflowOptions::new(id, QUEUE))
        .await
        .unwrap()
}

fn is_timer_started(event: &Event) -> bool {
    matches!(event.attributes, EventAttributes::TimerStarted { .. })
}

fn count(events: &[Event], name: &str) -> usize {
    names(events).iter().filter(|n| **n == name).count()
}

fn replay(events: &[Event]) {
    let mut replayer = Replayer::new();
    replayer.register_workflow::<Gate>();
    replayer
        .replay(events)
        .expect("the history replays cleanly");
}

async fn stop(setup: Setup, worker: WorkerHandle) {
    worker.shutdown().await;
    setup.engine.shutdown().await;
}

both_stores! {
    the_condition_holding_first_answers_true_and_cancels_the_timer(sqlite) {
        let s = setup(sqlite);
        let w = worker(&s.client);
        let h = start(&s.client, "opened", 2).await;
        history_until(&h, is_timer_started).await;
        h.open("ada".to_string()).await.unwrap();
        assert_eq!(within(h.result()).await.unwrap(), "opened by ada");
        let events = h.history().await.unwrap();
        assert_eq!(count(&events, "TimerStarted"), 1);
        assert_eq!(count(&events, "TimerCanceled"), 1);
        assert_eq!(count(&events, "TimerFired"), 0);
        replay(&events);
        stop(s, w).await;
    }

    the_time_running_out_first_answers_false(sqlite) {
        let s = setup(sqlite);
        let w = worker(&s.client);
        let h = start(&s.client, "timed-out", 2).await;
        history_until(&h, is_timer_started).await;
        let due = within(s.clock.skip_to_next_deadline()).await;
        assert_eq!(within(h.result()).await.unwrap(), "timed out");
        // Event times are kept to the millisecond.
        assert!(
            s.clock.skipped() + Duration::from_millis(1) >= 2 * DAY,
            "moved to {due:?}"
        );
        let events = h.history().await.unwrap();
        assert_eq!(count(&events, "TimerFired"), 1);
        assert_eq!(count(&events, "TimerCanceled"), 0);
        replay(&events);
        stop(s, w).await;
    }

    a_condition_holding_at_once_starts_no_timer(sqlite) {
        let s = setup(sqlite);
        // The signal is in history before the first task, so the condition
        // holds the first time it is checked.
        let h = start(&s.client, "open-already", 2).await;
        h.open("grace".to_string()).await.unwrap();
        let w = worker(&s.client);
        assert_eq!(within(h.result()).await.unwrap(), "opened by grace");
        let events = h.history().await.unwrap();
        assert_eq!(count(&events, "TimerStarted"), 0);
        replay(&events);
        stop(s, w).await;
    }

    a_cancellation_arriving_first_ends_the_wait_canceled(sqlite) {
        let s = setup(sqlite);
        let w = worker(&s.client);
        let h = start(&s.client, "canceled", 2).await;
        history_until(&h, is_timer_started).await;
        h.cancel().await.unwrap();
        match within(h.result()).await {
            Err(ClientError::Workflow(e)) => {
                assert!(matches!(e.cause, Failure::Canceled(_)), "{e:?}")
            }
            other => panic!("expected a canceled run, got {other:?}"),
        }
        assert_eq!(h.describe().await.unwrap().status, RunStatus::Canceled);
        let events = h.history().await.unwrap();
        assert_eq!(count(&events, "TimerCanceled"), 1);
        assert_eq!(names(&events).last(), Some(&"WorkflowExecutionCanceled"));
        replay(&events);
        stop(s, w).await;
    }
}
