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
                .activity(step, i)
                .start_to_close_timeout(Duration::from_secs(10))
                .await?;
            if i == steps / 2 {
                total += ctx
                    .local_activity(double, i)
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
    let mut worker = Worker::new(client, TASK_QUEUE);
    worker
        .register_workflow::<CrashFlow>()
        .register_activity(step)
        .register_activity(double);
    worker
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
        ctx.wait_condition(move |s| s.signals >= signals).await;
        ctx.all_handlers_finished().await;
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
    let mut worker = Worker::new(client, TASK_QUEUE);
    worker.register_workflow::<Tally>();
    worker
}
