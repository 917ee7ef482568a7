//! Metrics end to end, on both stores: the endpoint is scraped over real
//! HTTP and parsed, and its values match what ran (completions, failures,
//! attempts, cache lookups, commits); custom metrics from an activity
//! interceptor and from a workflow (counted once despite replays); the
//! endpoint's answers to other paths, methods and garbage.

mod support;

use support::within;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use weft::engine::{Engine, EngineOptions, MemoryStore, SqliteStore};
use weft::prelude::*;
use weft::telemetry::{
    ActivityInterceptor, ActivityNext, ActivityOutcome, BoxFuture, ExecuteActivityInput, Metrics,
    WorkflowInterceptor, WorkflowRun,
};
use weft::{ClientError, WorkerOptions};

const QUEUE: &str = "metrics";

#[activity]
async fn greet(name: String) -> Result<String, ApplicationError> {
    Ok(format!("hello {name}"))
}

/// Fails its first attempt, retryably.
#[activity]
async fn flaky(ctx: ActivityContext, name: String) -> Result<String, ApplicationError> {
    if ctx.info().attempt == 1 {
        return Err(ApplicationError::new("not yet").with_type("NotYet"));
    }
    Ok(format!("finally {name}"))
}

#[workflow]
#[derive(Default)]
struct Greeter;

#[workflow]
impl Greeter {
    #[run]
    async fn run(ctx: WorkflowContext<Self>, name: String) -> WorkflowResult<String> {
        let retry = RetryPolicy::default().with_initial_interval(Duration::from_millis(10));
        let greeting = if name == "flaky" {
            ctx.activity(FLAKY, name)
                .start_to_close_timeout(Duration::from_secs(10))
                .retry_policy(retry)
                .await?
        } else {
            ctx.activity(GREET, name)
                .start_to_close_timeout(Duration::from_secs(10))
                .await?
        };
        // A timer after the count: the run's tasks after this one replay
        // it (the worker caches nothing).
        ctx.metric_meter()
            .counter("greetings_total", "Greetings")
            .add(1, &[("kind", "hello")]);
        ctx.sleep(Duration::from_millis(1)).await?;
        if greeting.contains("fail") {
            return Err(ApplicationError::new("asked to fail").into());
        }
        Ok(greeting)
    }
}

/// Counts attempts by outcome through the attempt's meter.
struct Counting;

impl ActivityInterceptor for Counting {
    fn execute_activity(
        &self,
        input: ExecuteActivityInput,
        next: ActivityNext,
    ) -> BoxFuture<'static, ActivityOutcome> {
        Box::pin(async move {
            let counter = input
                .ctx
                .metric_meter()
                .counter("activity_executions_total", "Attempts");
            counter.add(1, &[("status", "started")]);
            let outcome = next.execute(input).await;
            let status = if outcome.is_ok() {
                "completed"
            } else {
                "failed"
            };
            counter.add(1, &[("status", status)]);
            outcome
        })
    }
}

/// Counts the live (not replayed) start jobs and completions it sees.
#[derive(Clone, Default)]
struct Watching {
    starts: Arc<AtomicU32>,
    completions: Arc<AtomicU32>,
}

impl WorkflowInterceptor for Watching {
    fn inbound(&self, _: &WorkflowRun, job: &mut weft::protocol::Job, replaying: bool) {
        if !replaying && matches!(job, weft::protocol::Job::Start { .. }) {
            self.starts.fetch_add(1, Ordering::SeqCst);
        }
    }

    fn outbound(&self, _: &WorkflowRun, command: &mut weft::protocol::Command, replaying: bool) {
        if !replaying && command.is_terminal() {
            self.completions.fetch_add(1, Ordering::SeqCst);
        }
    }
}

async fn engine(sqlite: bool, metrics: &Metrics) -> (Engine, Option<tempfile::TempDir>) {
    let options = EngineOptions {
        metrics: Some(metrics.clone()),
        ..EngineOptions::default()
    };
    if sqlite {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(dir.path().join("weft.db")).unwrap();
        (Engine::start(store, options).unwrap(), Some(dir))
    } else {
        (Engine::start(MemoryStore::new(), options).unwrap(), None)
    }
}

/// Sends `request` and returns the status line and body of the answer.
async fn http(addr: SocketAddr, request: &[u8]) -> (String, String) {
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream.write_all(request).await.unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).await.unwrap();
    let (head, body) = response.split_once("\r\n\r\n").unwrap_or((&response, ""));
    (
        head.lines().next().unwrap_or("").to_string(),
        body.to_string(),
    )
}

/// Each sample of an exposition: `name{labels}` to value.
fn parse(body: &str) -> BTreeMap<String, f64> {
    body.lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(|l| {
            let (series, value) = l.rsplit_once(' ').unwrap();
            (series.to_string(), value.parse().unwrap())
        })
        .collect()
}

/// The sum of the samples named `name` whose labels include `labels`.
fn value(samples: &BTreeMap<String, f64>, name: &str, labels: &[(&str, &str)]) -> f64 {
    samples
        .iter()
        .filter(|(series, _)| {
            let (n, rest) = series.split_once('{').unwrap_or((series, ""));
            n == name
                && labels
                    .iter()
                    .all(|(k, v)| rest.contains(&format!("{k}=\"{v}\"")))
        })
        .map(|(_, v)| v)
        .sum()
}

both_stores! {
    the_endpoint_serves_what_ran(sqlite) {
        let metrics = Metrics::new();
        let (engine, _dir) = engine(sqlite, &metrics).await;
        let client = Client::new(engine.clone()).with_metrics(metrics.clone());
        let watching = Watching::default();
        // Strict replay: after each task the run is replayed from scratch,
        // so a meter that counted on replay would count twice.
        let w = Worker::new(&client, QUEUE)
            .with_options(WorkerOptions {
                max_cached_workflows: 0,
                strict_replay: true,
                ..WorkerOptions::default()
            })
            .register_workflow::<Greeter>()
            .register_activity(GREET)
            .register_activity(FLAKY)
            .activity_interceptor(Counting)
            .workflow_interceptor(watching.clone())
            .start()
            .unwrap();
        let server = metrics.serve("127.0.0.1:0").await.unwrap();
        for name in ["a", "b", "c", "flaky"] {
            let options = WorkflowOptions::new(format!("greet-{name}"), QUEUE);
            within(client.execute_workflow(Greeter::run, name.to_string(), options)).await.unwrap();
        }
        let options = WorkflowOptions::new("greet-fail", QUEUE);
        let failed = within(client.execute_workflow(Greeter::run, "fail".to_string(), options)).await;
        assert!(matches!(failed, Err(ClientError::Workflow(_))), "{failed:?}");
        // A worker records a task once the engine answered its completion,
        // which may be after the client saw the result: shutting it down
        // waits for that.
        w.shutdown().await;

        let (status, body) = http(server.local_addr(), b"GET /metrics HTTP/1.1\r\nHost: t\r\n\r\n").await;
        assert_eq!(status, "HTTP/1.1 200 OK");
        let s = parse(&body);
        let wf = [("workflow_type", "Greeter"), ("task_queue", QUEUE), ("namespace", "default")];
        assert_eq!(value(&s, "temporal_workflow_completed", &wf), 4.0, "{body}");
        assert_eq!(value(&s, "temporal_workflow_failed", &wf), 1.0, "{body}");
        // 6 attempts: one each, and two for flaky; one of them failed.
        assert_eq!(value(&s, "temporal_activity_execution_latency_count", &[("workflow_type", "Greeter")]), 6.0);
        assert_eq!(value(&s, "temporal_activity_schedule_to_start_latency_count", &[("task_queue", QUEUE)]), 6.0);
        assert_eq!(
            value(&s, "temporal_activity_execution_failed", &[("activity_type", "flaky"), ("failure_reason", "NotYet")]),
            1.0
        );
        assert_eq!(value(&s, "temporal_activity_execution_failed", &[("activity_type", "greet")]), 0.0);
        // The interceptor's counts, through the attempts' meter.
        assert_eq!(value(&s, "activity_executions_total", &[("status", "started")]), 6.0);
        assert_eq!(value(&s, "activity_executions_total", &[("status", "completed")]), 5.0);
        assert_eq!(value(&s, "activity_executions_total", &[("status", "failed")]), 1.0);
        // Counted once per run although every later task replayed it.
        assert_eq!(value(&s, "greetings_total", &[("kind", "hello")]), 5.0);
        assert_eq!(watching.starts.load(Ordering::SeqCst), 5);
        assert_eq!(watching.completions.load(Ordering::SeqCst), 5);
        // Three tasks per run; each after the first looked for its run.
        let tasks = value(&s, "temporal_workflow_task_execution_latency_count", &wf);
        assert_eq!(tasks, 15.0, "{body}");
        let hits = value(&s, "temporal_sticky_cache_hit", &[("task_queue", QUEUE)]);
        let misses = value(&s, "temporal_sticky_cache_miss", &[("task_queue", QUEUE)]);
        assert_eq!(hits + misses, 10.0, "{body}");
        // Nothing is kept: a run is found only while its last completion
        // awaits the engine's answer.
        assert!(misses >= 1.0, "{body}");
        assert_eq!(value(&s, "temporal_sticky_cache_size", &[]), 0.0);
        // The engine's own: commits, and the (now empty) queues.
        assert!(value(&s, "weft_store_commit_latency_count", &[]) >= 1.0, "{body}");
        // Commits take less than a millisecond; their time is not cut to 0.
        assert!(value(&s, "weft_store_commit_latency_sum", &[]) > 0.0, "{body}");
        assert!(value(&s, "weft_store_commit_batch_size_sum", &[]) >= value(&s, "weft_store_commit_batch_size_count", &[]));
        assert!(s.contains_key(&format!(
            "weft_task_queue_backlog{{service_name=\"weft\",namespace=\"default\",task_queue=\"{QUEUE}\",task_type=\"activity\"}}"
        )), "{body}");
        assert_eq!(value(&s, "weft_task_queue_backlog", &[]), 0.0);
        // Temporal's names, types and units.
        assert!(body.contains("# TYPE temporal_workflow_completed untyped"), "{body}");
        assert!(body.contains("# TYPE temporal_workflow_task_execution_latency histogram"));
        assert!(body.contains("le=\"1e+06\""), "schedule-to-start buckets in ms: {body}");
        assert!(body.contains("# TYPE activity_executions_total counter"), "{body}");
        server.shutdown().await;
        engine.shutdown().await;
    }
}

#[tokio::test]
async fn the_endpoint_answers_other_requests_plainly() {
    let metrics = Metrics::new();
    let server = metrics.serve("127.0.0.1:0").await.unwrap();
    let addr = server.local_addr();
    let (status, _) = http(addr, b"GET /other HTTP/1.1\r\n\r\n").await;
    assert_eq!(status, "HTTP/1.1 404 Not Found");
    let (status, _) = http(addr, b"POST /metrics HTTP/1.1\r\nContent-Length: 0\r\n\r\n").await;
    assert_eq!(status, "HTTP/1.1 405 Method Not Allowed");
    let (status, _) = http(addr, b"\x00\xffgarbage\r\n\r\n").await;
    assert_eq!(status, "HTTP/1.1 400 Bad Request");
    let (status, body) = http(addr, b"HEAD /metrics?x=1 HTTP/1.0\r\n\r\n").await;
    assert_eq!(status, "HTTP/1.1 200 OK");
    assert!(body.is_empty());
    // A request head that never ends is cut off, not buffered for ever.
    let (status, _) = http(addr, &[b'a'; 20_000]).await;
    assert_eq!(status, "HTTP/1.1 400 Bad Request");
    // The server still answers after all that.
    let (status, body) = http(addr, b"GET /metrics HTTP/1.1\r\n\r\n").await;
    assert_eq!(status, "HTTP/1.1 200 OK");
    assert!(body.contains("weft_store_commit_latency_count"), "{body}");
    server.shutdown().await;
}

#[test]
fn custom_metric_names_are_checked() {
    let metrics = Metrics::new();
    let meter = metrics.meter();
    // Invalid, taken by weft, or another kind already: no-ops.
    meter.counter("bad name", "").add(1, &[]);
    meter.counter("temporal_workflow_completed", "").add(1, &[]);
    meter.gauge("orders", "").set(3, &[]);
    meter.counter("orders", "").add(1, &[]);
    meter.gauge("orders", "").set(4, &[("region", "eu")]);
    meter.counter("clicks", "").add(2, &[("bad label", "x")]);
    meter
        .counter("clicks", "")
        .add(2, &[("page", "home \"quoted\"\nline")]);
    let text = metrics.encode_now();
    assert!(!text.contains("bad name"), "{text}");
    assert!(
        text.contains("orders{service_name=\"weft\",region=\"eu\"} 4"),
        "{text}"
    );
    assert!(
        text.contains(r#"clicks{service_name="weft",page="home \"quoted\"\nline"} 2"#),
        "{text}"
    );
    assert!(!text.contains("bad label"), "{text}");
}
