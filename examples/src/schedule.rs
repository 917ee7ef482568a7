//! Schedule: workflows started by the engine at the times of a spec (an
//! interval, a cron expression), triggered by hand, backfilled over past
//! times, paused, unpaused and updated; the reference's five functions.
//!
//! The schedules run on an engine of their own, in memory, on the
//! time-skipping clock: whenever nothing runs, time jumps to the next
//! action, so minutes of schedule pass in milliseconds. In production the
//! same code runs on `Engine::sqlite` and the machine's clock.

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use weft::backend::BackendError;
use weft::engine::{Engine, EngineOptions, MemoryStore, VirtualClock};
use weft::prelude::*;
use weft::schedule::{
    Backfill, IntervalSpec, OverlapPolicy, Schedule, ScheduleAction, ScheduleDescription,
    ScheduleSpec, ScheduledRun,
};
use weft::{ClientError, ScheduleHandle};

use crate::support::ExampleError;

/// Task queue of this example.
pub const TASK_QUEUE: &str = "scheduled-task-queue";

// ANCHOR: workflow
#[workflow]
#[derive(Default)]
pub struct ScheduledWorkflow;

#[workflow]
impl ScheduledWorkflow {
    #[run]
    pub async fn run(_ctx: WorkflowContext<Self>, data: String) -> WorkflowResult<String> {
        Ok(format!("Processed: {data}"))
    }
}
// ANCHOR_END: workflow

/// A worker for this example's task queue.
pub fn worker(client: &Client) -> Worker {
    Worker::new(client, TASK_QUEUE).register_workflow::<ScheduledWorkflow>()
}

// ANCHOR: interval
/// A schedule that runs every 2 minutes.
pub async fn create_interval_schedule(client: &Client) -> Result<ScheduleHandle, ExampleError> {
    let action = ScheduleAction::start_workflow(
        ScheduledWorkflow::run,
        "scheduled data".to_string(), // workflow input
        "scheduled-workflow-id",
        TASK_QUEUE,
    )?;
    let spec = ScheduleSpec::every(Duration::from_secs(2 * 60));
    let schedule = Schedule::new(action, spec).note("Runs every 2 minutes");
    Ok(client
        .create_schedule("interval-schedule-id", schedule)
        .await?)
}
// ANCHOR_END: interval

// ANCHOR: cron
/// A schedule from a cron expression: 09:00 (UTC) on weekdays.
pub async fn create_cron_schedule(client: &Client) -> Result<ScheduleHandle, ExampleError> {
    let action = ScheduleAction::start_workflow(
        ScheduledWorkflow::run,
        "daily report".to_string(),
        "daily-report-workflow",
        TASK_QUEUE,
    )?;
    let spec = ScheduleSpec::cron("0 9 * * MON-FRI"); // 9 AM weekdays
    let schedule = Schedule::new(action, spec).note("Daily report generation");
    Ok(client.create_schedule("cron-schedule-id", schedule).await?)
}
// ANCHOR_END: cron

// ANCHOR: trigger
/// Takes the interval schedule's action now.
pub async fn trigger_schedule_manually(client: &Client) -> Result<(), ExampleError> {
    let handle = client.schedule_handle("interval-schedule-id");
    handle.trigger().await?;
    Ok(())
}
// ANCHOR_END: trigger

// ANCHOR: backfill
/// Takes the interval schedule's actions for the 2 hours up to 5 minutes
/// ago, overlapping if they must.
pub async fn backfill_schedule(client: &Client, now: SystemTime) -> Result<(), ExampleError> {
    let handle = client.schedule_handle("interval-schedule-id");
    handle
        .backfill([Backfill {
            start_at: now - Duration::from_secs(2 * 3600), // the last 2 hours
            end_at: now - Duration::from_secs(5 * 60),     // up to 5 minutes ago
            overlap: Some(OverlapPolicy::AllowAll),        // overlapping runs allowed
        }])
        .await?;
    Ok(())
}
// ANCHOR_END: backfill

// ANCHOR: manage
/// A schedule of two specs, paused, unpaused and updated.
pub async fn manage_schedule(client: &Client) -> Result<ScheduleDescription, ExampleError> {
    let action = ScheduleAction::start_workflow(
        ScheduledWorkflow::run,
        "complex data".to_string(),
        "complex-workflow-id",
        TASK_QUEUE,
    )?;
    let spec = ScheduleSpec {
        intervals: vec![IntervalSpec::every(Duration::from_secs(30 * 60))], // every 30 min
        cron_expressions: vec!["0 0 * * SUN".into()],                       // also weekly on Sunday
        ..ScheduleSpec::default()
    };
    let schedule = Schedule::new(action, spec).note("Mixed interval and cron schedule");
    let handle = client
        .create_schedule("complex-schedule-id", schedule)
        .await?;

    handle.pause(Some("Pausing for maintenance")).await?;
    handle.unpause(Some("Maintenance complete")).await?;
    handle
        .update(|current| {
            let mut schedule = current.schedule.clone();
            schedule.state.note = "Updated schedule".into();
            Some(schedule)
        })
        .await?;
    Ok(handle.describe().await?)
}
// ANCHOR_END: manage

/// Runs the five functions on an engine of their own (in memory, on the
/// time-skipping clock; `_client`'s engine keeps the machine's clock) and
/// returns what each did.
pub async fn run(_client: &Client) -> Result<Vec<String>, ExampleError> {
    let clock = VirtualClock::new();
    let options = EngineOptions {
        clock: Arc::new(clock.clone()),
        ..EngineOptions::default()
    };
    let engine = Engine::start(MemoryStore::new(), options)?;
    let client = Client::new(engine.clone());
    let worker = worker(&client).start()?;
    let walk = walk_through(&client, &clock).await;
    worker.shutdown().await;
    engine.shutdown().await;
    Ok(walk?.lines)
}

/// What the walk through the five functions printed, and the workflow the
/// interval schedule's first action started.
pub struct Walk {
    pub lines: Vec<String>,
    pub first_run: ScheduledRun,
}

/// The five functions, one after another, on `client`'s engine, whose
/// clock is `clock`. Deletes the schedules at the end; their workflows stay.
pub async fn walk_through(client: &Client, clock: &VirtualClock) -> Result<Walk, ExampleError> {
    let mut lines = Vec::new();
    let interval = create_interval_schedule(client).await?;
    let d = actions_done(&interval, 3).await?;
    let gaps = d.info.recent_actions.windows(2).all(|pair| {
        pair[1]
            .nominal_time
            .duration_since(pair[0].nominal_time)
            .ok()
            == Some(Duration::from_secs(120))
    });
    let first_run = d.info.recent_actions[0].workflow.clone();
    let result = client
        .workflow_handle::<ScheduledWorkflow>(
            &first_run.workflow_id,
            Some(first_run.run_id.clone()),
        )
        .result()
        .await?;
    lines.push(format!(
        "interval: 3 actions{}: {result}",
        if gaps { ", 2 minutes apart" } else { "" }
    ));
    // Paused, it takes no more actions by itself: what follows are the
    // actions taken by hand, which a paused schedule takes too.
    interval.pause(Some("taking actions by hand")).await?;
    // An action taken just before the pause may still run; under the
    // schedule's overlap policy (Skip) a trigger would then be skipped.
    described_when(&interval, "kept a workflow running", |d| {
        d.info.running_actions.is_empty()
    })
    .await?;

    let cron = create_cron_schedule(client).await?;
    let next = cron.describe().await?.info.next_action_times;
    let weekdays = next.iter().all(|t| is_weekday_at_nine(*t));
    lines.push(format!(
        "cron: next {} actions{}",
        next.len(),
        if weekdays {
            " on weekdays at 09:00 UTC"
        } else {
            ""
        }
    ));

    let before = interval.describe().await?.info.num_actions;
    trigger_schedule_manually(client).await?;
    let after = interval.describe().await?.info.num_actions;
    lines.push(format!("trigger: {} action now", after - before));

    // Whole minutes, even ones: the range holds the same times every run.
    let now = even_minute(weft::engine::Clock::now(clock));
    backfill_schedule(client, now).await?;
    let backfilled = interval.describe().await?.info.num_actions - after;
    lines.push(format!(
        "backfill: {backfilled} actions for 2:00 to 0:05 before now, both ends included"
    ));

    let d = manage_schedule(client).await?;
    lines.push(format!(
        "manage: paused, unpaused and updated: note {:?}, {} next times",
        d.schedule.state.note,
        d.info.next_action_times.len()
    ));
    let listed: Vec<String> = client
        .list_schedules()
        .await?
        .into_iter()
        .map(|s| s.schedule_id)
        .collect();
    lines.push(format!("list: {}", listed.join(", ")));
    for id in &listed {
        client.schedule_handle(id).delete().await?;
    }
    Ok(Walk { lines, first_run })
}

/// The description once `n` actions have closed (the clock skips to them;
/// their progress is not something a client call awaits, so it is read).
async fn actions_done(
    handle: &ScheduleHandle,
    n: u64,
) -> Result<ScheduleDescription, ExampleError> {
    described_when(handle, &format!("took no {n} actions"), |d| {
        let closed = d
            .info
            .recent_actions
            .iter()
            .filter(|a| a.status != weft::backend::RunStatus::Running)
            .count();
        closed as u64 >= n
    })
    .await
}

/// The schedule's description once `ready` holds of it (`failed` says
/// what never happened otherwise).
async fn described_when(
    handle: &ScheduleHandle,
    failed: &str,
    ready: impl Fn(&ScheduleDescription) -> bool,
) -> Result<ScheduleDescription, ExampleError> {
    for _ in 0..10_000 {
        let d = handle.describe().await?;
        if ready(&d) {
            return Ok(d);
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    Err(ClientError::Backend(BackendError::Store(format!(
        "schedule {} {failed}",
        handle.id()
    )))
    .into())
}

fn is_weekday_at_nine(t: SystemTime) -> bool {
    let secs = t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    // 1970-01-01 was a Thursday: day 0 is weekday 4 (Sunday 0).
    let weekday = (secs / 86_400 + 4) % 7;
    (1..=5).contains(&weekday) && secs % 86_400 == 9 * 3600
}

fn even_minute(t: SystemTime) -> SystemTime {
    let secs = t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    UNIX_EPOCH + Duration::from_secs(secs - secs % 120)
}
