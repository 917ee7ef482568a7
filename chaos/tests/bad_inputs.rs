//! Bad inputs, each with the error it gets: one test per row of the
//! book's table ("Chaos testing", "Bad inputs") that no other test holds
//! (the table names the runtime's test for the rest).
//! Every test runs on a SQLite file.

use std::future::Future;
use std::time::Duration;

use weft::backend::StartWorkflowRequest;
use weft::engine::Engine;
use weft::prelude::*;
use weft::worker::WorkerHandle;
use weft::{ClientError, Payload, WorkflowHandle};

const QUEUE: &str = "bad-inputs";
const LIMIT: usize = 2 * 1024 * 1024;

/// Fails the test, rather than hanging it, if `f` never ends.
async fn within<T>(f: impl Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(60), f)
        .await
        .expect("no answer within 60 s")
}

struct Env {
    _dir: tempfile::TempDir,
    engine: Engine,
    client: Client,
    worker: Option<WorkerHandle>,
}

impl Env {
    async fn new() -> Env {
        let dir = tempfile::tempdir().unwrap();
        let engine = Engine::sqlite(dir.path().join("bad.db")).await.unwrap();
        let client = Client::new(engine.clone());
        let worker = Worker::new(&client, QUEUE)
            .register_workflow::<Echo>()
            .register_workflow::<Box>()
            .register_workflow::<CallsMissing>()
            .register_activity(ECHO);
        let worker = Some(worker.start().unwrap());
        Env {
            _dir: dir,
            engine,
            client,
            worker,
        }
    }

    async fn closed_echo(&self, id: &str) -> WorkflowHandle<Echo> {
        let h = self.start_echo(id).await;
        assert_eq!(within(h.result()).await.unwrap(), 7);
        h
    }

    async fn start_echo(&self, id: &str) -> WorkflowHandle<Echo> {
        self.client
            .start_workflow(Echo::run, 7, WorkflowOptions::new(id, QUEUE))
            .await
            .unwrap()
    }

    async fn open_box(&self, id: &str) -> WorkflowHandle<Box> {
        self.client
            .start_workflow(Box::run, (), WorkflowOptions::new(id, QUEUE))
            .await
            .unwrap()
    }

    async fn stop(mut self) {
        if let Some(w) = self.worker.take() {
            w.shutdown().await;
        }
        self.engine.shutdown().await;
    }
}

fn big(n: usize) -> String {
    "x".repeat(n)
}

fn text<T: std::fmt::Debug>(r: Result<T, ClientError>) -> String {
    match r {
        Ok(v) => panic!("expected an error, got {v:?}"),
        Err(e) => format!("{e:#}"),
    }
}

#[activity]
async fn echo(x: String) -> Result<String, ApplicationError> {
    Ok(x)
}

#[workflow]
#[derive(Default)]
struct Echo;

#[workflow]
impl Echo {
    #[run]
    async fn run(_ctx: WorkflowContext<Self>, x: u32) -> WorkflowResult<u32> {
        Ok(x)
    }
}

/// Holds a number until told to close.
#[workflow]
#[derive(Default)]
struct Box {
    n: u32,
    closed: bool,
}

#[workflow]
impl Box {
    #[run]
    async fn run(ctx: WorkflowContext<Self>, _input: ()) -> WorkflowResult<u32> {
        ctx.wait_condition(|s| s.closed).await?;
        Ok(ctx.state(|s| s.n))
    }

    #[signal]
    fn put(&mut self, n: u32) {
        self.n = n;
    }

    #[signal]
    fn close(&mut self) {
        self.closed = true;
    }

    #[query]
    fn plus(&self, k: u32) -> u32 {
        self.n + k
    }

    #[update]
    fn set(&mut self, n: u32) -> Result<u32, ApplicationError> {
        self.n = n;
        Ok(n)
    }
}

#[activity]
async fn nobody_runs_this(_x: u32) -> Result<u32, ApplicationError> {
    Ok(0)
}

/// Calls an activity no worker registered, once.
#[workflow]
#[derive(Default)]
struct CallsMissing;

#[workflow]
impl CallsMissing {
    #[run]
    async fn run(ctx: WorkflowContext<Self>, _input: ()) -> WorkflowResult<u32> {
        Ok(ctx
            .activity(NOBODY_RUNS_THIS, 1)
            .start_to_close_timeout(Duration::from_secs(5))
            .retry_policy(RetryPolicy::default().with_maximum_attempts(1))
            .await?)
    }
}

/// Runs `body` on a fresh engine with the test worker.
async fn with_env<F, Fut>(body: F)
where
    F: FnOnce(Env) -> Fut,
    Fut: Future<Output = Env>,
{
    let env = body(Env::new().await).await;
    env.stop().await;
}

fn has(got: &str, want: &str) {
    assert!(got.contains(want), "wanted {want:?} in:\n{got}");
}

/// Sleeps 1 ms `n` times: five events a round.
#[workflow]
#[derive(Default)]
struct Naps;

#[workflow]
impl Naps {
    #[run]
    async fn run(ctx: WorkflowContext<Self>, n: u32) -> WorkflowResult<u32> {
        for _ in 0..n {
            ctx.sleep(Duration::from_millis(1)).await?;
        }
        Ok(n)
    }
}

/// The first `WorkflowTaskFailed` of the run, once history has one. A
/// failed task is nothing a client call waits on, so history is polled.
async fn task_failure<W: weft::Workflow>(h: &WorkflowHandle<W>) -> String {
    within(async {
        loop {
            let events = h.history().await.unwrap();
            let failed = events
                .iter()
                .find(|e| e.attributes.name() == "WorkflowTaskFailed");
            if let Some(e) = failed {
                break format!("{:?}", e.attributes);
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await
}

macro_rules! row {
    ($name:ident, |$env:ident| $body:block) => {
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $name() {
            with_env(|$env| async move {
                $body
                $env
            })
            .await;
        }
    };
}

row!(a_signal_input_over_the_payload_limit_is_refused, |env| {
    let h = env.open_box("sig-big").await;
    let got = text(h.signal("put", &big(LIMIT)).await);
    has(
        &got,
        "input of signal \"put\" is 2097172 bytes encoded, over the limit of 2097152 bytes",
    );
});

row!(an_update_input_over_the_payload_limit_is_refused, |env| {
    let h = env.open_box("upd-big").await;
    let got = text(h.update::<u32>("set", &big(LIMIT)).await);
    has(
        &got,
        "input of update \"set\" is 2097172 bytes encoded, over the limit of 2097152 bytes",
    );
});

fn not_json() -> Vec<Payload> {
    let mut p = weft::converter::encode(&1u32).unwrap();
    p.data = b"{not json".to_vec();
    vec![p]
}

row!(
    a_signal_whose_payload_is_not_json_is_dropped_with_a_warning,
    |env| {
        let h = env.open_box("sig-json").await;
        h.signal_payloads("put", not_json(), "r1".into())
            .await
            .unwrap();
        h.signal("close", &()).await.unwrap();
        let got = format!("{:?}", within(h.result()).await);
        has(&got, "Ok(0)");
    }
);

row!(an_update_whose_payload_is_not_json_is_rejected, |env| {
    let h = env.open_box("upd-json").await;
    let got = text(h.update_payloads("set", not_json(), None).await);
    has(
        &got,
        "update failed: ApplicationError: cannot decode a json/plain payload as u32",
    );
});

row!(a_query_whose_payload_is_not_json_fails, |env| {
    let h = env.open_box("q-json").await;
    let got = text(h.query_payloads("plus", not_json()).await);
    has(
        &got,
        "query failed: ApplicationError: cannot decode a json/plain payload as u32",
    );
});

row!(a_workflow_input_of_the_wrong_type_fails_the_run, |env| {
    let req = StartWorkflowRequest {
        namespace: "default".into(),
        workflow_id: "wrong-type".into(),
        workflow_type: "Echo".into(),
        task_queue: QUEUE.into(),
        input: vec![weft::converter::encode("seven").unwrap()],
        request_id: "wrong-type".into(),
        id_reuse_policy: Default::default(),
        id_conflict_policy: Default::default(),
        run_options: Default::default(),
    };
    env.client.backend().start_workflow(req).await.unwrap();
    let h = env.client.workflow_handle::<Echo>("wrong-type", None);
    let got = task_failure(&h).await;
    has(
        &got,
        "workflow input: cannot decode a json/plain payload as u32",
    );
});

row!(an_unknown_activity_type_fails_the_activity, |env| {
    let opts = WorkflowOptions::new("missing-activity", QUEUE);
    let h = env
        .client
        .start_workflow(CallsMissing::run, (), opts)
        .await
        .unwrap();
    let got = text(within(h.result()).await);
    has(
        &got,
        "activity type \"nobody_runs_this\" is not registered on this worker (registered: echo) (type: NotFoundError)",
    );
});

row!(an_update_to_a_closed_run_is_refused, |env| {
    let h = env.closed_echo("upd-closed").await;
    let got = text(h.update::<u32>("set", &1).await);
    has(&got, "is closed and takes no more updates");
});

row!(a_cancel_reason_over_the_payload_limit_is_refused, |env| {
    let h = env.open_box("reason").await;
    let got = text(h.cancel_with_reason(&big(LIMIT + 1)).await);
    has(
        &got,
        "invalid argument: the reason is 2097153 bytes, over the limit of 2097152",
    );
});

/// A history over the engine's limit (set to 100 events here; 51,200 by
/// default, as Temporal) terminates its run when a task completes. The
/// engine had no such limit: the run went on growing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_history_over_the_limit_terminates_its_run() {
    let dir = tempfile::tempdir().unwrap();
    let store = weft::engine::SqliteStore::open(dir.path().join("long.db")).unwrap();
    let options = weft::engine::EngineOptions {
        history_max_events: 100,
        ..weft::engine::EngineOptions::default()
    };
    let engine = Engine::start(store, options).unwrap();
    let client = Client::new(engine.clone());
    let worker = Worker::new(&client, QUEUE)
        .register_workflow::<Naps>()
        .start()
        .unwrap();
    let opts = WorkflowOptions::new("long", QUEUE);
    let h = client.start_workflow(Naps::run, 50, opts).await.unwrap();
    let got = text(within(h.result()).await);
    has(&got, "TerminatedError: history of ");
    has(&got, " events is over the limit of 100 events");
    let events = h.history().await.unwrap();
    let last = events.last().map(|e| e.attributes.name());
    assert_eq!(last, Some("WorkflowExecutionTerminated"));
    worker.shutdown().await;
    engine.shutdown().await;
}
