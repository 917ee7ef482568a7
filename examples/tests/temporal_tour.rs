//! Every pattern of the tour on a Temporal dev server, beside the same
//! pattern on weft's engine: the lines each prints must be the same,
//! except where the book's "Running on Temporal" lists a difference. The
//! Schedule pattern's functions run on Temporal in a test of their own.

#[path = "../../runtime/tests/temporal_support/mod.rs"]
mod temporal_support;

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use weft::engine::Engine;
use weft::schedule::ScheduleDescription;
use weft::{Client, ScheduleHandle};
use weft_examples::{activity_choice, schedule};

/// Patterns whose lines are not compared here, and why.
const NOT_ON_TEMPORAL: &[(&str, &str)] = &[(
    "Schedule",
    "its walk runs on an engine of its own on a virtual clock (three actions two minutes \
     apart in milliseconds), so it would not reach Temporal; its functions run on Temporal \
     in the_schedule_pattern_runs_on_temporal",
)];

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
    for id in weft_examples::tour::REPLAYED_RUNS {
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

/// How long Temporal gets to take a schedule's actions and list it.
const SCHEDULE_DEADLINE: Duration = Duration::from_secs(120);

/// The schedule's description once `ready` holds of it (Temporal takes
/// triggered and backfilled actions asynchronously).
async fn described_when(
    handle: &ScheduleHandle,
    what: &str,
    ready: impl Fn(&ScheduleDescription) -> bool,
) -> ScheduleDescription {
    let deadline = Instant::now() + SCHEDULE_DEADLINE;
    loop {
        let d = handle.describe().await.unwrap();
        if ready(&d) {
            return d;
        }
        assert!(
            Instant::now() < deadline,
            "{}: {what}: {:?}",
            handle.id(),
            d.info
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn unix_secs(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// The Schedule pattern's five functions on Temporal: the interval and
/// cron schedules, a trigger, a backfill and the managed schedule do what
/// they do on weft's engine, the scheduled workflows on a worker.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_schedule_pattern_runs_on_temporal() {
    let Some(server) = temporal_support::start(&[]).await else {
        return;
    };
    let client = server.client().await;
    let worker = schedule::worker(&client).start().unwrap();

    let interval = schedule::create_interval_schedule(&client).await.unwrap();
    let d = interval.describe().await.unwrap();
    assert_eq!(d.schedule.state.note, "Runs every 2 minutes");
    assert!(
        d.info
            .next_action_times
            .windows(2)
            .all(|w| { w[1].duration_since(w[0]).ok() == Some(Duration::from_secs(120)) })
    );
    // Only the actions taken by hand, as in the walk.
    interval
        .pause(Some("taking actions by hand"))
        .await
        .unwrap();

    let cron = schedule::create_cron_schedule(&client).await.unwrap();
    let next = cron.describe().await.unwrap().info.next_action_times;
    assert_eq!(next.len(), 10);
    for t in &next {
        let secs = unix_secs(*t);
        // 1970-01-01 was a Thursday: day 0 is weekday 4 (Sunday 0).
        let weekday = (secs / 86_400 + 4) % 7;
        assert!(
            (1..=5).contains(&weekday) && secs % 86_400 == 9 * 3600,
            "{t:?}"
        );
    }

    let before = interval.describe().await.unwrap().info.num_actions;
    schedule::trigger_schedule_manually(&client).await.unwrap();
    let d = described_when(&interval, "the trigger took no action", |d| {
        d.info.num_actions == before + 1
    })
    .await;
    let triggered = d.info.recent_actions.last().unwrap().workflow.clone();
    let result = client
        .workflow_handle::<schedule::ScheduledWorkflow>(
            &triggered.workflow_id,
            Some(triggered.run_id),
        )
        .result()
        .await
        .unwrap();
    assert_eq!(result, "Processed: scheduled data");

    // 2:00 to 0:05 before an even minute, both ends included: 58 times.
    let now = unix_secs(SystemTime::now());
    let now = UNIX_EPOCH + Duration::from_secs(now - now % 120);
    schedule::backfill_schedule(&client, now).await.unwrap();
    described_when(&interval, "the backfill took no 58 actions", |d| {
        d.info.num_actions >= before + 59
    })
    .await;
    let d = described_when(
        &interval,
        "the backfilled workflows did not all close",
        |d| d.info.running_actions.is_empty(),
    )
    .await;
    assert_eq!(d.info.num_actions, before + 59);

    let d = schedule::manage_schedule(&client).await.unwrap();
    assert_eq!(d.schedule.state.note, "Updated schedule");
    assert!(!d.schedule.state.paused);
    assert_eq!(d.info.next_action_times.len(), 10);

    let ids = [
        "complex-schedule-id",
        "cron-schedule-id",
        "interval-schedule-id",
    ];
    let deadline = Instant::now() + SCHEDULE_DEADLINE;
    loop {
        let listed: Vec<String> = client
            .list_schedules()
            .await
            .unwrap()
            .into_iter()
            .map(|s| s.schedule_id)
            .collect();
        if listed == ids {
            break;
        }
        assert!(Instant::now() < deadline, "listed {listed:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    for id in ids {
        client.schedule_handle(id).delete().await.unwrap();
    }
    worker.shutdown().await;
}
