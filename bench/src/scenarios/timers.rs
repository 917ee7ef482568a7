//! `timers`: N workflows each sleeping until its own firing time, the
//! firings spread evenly over a window that opens `--delay` after the
//! start. Figures: memory while they all wait (sampled just before the
//! first firing), and how late the workflows saw their timers fire.

use std::time::{Duration, Instant, SystemTime};

use weft::prelude::*;

use crate::BenchError;
use crate::args::Config;
use crate::load::fan_out;
use crate::progress::Progress;
use crate::report::{Memory, Report};
use crate::setup::{self, TASK_QUEUE};
use crate::workflows::{Sleeper, epoch_ms};

/// Runs `timers`: starts the sleepers, waits for the window, reads every
/// result.
pub async fn run(config: &Config) -> Result<Report, BenchError> {
    let mut report = Report::new("timers");
    let bench = setup::start(config, setup::engine_options(config), &mut report).await?;
    report.setting("delay", format!("{:?}", config.delay));
    report.setting("window", format!("{:?}", config.window));
    let worker = Worker::new(&bench.client, TASK_QUEUE)
        .with_options(setup::worker_options(config))
        .register_workflow::<Sleeper>()
        .start()?;

    let base = epoch_ms(SystemTime::now() + config.delay);
    let window_ms = u64::try_from(config.window.as_millis()).unwrap_or(u64::MAX);
    let n = config.n;
    let fire_at = move |i: u64| base + window_ms.saturating_mul(i) / n.max(1);

    let start = Instant::now();
    let progress = Progress::start("timers: starting", n, config.progress);
    let started = fan_out(n, config.c, &progress, {
        let client = bench.client.clone();
        move |i| {
            let client = client.clone();
            async move {
                client
                    .start_workflow(
                        Sleeper::run,
                        fire_at(i),
                        WorkflowOptions::new(format!("timer-{i}"), TASK_QUEUE),
                    )
                    .await?;
                Ok(())
            }
        }
    })
    .await;
    let start_elapsed = start.elapsed();
    drop(progress);
    if let Err(e) = started {
        worker.shutdown().await;
        bench.shutdown().await;
        return Err(e);
    }
    let early = (0..n)
        .filter(|&i| fire_at(i) <= epoch_ms(SystemTime::now()))
        .count();
    // Memory while they all wait: just before the first firing.
    let now = epoch_ms(SystemTime::now());
    if base > now + 50 {
        tokio::time::sleep(Duration::from_millis(base - now - 50)).await;
    }
    let waiting = Memory::now();
    let end = base + window_ms;
    let now = epoch_ms(SystemTime::now());
    if end > now {
        tokio::time::sleep(Duration::from_millis(end - now)).await;
    }

    let progress = Progress::start("timers: results", n, config.progress);
    let results = fan_out(n, config.c, &progress, {
        let client = bench.client.clone();
        move |i| {
            let client = client.clone();
            async move {
                let late = client
                    .workflow_handle::<Sleeper>(format!("timer-{i}"), None)
                    .result()
                    .await?;
                Ok(Duration::from_millis(late))
            }
        }
    })
    .await;
    drop(progress);
    worker.shutdown().await;
    bench.shutdown().await;
    let mut lateness = results?;

    report.figure("workflows", n as f64, "workflows");
    report.millis("start_all", start_elapsed);
    report.figure(
        "start_throughput",
        n as f64 / start_elapsed.as_secs_f64(),
        "workflows/s",
    );
    report.figure("fired_before_all_started", early as f64, "workflows");
    if let Some(m) = waiting {
        report.figure("waiting_rss", m.rss_kib as f64 / 1024.0, "MiB");
    }
    report.latencies("lateness", &mut lateness);
    report.memory("end_");
    Ok(report)
}
