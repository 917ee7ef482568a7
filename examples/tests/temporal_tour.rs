//! Every pattern of the tour on a Temporal dev server, beside the same
//! pattern on weft's engine: the lines each prints must be the same,
//! except where the book's "Running on Temporal" lists a difference.

#[path = "../../runtime/tests/temporal_support/mod.rs"]
mod temporal_support;

use weft::Client;
use weft::engine::Engine;
use weft_examples::{
    activity_choice, custom_metrics, encryption, polling_frequent, polling_infrequent,
};

/// Workflow ids the patterns start (those of the determinism test that
/// run on Temporal).
const RUNS: [&str; 14] = [
    "long-running",
    "activity-choice-1",
    "activity-choice-2",
    "parallel-activity",
    "reward-account-42",
    "exception-workflow-id",
    "local-activity",
    polling_frequent::WORKFLOW_ID,
    polling_infrequent::WORKFLOW_ID,
    weft_examples::tour::CANCELLATION_ID,
    weft_examples::tour::MAINTENANCE_ID,
    "validated-models-1",
    custom_metrics::WORKFLOW_ID,
    encryption::WORKFLOW_ID,
];

/// Patterns that cannot run on Temporal, with the book's reason.
const NOT_ON_TEMPORAL: &[(&str, &str)] = &[("Schedule", "schedules are weft's engine's")];

/// The lines of a pattern as they may differ on Temporal, as the book
/// lists: an activity failure carries no attempt count; timers of a few
/// milliseconds fire late on a Temporal server, so the timer counts of
/// Concurrent Timers' first line differ; the metrics registry is
/// process-wide, so Custom Metrics' counts add up over both runs.
fn comparable(pattern: &str, lines: &[String]) -> Vec<String> {
    match pattern {
        "Exceptions" => lines
            .iter()
            .map(|l| match l.find("attempts: ") {
                Some(at) => {
                    let rest = &l[at + "attempts: ".len()..];
                    let end = rest.find(',').unwrap_or(rest.len());
                    format!("{}attempts: _{}", &l[..at], &rest[end..])
                }
                None => l.clone(),
            })
            .collect(),
        "Concurrent Timers" => lines.iter().skip(1).cloned().collect(),
        "Custom Metrics" => lines.iter().take(1).cloned().collect(),
        _ => lines.to_vec(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_pattern_prints_the_same_lines_on_temporal() {
    let Some(server) = temporal_support::start(&[]).await else {
        return;
    };
    let temporal = server.client().await;
    let engine = Engine::memory().await.unwrap();
    let embedded = Client::new(engine.clone());
    let mut differences = Vec::new();
    for pattern in weft_examples::patterns() {
        if NOT_ON_TEMPORAL
            .iter()
            .any(|(name, _)| *name == pattern.name)
        {
            continue;
        }
        let expected = {
            let worker = (pattern.worker)(&embedded).start().unwrap();
            let lines = (pattern.run)(&embedded).await;
            worker.shutdown().await;
            lines.unwrap_or_else(|e| panic!("{} on weft's engine: {e}", pattern.name))
        };
        let worker = (pattern.worker)(&temporal).start().unwrap();
        let lines = (pattern.run)(&temporal).await;
        worker.shutdown().await;
        match lines {
            Ok(lines)
                if comparable(pattern.name, &lines) == comparable(pattern.name, &expected) =>
            {
                eprintln!("{}: same lines", pattern.name)
            }
            Ok(lines) => differences.push(format!(
                "{}:\n  engine:   {expected:?}\n  temporal: {lines:?}",
                pattern.name
            )),
            Err(e) => differences.push(format!("{}: failed on Temporal: {e}", pattern.name)),
        }
    }
    engine.shutdown().await;
    assert!(differences.is_empty(), "{}", differences.join("\n"));

    // The histories Temporal recorded, read through weft's client, replay
    // in weft's Replayer against the same code.
    let replayer = weft_examples::tour::replayer().unwrap();
    let mut failures = Vec::new();
    for id in RUNS {
        let json = temporal
            .workflow_handle::<activity_choice::PurchaseFruits>(id, None)
            .history_json()
            .await
            .unwrap_or_else(|e| panic!("{id}: {e}"));
        if let Err(e) = replayer.replay_json(&json) {
            failures.push(format!("{id}: {e}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
