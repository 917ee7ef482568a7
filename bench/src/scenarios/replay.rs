//! `replay`: rebuilds a workflow from a history of at least N events, as a
//! worker does on a cache miss. The history comes from a real run of
//! [`Sequence`] (one activity per step, about six events a step). Figures:
//! events/s replayed, and events/s decoded from the JSON export.

use std::sync::Arc;
use std::time::{Duration, Instant};

use weft::engine::EngineOptions;
use weft::prelude::*;
use weft::replay::Replayer;

use crate::BenchError;
use crate::args::Config;
use crate::report::Report;
use crate::setup::{self, TASK_QUEUE};
use crate::workflows::{Sequence, SequenceInput, StepClock};

/// How long the replays are repeated, at least.
const MEASURE_FOR: Duration = Duration::from_secs(2);

/// Runs `replay`: records a history, then replays it repeatedly.
pub async fn run(config: &Config) -> Result<Report, BenchError> {
    let mut report = Report::new("replay");
    let events = record(config, &mut report).await?;
    let json = weft::history::to_json(&events)?;
    let mut replayer = Replayer::new();
    replayer.register_workflow::<Sequence>();

    let (replays, elapsed) = repeat(|| replayer.replay(&events))?;
    report.figure("history", events.len() as f64, "events");
    report.figure("history_json", json.len() as f64 / 1024.0, "KiB");
    report.figure("replays", replays as f64, "replays");
    report.millis("replay_time", elapsed / replays);
    report.figure(
        "throughput",
        (events.len() as f64 * f64::from(replays)) / elapsed.as_secs_f64(),
        "events/s",
    );
    let (decodes, decoded) = repeat(|| weft::history::from_json(&json).map(drop))?;
    report.figure(
        "json_decode",
        (events.len() as f64 * f64::from(decodes)) / decoded.as_secs_f64(),
        "events/s",
    );
    report.memory("");
    Ok(report)
}

/// Runs `f` until [`MEASURE_FOR`] has passed and at least three times.
fn repeat<E>(mut f: impl FnMut() -> Result<(), E>) -> Result<(u32, Duration), BenchError>
where
    BenchError: From<E>,
{
    let start = Instant::now();
    let mut times = 0;
    while times < 3 || start.elapsed() < MEASURE_FOR {
        f()?;
        times += 1;
    }
    Ok((times, start.elapsed()))
}

/// Runs a [`Sequence`] long enough for `config.n` events and returns its
/// history.
async fn record(
    config: &Config,
    report: &mut Report,
) -> Result<Vec<weft::history::Event>, BenchError> {
    // Five events frame the run; each step adds six.
    let steps = config.n.saturating_sub(5).div_ceil(6).max(1);
    let options = EngineOptions {
        continue_as_new_suggested_events: u64::MAX,
        continue_as_new_suggested_bytes: u64::MAX,
        ..setup::engine_options(config)
    };
    let bench = setup::start(config, options, report).await?;
    let worker = Worker::new(&bench.client, TASK_QUEUE)
        .with_options(setup::worker_options(config))
        .register_workflow::<Sequence>()
        .register_activities(Arc::new(StepClock::new(steps)))
        .start()?;
    let input = SequenceInput {
        next: 0,
        total: steps,
        runs: 0,
        continue_as_new: false,
    };
    let result = bench
        .client
        .execute_workflow(
            Sequence::run,
            input,
            WorkflowOptions::new("replay", TASK_QUEUE),
        )
        .await;
    let history = match &result {
        Ok(_) => {
            bench
                .client
                .workflow_handle::<Sequence>("replay", None)
                .history()
                .await
        }
        Err(_) => Ok(Vec::new()),
    };
    worker.shutdown().await;
    bench.shutdown().await;
    result?;
    Ok(history?)
}
