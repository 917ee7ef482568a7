//! The time-skipping clock: when nothing is scheduled or running, time
//! jumps to the next deadline, so months of timers pass in moments; while
//! work is running, time runs as usual.

mod support;

use std::future::IntoFuture;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;
use weft::engine::{Engine, EngineOptions, MemoryStore, VirtualClock};
use weft::history::EventAttributes;
use weft::worker::WorkerHandle;
use weft::{Client, Failure, Worker, WorkflowContext, WorkflowOptions};

use support::{names, within};

/// An engine on the time-skipping clock, a client, and a worker set up by
/// `register`.
fn skipping(
    register: impl FnOnce(Worker) -> Worker,
) -> (VirtualClock, Engine, Client, WorkerHandle) {
    let clock = VirtualClock::new();
    let engine = Engine::start(
        MemoryStore::new(),
        EngineOptions {
            clock: Arc::new(clock.clone()),
            ..EngineOptions::default()
        },
    )
    .unwrap();
    let client = Client::new(engine.clone());
    let worker = register(Worker::new(&client, QUEUE)).start().unwrap();
    (clock, engine, client, worker)
}

const DAY: Duration = Duration::from_secs(24 * 60 * 60);
const QUEUE: &str = "skip";

activity!(stamp, u64, |millis| Ok(format!("{millis}")));

/// Sleeps 30 days twelve times, recording workflow time after each sleep
/// with an activity; returns the gaps between workflow times, in days.
async fn monthly(ctx: WorkflowContext<Monthly>, months: u32) -> Result<Vec<u64>, Failure> {
    let mut gaps = Vec::new();
    let mut last = ctx.now();
    for _ in 0..months {
        ctx.sleep(30 * DAY).await?;
        let now = ctx.now();
        let gap = now.duration_since(last);
        gaps.push(gap.as_secs() / DAY.as_secs());
        last = now;
        let millis = u64::try_from(now.unix_millis()).unwrap_or_default();
        ctx.activity(stamp, millis)
            .start_to_close_timeout(Duration::from_secs(10))
            .await?;
    }
    Ok(gaps)
}
workflow!(Monthly, u32, Vec<u64>, monthly);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_year_of_monthly_timers_passes_at_once() {
    let (clock, engine, client, worker) =
        skipping(|w| w.register_workflow::<Monthly>().register_activity(stamp));
    let started = std::time::Instant::now();
    let h = client
        .start_workflow(monthly, 12, WorkflowOptions::new("year", QUEUE))
        .await
        .unwrap();
    let gaps = within(h.result()).await.unwrap();
    // Each sleep took exactly 30 days of workflow time.
    assert_eq!(gaps, vec![30; 12]);
    assert!(
        clock.skipped() >= 359 * DAY,
        "skipped {:?}",
        clock.skipped()
    );
    let events = h.history().await.unwrap();
    let fired = names(&events)
        .iter()
        .filter(|n| **n == "TimerFired")
        .count();
    assert_eq!(fired, 12);
    // Each timer fired at its start plus 30 days, in engine time.
    for ev in &events {
        if let EventAttributes::TimerFired {
            started_event_id, ..
        } = &ev.attributes
        {
            let started_at = events[(started_event_id - 1) as usize].event_time;
            let waited = ev.event_time.duration_since(started_at).unwrap();
            assert!(waited >= 30 * DAY && waited < 30 * DAY + Duration::from_secs(5));
        }
    }
    println!(
        "12 x 30 days of timers in {:?} of wall time",
        started.elapsed()
    );
    worker.shutdown().await;
    engine.shutdown().await;
}

static ENTERED: Notify = Notify::const_new();
static RELEASE: Notify = Notify::const_new();

activity!(hold, u32, |n| {
    ENTERED.notify_one();
    RELEASE.notified().await;
    Ok(format!("{n}"))
});

/// A one-day timer beside an activity that runs until the test releases it.
async fn timer_beside_work(ctx: WorkflowContext<Beside>, _: u32) -> Result<u64, Failure> {
    let start = ctx.now();
    let work = ctx
        .activity(hold, 1)
        .start_to_close_timeout(Duration::from_secs(30))
        .into_future();
    let (slept, done) = weft::workflow::join(ctx.sleep(DAY), work).await;
    slept?;
    done?;
    Ok(ctx.now().duration_since(start).as_secs())
}
workflow!(Beside, u32, u64, timer_beside_work);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn time_does_not_skip_while_an_activity_runs() {
    let (clock, engine, client, worker) =
        skipping(|w| w.register_workflow::<Beside>().register_activity(hold));
    let h = client
        .start_workflow(timer_beside_work, 0, WorkflowOptions::new("beside", QUEUE))
        .await
        .unwrap();
    within(ENTERED.notified()).await;
    // The activity runs: the timer's day must not pass.
    let d = h.describe().await.unwrap();
    assert_eq!(d.pending_activities, 1);
    assert!(
        clock.skipped() < DAY,
        "skipped {:?} while work ran",
        clock.skipped()
    );
    RELEASE.notify_one();
    // Once it is done, nothing runs: time jumps to the timer.
    let waited = within(h.result()).await.unwrap();
    assert!(waited >= DAY.as_secs(), "{waited}");
    assert!(clock.skipped() >= DAY - Duration::from_secs(60));
    worker.shutdown().await;
    engine.shutdown().await;
}

/// Runs an activity with a one-year schedule-to-close timeout, then waits
/// for ever (the test terminates it).
async fn long_budget(ctx: WorkflowContext<LongBudget>, _: u32) -> Result<u64, Failure> {
    let start = ctx.now();
    ctx.activity(stamp, 0)
        .schedule_to_close_timeout(365 * DAY)
        .await?;
    let finished = std::rc::Rc::new(std::cell::Cell::new(false));
    let flag = finished.clone();
    ctx.wait_condition(move |_| flag.get()).await?;
    let _ = finished;
    Ok(ctx.now().duration_since(start).as_secs() / DAY.as_secs())
}
workflow!(LongBudget, u32, u64, long_budget);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn time_skips_only_to_deadlines_that_still_matter() {
    let (clock, engine, client, worker) =
        skipping(|w| w.register_workflow::<LongBudget>().register_activity(stamp));
    let h = client
        .start_workflow(long_budget, 0, WorkflowOptions::new("budget", QUEUE))
        .await
        .unwrap();
    // The activity is done and the run waits: its year-long
    // schedule-to-close deadline ended with it, so nothing is due.
    support::history_until(&h, |e| {
        matches!(e.attributes, EventAttributes::ActivityTaskCompleted { .. })
    })
    .await;
    // Two round trips: the engine has looped (and would have skipped) since.
    h.describe().await.unwrap();
    h.describe().await.unwrap();
    assert!(
        clock.skipped() < Duration::from_secs(1),
        "skipped {:?}",
        clock.skipped()
    );
    h.terminate("done").await.unwrap();
    worker.shutdown().await;
    engine.shutdown().await;
}
