//! `hello`: N one-activity workflows started by a client with C in flight.
//! Figures: workflows/s over the whole run, and start-to-result latency.

use std::time::{Duration, Instant};

use weft::prelude::*;

use crate::BenchError;
use crate::args::Config;
use crate::load::fan_out;
use crate::progress::Progress;
use crate::report::{Report, ThreadCpu};
use crate::setup::{self, TASK_QUEUE};
use crate::workflows::{Hello, SAY_HELLO};

/// Runs `hello` and checks every workflow returned its greeting.
pub async fn run(config: &Config) -> Result<Report, BenchError> {
    let mut report = Report::new("hello");
    let options = setup::engine_options(config);
    let bench = setup::start(config, options.clone(), &mut report).await?;
    let worker = Worker::new(&bench.client, TASK_QUEUE)
        .with_options(setup::worker_options(config))
        .register_workflow::<Hello>()
        .register_activity(SAY_HELLO)
        .start()?;

    let progress = Progress::start("hello", config.n, config.progress);
    let cpu_before = ThreadCpu::now().unwrap_or_default();
    let commits_before = setup::commits(&options);
    let start = Instant::now();
    let client = bench.client.clone();
    let latencies = fan_out(config.n, config.c, &progress, move |i| {
        let client = client.clone();
        async move {
            let name = format!("w{i}");
            let begun = Instant::now();
            let greeting = client
                .execute_workflow(
                    Hello::run,
                    name.clone(),
                    WorkflowOptions::new(format!("hello-{i}"), TASK_QUEUE),
                )
                .await?;
            let latency = begun.elapsed();
            if greeting != format!("Hello, {name}!") {
                return Err(BenchError::new(format!(
                    "workflow hello-{i} returned {greeting:?}"
                )));
            }
            Ok(latency)
        }
    })
    .await;
    let elapsed = start.elapsed();
    // Read while every thread still runs (the store's writer ends with it).
    let cpu = ThreadCpu::now().map(|after| after.since(&cpu_before));
    let commits = setup::commits(&options).since(&commits_before);
    drop(progress);
    worker.shutdown().await;
    bench.shutdown().await;
    let mut latencies: Vec<Duration> = latencies?;

    report.figure("completed", latencies.len() as f64, "workflows");
    report.figure(
        "throughput",
        latencies.len() as f64 / elapsed.as_secs_f64(),
        "workflows/s",
    );
    report.latencies("latency", &mut latencies);
    if let Some(cpu) = cpu {
        report.cpu_per(&cpu, latencies.len() as u64, "workflow");
    }
    report.commits(&commits, elapsed, latencies.len() as u64, "workflow");
    report.memory("");
    Ok(report)
}
