//! `fanout`: one workflow scheduling N activities in one workflow task and
//! joining them. Figures: time to the result, activities/s.

use std::time::Instant;

use weft::prelude::*;

use crate::BenchError;
use crate::args::Config;
use crate::report::Report;
use crate::setup::{self, TASK_QUEUE};
use crate::workflows::{BRANCH, Fanout};

/// Runs `fanout` and checks the sum of the branches.
pub async fn run(config: &Config) -> Result<Report, BenchError> {
    let mut report = Report::new("fanout");
    let bench = setup::start(config, setup::engine_options(config), &mut report).await?;
    let worker = Worker::new(&bench.client, TASK_QUEUE)
        .with_options(setup::worker_options(config))
        .register_workflow::<Fanout>()
        .register_activity(BRANCH)
        .start()?;

    let start = Instant::now();
    let result = bench
        .client
        .execute_workflow(
            Fanout::run,
            config.n,
            WorkflowOptions::new("fanout", TASK_QUEUE),
        )
        .await;
    let elapsed = start.elapsed();
    let events = match &result {
        Ok(_) => bench
            .client
            .workflow_handle::<Fanout>("fanout", None)
            .history()
            .await
            .map(|h| h.len()),
        Err(_) => Ok(0),
    };
    worker.shutdown().await;
    bench.shutdown().await;
    let sum = result?;
    let expected = config.n * config.n.saturating_sub(1) / 2;
    if sum != expected {
        return Err(BenchError::new(format!(
            "the branches summed to {sum}, not {expected}"
        )));
    }
    report.figure("activities", config.n as f64, "activities");
    report.figure("history", events? as f64, "events");
    report.millis("total", elapsed);
    report.figure(
        "throughput",
        config.n as f64 / elapsed.as_secs_f64(),
        "activities/s",
    );
    report.memory("");
    Ok(report)
}
