//! `sequential`: one workflow running N activities one after another,
//! continuing as new when history suggests it. Figures: time per step early
//! (around step 100) and late (around step N - 100), which must match: a
//! step costs the same at any history length because the worker's cache,
//! not a replay, carries the run between steps.

use std::sync::Arc;
use std::time::{Duration, Instant};

use weft::prelude::*;

use crate::BenchError;
use crate::args::Config;
use crate::progress::Progress;
use crate::report::{Report, percentile};
use crate::setup::{self, TASK_QUEUE};
use crate::workflows::{Sequence, SequenceInput, SequenceOutput, StepClock};

/// Runs `sequential` and checks the chain ran every step once.
pub async fn run(config: &Config) -> Result<Report, BenchError> {
    let mut report = Report::new("sequential");
    let bench = setup::start(config, setup::engine_options(config), &mut report).await?;
    let clock = Arc::new(StepClock::new(config.n));
    let worker = Worker::new(&bench.client, TASK_QUEUE)
        .with_options(setup::worker_options(config))
        .register_workflow::<Sequence>()
        .register_activities(clock.clone())
        .start()?;

    let progress = Progress::start("sequential", config.n, config.progress);
    let watcher = {
        let clock = clock.clone();
        let done = progress.counter();
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_millis(500)).await;
                let n = clock.times().iter().filter(|t| t.is_some()).count();
                done.store(n as u64, std::sync::atomic::Ordering::Relaxed);
            }
        })
    };
    let start = Instant::now();
    let input = SequenceInput {
        next: 0,
        total: config.n,
        runs: 0,
        continue_as_new: true,
    };
    let result = bench
        .client
        .execute_workflow(
            Sequence::run,
            input,
            WorkflowOptions::new("sequential", TASK_QUEUE),
        )
        .await;
    let elapsed = start.elapsed();
    watcher.abort();
    drop(progress);
    worker.shutdown().await;
    bench.shutdown().await;
    let output = result?;
    if output.steps != config.n {
        return Err(BenchError::new(format!(
            "the workflow ran {} steps of {}",
            output.steps, config.n
        )));
    }

    let times = clock
        .times()
        .into_iter()
        .enumerate()
        .map(|(i, t)| t.ok_or_else(|| BenchError::new(format!("step {i} never ran"))))
        .collect::<Result<Vec<Instant>, _>>()?;
    figures(&mut report, config.n, &times, &output, elapsed);
    Ok(report)
}

fn figures(
    report: &mut Report,
    n: u64,
    times: &[Instant],
    output: &SequenceOutput,
    elapsed: Duration,
) {
    // Step i's time is the gap since step i - 1 ran.
    let gaps: Vec<Duration> = times
        .windows(2)
        .map(|w| w[1].saturating_duration_since(w[0]))
        .collect();
    let (early, late) = if n >= 1_000 {
        (100, n - 100)
    } else {
        (n / 4, n * 3 / 4)
    };
    let half = if n >= 1_000 { 50 } else { (n / 20).max(1) };
    let around = |at: u64| {
        let from = usize::try_from(at.saturating_sub(half)).unwrap_or(0);
        let to = usize::try_from(at + half)
            .unwrap_or(usize::MAX)
            .min(gaps.len());
        let mut window = gaps.get(from..to).unwrap_or(&[]).to_vec();
        window.sort_unstable();
        percentile(&window, 50.0).unwrap_or_default()
    };
    let (at_early, at_late) = (around(early), around(late));
    report.figure("steps", n as f64, "activities");
    report.figure("runs", output.runs as f64, "runs (continue-as-new chain)");
    report.millis(&format!("step_at_{early}"), at_early);
    report.millis(&format!("step_at_{late}"), at_late);
    report.figure(
        "late_over_early",
        at_late.as_secs_f64() / at_early.as_secs_f64().max(1e-12),
        "x (target <= 1.2)",
    );
    report.millis(
        "step_mean",
        elapsed / u32::try_from(n.max(1)).unwrap_or(u32::MAX),
    );
    let mut sorted = gaps.clone();
    sorted.sort_unstable();
    if let Some(max) = percentile(&sorted, 100.0) {
        report.millis("step_max", max);
    }
    report.figure("throughput", n as f64 / elapsed.as_secs_f64(), "steps/s");
    report.memory("");
}
