//! Bad database files, bad histories and a clock that jumps back, each
//! with what it gets: rows of the book's table ("Chaos testing", "Bad
//! inputs") that no other test holds.

use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use futures::future::BoxFuture;
use weft::engine::{Clock, Engine, EngineOptions, SqliteStore};
use weft::history::EventAttributes;
use weft::prelude::*;
use weft::replay::Replayer;

const QUEUE: &str = "bad-files";

async fn within<T>(f: impl Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(60), f)
        .await
        .expect("no answer within 60 s")
}

#[workflow]
#[derive(Default)]
struct Nap;

#[workflow]
impl Nap {
    /// Sleeps `millis`; returns how long workflow time says it slept.
    #[run]
    async fn run(ctx: WorkflowContext<Self>, millis: u64) -> WorkflowResult<u64> {
        let start = ctx.now();
        ctx.sleep(Duration::from_millis(millis)).await?;
        let slept = ctx.now().duration_since(start);
        Ok(u64::try_from(slept.as_millis()).unwrap_or(u64::MAX))
    }
}

/// A weft file holding one finished run, closed.
async fn weft_file(dir: &std::path::Path) -> std::path::PathBuf {
    let path = dir.join("weft.db");
    let engine = Engine::sqlite(&path).await.unwrap();
    let client = Client::new(engine.clone());
    let worker = Worker::new(&client, QUEUE)
        .register_workflow::<Nap>()
        .start()
        .unwrap();
    let h = client
        .start_workflow(Nap::run, 1, WorkflowOptions::new("nap", QUEUE))
        .await
        .unwrap();
    within(h.result()).await.unwrap();
    worker.shutdown().await;
    engine.shutdown().await;
    path
}

fn refusal(path: &std::path::Path) -> String {
    match SqliteStore::open(path) {
        Ok(_) => panic!("{} was opened", path.display()),
        Err(e) => {
            let mut text = e.to_string();
            let mut source = std::error::Error::source(&e);
            while let Some(cause) = source {
                text.push_str(": ");
                text.push_str(&cause.to_string());
                source = cause.source();
            }
            text
        }
    }
}

fn has(got: &str, want: &str) {
    assert!(got.contains(want), "wanted {want:?} in:\n{got}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_truncated_database_file_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = weft_file(dir.path()).await;
    let len = std::fs::metadata(&path).unwrap().len();
    let file = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
    file.set_len(len / 2).unwrap();
    drop(file);
    has(
        &refusal(&path),
        "is damaged and was not opened (reading the schema: database disk image is malformed)",
    );
}

fn replayer() -> Replayer {
    let mut r = Replayer::new();
    r.register_workflow::<Nap>();
    r
}

#[test]
fn a_history_that_is_not_json_is_refused_by_the_replayer() {
    let got = replayer()
        .replay_json("{\"events\": [")
        .unwrap_err()
        .to_string();
    has(
        &got,
        "invalid history: EOF while parsing a list at line 1 column 12",
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_history_cut_before_its_start_event_is_refused_by_the_replayer() {
    let (events, _) = nap_history().await;
    let got = replayer().replay(&events[1..]).unwrap_err().to_string();
    has(
        &got,
        "invalid history: the first event must be WorkflowExecutionStarted",
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_history_of_an_unregistered_type_is_refused_by_the_replayer() {
    let (events, _) = nap_history().await;
    let got = Replayer::new().replay(&events).unwrap_err().to_string();
    has(
        &got,
        "invalid history: workflow type \"Nap\" is not registered",
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_history_whose_timer_is_for_another_duration_is_nondeterministic() {
    let (mut events, _) = nap_history().await;
    for e in &mut events {
        if let EventAttributes::WorkflowExecutionStarted { input, .. } = &mut e.attributes {
            *input = vec![weft::converter::encode(&5u64).unwrap()];
        }
    }
    let got = replayer().replay(&events).unwrap_err().to_string();
    has(
        &got,
        "nondeterminism: event 5: history has TimerStarted(id 1, 1ms), the code produced StartTimer(id 1, 5ms)",
    );
}

async fn nap_history() -> (Vec<weft::history::Event>, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let path = weft_file(dir.path()).await;
    let store = SqliteStore::open_read_only(&path).unwrap();
    let run = store.list_executions().unwrap().remove(0);
    (store.history(&run.namespace, &run.run_id).unwrap(), dir)
}

/// The machine's clock, set back by `back` (changed while the engine runs).
#[derive(Clone, Default)]
struct SetBack {
    back: Arc<Mutex<Duration>>,
}

impl SetBack {
    fn set(&self, back: Duration) {
        *self.back.lock().unwrap() = back;
    }
}

impl Clock for SetBack {
    fn now(&self) -> SystemTime {
        SystemTime::now() - *self.back.lock().unwrap()
    }

    fn sleep_until(&self, deadline: SystemTime) -> BoxFuture<'static, ()> {
        let wait = deadline.duration_since(self.now()).unwrap_or_default();
        Box::pin(tokio::time::sleep(wait))
    }
}

/// The wall clock set back 1.5 s while a 1 s timer waits.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_clock_set_back_while_a_timer_waits_delays_it_and_it_fires_once() {
    let dir = tempfile::tempdir().unwrap();
    let clock = SetBack::default();
    let options = EngineOptions {
        clock: Arc::new(clock.clone()),
        ..EngineOptions::default()
    };
    let store = SqliteStore::open(dir.path().join("clock.db")).unwrap();
    let engine = Engine::start(store, options).unwrap();
    let client = Client::new(engine.clone());
    let worker = Worker::new(&client, QUEUE)
        .register_workflow::<Nap>()
        .start()
        .unwrap();
    let h = client
        .start_workflow(Nap::run, 1000, WorkflowOptions::new("nap", QUEUE))
        .await
        .unwrap();
    within(async {
        while !h
            .history()
            .await
            .unwrap()
            .iter()
            .any(|e| e.attributes.name() == "TimerStarted")
        {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await;
    clock.set(Duration::from_millis(1500));
    let slept = within(h.result()).await.unwrap();
    let history = h.history().await.unwrap();
    let fired = history
        .iter()
        .filter(|e| e.attributes.name() == "TimerFired")
        .count();
    // Fired once, and not before the clock, set back, reached its time:
    // workflow time says it slept at least its 1 s (it waited 1.5 s more).
    assert_eq!(fired, 1);
    assert!(slept >= 1000, "slept {slept} ms of workflow time");
    worker.shutdown().await;
    engine.shutdown().await;
}
