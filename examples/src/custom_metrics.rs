//! Custom Metrics: an activity interceptor records how long each attempt
//! waited in its queue and counts executions, through the attempt's meter;
//! weft's own metrics sit beside them, all served over HTTP in
//! Prometheus's format. The example scrapes its own endpoint.

use std::sync::OnceLock;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use weft::prelude::*;
use weft::telemetry::{
    ActivityInterceptor, ActivityNext, ActivityOutcome, BoxFuture, ExecuteActivityInput, Metrics,
};

use crate::support::{ExampleError, options};

/// Task queue of this example.
pub const TASK_QUEUE: &str = "metrics-task-queue";
/// Its workflow id.
pub const WORKFLOW_ID: &str = "custom-metrics-workflow-id";

// ANCHOR: interceptor
/// Captures activity scheduling and execution metrics.
pub struct ActivityMetricsInterceptor;

impl ActivityInterceptor for ActivityMetricsInterceptor {
    fn execute_activity(
        &self,
        input: ExecuteActivityInput,
        next: ActivityNext,
    ) -> BoxFuture<'static, ActivityOutcome> {
        Box::pin(async move {
            let info = input.ctx.info().clone();
            let meter = input.ctx.metric_meter().clone();
            // Schedule-to-start latency of this attempt.
            let schedule_to_start = info
                .started_time
                .duration_since(info.scheduled_time)
                .unwrap_or_default();
            meter
                .histogram(
                    "activity_schedule_to_start_latency",
                    "Time between activity scheduling and start",
                )
                .record_duration(
                    schedule_to_start,
                    &[
                        ("workflow_type", &info.workflow_type),
                        ("activity_type", &info.activity_type),
                    ],
                );
            // A business metric.
            let counter = meter.counter(
                "activity_executions_total",
                "Total number of activity executions",
            );
            counter.add(1, &[("status", "started")]);
            let result = next.execute(input).await;
            let status = if result.is_ok() {
                "completed"
            } else {
                "failed"
            };
            counter.add(1, &[("status", status)]);
            result
        })
    }
}
// ANCHOR_END: interceptor

// ANCHOR: workflow
#[activity]
pub async fn my_activity(name: String) -> Result<String, ApplicationError> {
    Ok(format!("Hello, {name}!"))
}

#[workflow]
#[derive(Default)]
pub struct MyWorkflow;

#[workflow]
impl MyWorkflow {
    #[run]
    pub async fn run(ctx: WorkflowContext<Self>, name: String) -> WorkflowResult<String> {
        let greeting = ctx
            .activity(MY_ACTIVITY, name)
            .start_to_close_timeout(Duration::from_secs(10))
            .await?;
        // Counted once, however often this history is replayed.
        ctx.metric_meter()
            .counter("greetings_total", "Greetings composed")
            .add(1, &[]);
        Ok(greeting)
    }
}
// ANCHOR_END: workflow

// ANCHOR: worker
/// The process's metrics: one registry, as Prometheus expects of a process.
pub fn metrics() -> &'static Metrics {
    static METRICS: OnceLock<Metrics> = OnceLock::new();
    METRICS.get_or_init(Metrics::new)
}

/// A worker recording into [`metrics`], with the interceptor.
pub fn worker(client: &Client) -> Worker {
    let client = client.clone().with_metrics(metrics().clone());
    Worker::new(&client, TASK_QUEUE)
        .register_workflow::<MyWorkflow>()
        .register_activity(MY_ACTIVITY)
        .activity_interceptor(ActivityMetricsInterceptor)
}
// ANCHOR_END: worker

/// Runs the workflow, then scrapes the metrics endpoint over HTTP and
/// returns the result and the custom metrics' lines.
pub async fn run(client: &Client) -> Result<Vec<String>, ExampleError> {
    // ANCHOR: serve
    // The reference binds 0.0.0.0:9090; port 0 takes a free one here.
    let server = metrics()
        .serve("127.0.0.1:0")
        .await
        .map_err(|e| ExampleError::Usage(format!("metrics endpoint: {e}")))?;
    let url = format!("http://{}/metrics", server.local_addr());
    // ANCHOR_END: serve
    let result = client
        .execute_workflow(
            MyWorkflow::run,
            "metrics".to_string(),
            options(WORKFLOW_ID, TASK_QUEUE),
        )
        .await?;
    let mut lines = vec![format!(
        "Result: {result} Custom metrics, scraped over HTTP from /metrics:"
    )];
    let scraped = scrape(server.local_addr()).await;
    server.shutdown().await;
    let body = scraped.map_err(|e| ExampleError::Usage(format!("scraping {url}: {e}")))?;
    lines.extend(
        body.lines()
            .filter(|l| {
                l.starts_with("activity_schedule_to_start_latency")
                    || l.starts_with("activity_executions_total")
            })
            .map(str::to_string),
    );
    Ok(lines)
}

// ANCHOR: scrape
/// `GET /metrics` over a plain TCP connection: the body of the answer.
async fn scrape(addr: std::net::SocketAddr) -> std::io::Result<String> {
    let mut stream = tokio::net::TcpStream::connect(addr).await?;
    stream
        .write_all(b"GET /metrics HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        .await?;
    let mut response = String::new();
    stream.read_to_string(&mut response).await?;
    match response.split_once("\r\n\r\n") {
        Some((head, body)) if head.starts_with("HTTP/1.1 200") => Ok(body.to_string()),
        _ => Err(std::io::Error::other(format!(
            "unexpected answer: {}",
            response.lines().next().unwrap_or("")
        ))),
    }
}
// ANCHOR_END: scrape
