//! A workload for crash tests: workflows that run counted activities, a
//! local activity and a timer. Every activity execution is appended (and
//! synced) to a side file before it returns, so a test can tell which ran
//! more than once.

use std::io::Write;
use std::path::PathBuf;

use weft::prelude::*;

/// Task queue of the crash workload.
pub const TASK_QUEUE: &str = "crash";

/// Environment variable naming the side file.
pub const SIDE_FILE_ENV: &str = "WEFT_CRASH_SIDE_FILE";

/// Environment variable naming this process's generation (1 before the kill, 2 after).
pub const GENERATION_ENV: &str = "WEFT_CRASH_GENERATION";

fn record(line: &str) -> Result<(), ApplicationError> {
    let path = std::env::var_os(SIDE_FILE_ENV)
        .map(PathBuf::from)
        .ok_or_else(|| {
            ApplicationError::new(format!("{SIDE_FILE_ENV} is not set")).non_retryable()
        })?;
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)?;
    file.write_all(line.as_bytes())?;
    file.sync_all()?;
    Ok(())
}

/// Adds `i` to nothing in particular: its value is `i * 10`; its execution is counted.
#[activity]
pub async fn step(ctx: ActivityContext, i: u32) -> Result<u32, ApplicationError> {
    let info = ctx.info();
    let generation = std::env::var(GENERATION_ENV).unwrap_or_default();
    record(&format!(
        "{} {} {} {generation}\n",
        info.workflow_id, info.activity_id, info.attempt
    ))?;
    println!("ran {} {}", info.workflow_id, info.activity_id);
    Ok(i * 10)
}

/// A local activity: doubles its input.
#[activity]
pub fn double(x: u32) -> Result<u32, ApplicationError> {
    Ok(x * 2)
}

/// Runs `steps` activities one after another, with a local activity and a
/// short timer in the middle; returns the sum of the results.
#[workflow]
#[derive(Default)]
pub struct CrashFlow;

#[workflow]
impl CrashFlow {
    #[run]
    pub async fn run(ctx: WorkflowContext<Self>, steps: u32) -> WorkflowResult<u32> {
        let mut total = 0;
        for i in 1..=steps {
            total += ctx
                .activity(STEP, i)
                .start_to_close_timeout(Duration::from_secs(10))
                .await?;
            if i == steps / 2 {
                total += ctx
                    .local_activity(DOUBLE, i)
                    .start_to_close_timeout(Duration::from_secs(5))
                    .await?;
                ctx.sleep(Duration::from_millis(20)).await?;
            }
        }
        Ok(total)
    }
}

/// The value `CrashFlow` must return for `steps`.
pub fn expected(steps: u32) -> u32 {
    (1..=steps).map(|i| i * 10).sum::<u32>() + (steps / 2) * 2
}

/// A worker for the crash workload.
pub fn worker(client: &Client) -> Worker {
    Worker::new(client, TASK_QUEUE)
        .register_workflow::<CrashFlow>()
        .register_activity(STEP)
        .register_activity(DOUBLE)
}

/// A tally changed by signals and updates, for the crash test of messages.
#[workflow]
#[derive(Default)]
pub struct Tally {
    total: i64,
    signals: u32,
}

#[workflow]
impl Tally {
    /// Ends once `signals` signals have arrived; returns the total.
    #[run]
    pub async fn run(ctx: WorkflowContext<Self>, signals: u32) -> WorkflowResult<i64> {
        ctx.wait_condition(move |s| s.signals >= signals).await?;
        ctx.all_handlers_finished().await?;
        Ok(ctx.state(|s| s.total))
    }

    #[signal]
    fn add(&mut self, n: i64) {
        self.total += n;
        self.signals += 1;
    }

    #[update]
    fn add_now(&mut self, n: i64) -> Result<i64, ApplicationError> {
        self.total += n;
        Ok(self.total)
    }
}

/// A worker for the tally.
pub fn tally_worker(client: &Client) -> Worker {
    Worker::new(client, TASK_QUEUE).register_workflow::<Tally>()
}

/// Sleeps `millis` on a durable timer; returns the workflow time it slept, in ms.
#[workflow]
#[derive(Default)]
pub struct Nap;

#[workflow]
impl Nap {
    #[run]
    pub async fn run(ctx: WorkflowContext<Self>, millis: u64) -> WorkflowResult<u64> {
        let start = ctx.now();
        ctx.sleep(Duration::from_millis(millis)).await?;
        let slept = ctx.now().duration_since(start);
        Ok(u64::try_from(slept.as_millis()).unwrap_or(u64::MAX))
    }
}

/// Counts from the last heartbeat's details (0 on a first attempt) to `n`,
/// heartbeating each number and pausing 50 ms; every beat is recorded in
/// the side file (`beat <i> <generation>`) and printed. Returns where this
/// attempt started.
#[activity]
pub async fn count_beats(ctx: ActivityContext, n: u32) -> Result<u32, Failure> {
    let start = ctx.heartbeat_details::<u32>()?.unwrap_or(0);
    let generation = std::env::var(GENERATION_ENV).unwrap_or_default();
    for i in start..n {
        ctx.heartbeat(&i)?;
        record(&format!("beat {i} {generation}\n"))?;
        println!("beat {i}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Ok(start)
}

/// Runs `count_beats` with a 200 ms heartbeat timeout.
#[workflow]
#[derive(Default)]
pub struct Beats;

#[workflow]
impl Beats {
    #[run]
    pub async fn run(ctx: WorkflowContext<Self>, n: u32) -> WorkflowResult<u32> {
        Ok(ctx
            .activity(COUNT_BEATS, n)
            .start_to_close_timeout(Duration::from_secs(60))
            .heartbeat_timeout(Duration::from_millis(200))
            .retry_policy(RetryPolicy::default().with_initial_interval(Duration::from_millis(50)))
            .await?)
    }
}

/// A worker for the timer and heartbeat crash workloads.
pub fn timing_worker(client: &Client) -> Worker {
    Worker::new(client, TASK_QUEUE)
        .register_workflow::<Nap>()
        .register_workflow::<Beats>()
        .register_activity(COUNT_BEATS)
}
