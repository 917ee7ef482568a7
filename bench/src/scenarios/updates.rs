//! `updates`: N updates to one entity workflow, C in flight (so several
//! reach each workflow task), across the runs of a continue-as-new chain.
//! Figures: updates/s and update latency.

use std::time::{Duration, Instant};

use weft::prelude::*;

use crate::BenchError;
use crate::args::Config;
use crate::load::fan_out;
use crate::progress::Progress;
use crate::report::Report;
use crate::setup::{self, TASK_QUEUE};
use crate::workflows::{Counter, CounterHandle, CounterInput};

/// Runs `updates` and checks the entity counted each update once.
pub async fn run(config: &Config) -> Result<Report, BenchError> {
    let mut report = Report::new("updates");
    let bench = setup::start(config, setup::engine_options(config), &mut report).await?;
    let worker = Worker::new(&bench.client, TASK_QUEUE)
        .with_options(setup::worker_options(config))
        .register_workflow::<Counter>()
        .start()?;
    let result = drive(config, &bench.client).await;
    worker.shutdown().await;
    bench.shutdown().await;
    let (mut latencies, elapsed, last) = result?;
    if last.total != config.n {
        return Err(BenchError::new(format!(
            "the entity counted {} of {} updates",
            last.total, config.n
        )));
    }
    report.figure("updates", config.n as f64, "updates");
    report.figure("runs", last.runs as f64, "runs (continue-as-new chain)");
    report.figure(
        "throughput",
        config.n as f64 / elapsed.as_secs_f64(),
        "updates/s",
    );
    report.latencies("latency", &mut latencies);
    report.memory("");
    Ok(report)
}

async fn drive(
    config: &Config,
    client: &Client,
) -> Result<(Vec<Duration>, Duration, CounterInput), BenchError> {
    let entity = client
        .start_workflow(
            Counter::run,
            CounterInput::default(),
            WorkflowOptions::new("entity", TASK_QUEUE),
        )
        .await?;
    // Updates address the workflow id, so they follow the chain.
    let latest = client.workflow_handle::<Counter>("entity", None);
    let progress = Progress::start("updates", config.n, config.progress);
    let start = Instant::now();
    let latencies = fan_out(config.n, config.c, &progress, move |i| {
        let handle = latest.with_update_id(format!("add-{i}"));
        async move {
            let begun = Instant::now();
            handle.add(1).await?;
            Ok(begun.elapsed())
        }
    })
    .await?;
    let elapsed = start.elapsed();
    drop(progress);
    let total = client
        .workflow_handle::<Counter>("entity", None)
        .close()
        .await?;
    let last = entity.result().await?;
    if last.total != total {
        return Err(BenchError::new(format!(
            "close answered {total}, the result says {}",
            last.total
        )));
    }
    Ok((latencies, elapsed, last))
}
