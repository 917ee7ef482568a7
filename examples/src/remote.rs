//! The workload of the remote-worker tests (not an example): workflows
//! whose activities say which worker process ran them, so tests with
//! several worker processes on one task queue can tell who did what.

use std::io::Write;

use weft::prelude::*;
use weft::workflow::join_all;

/// Task queue the test workers share.
pub const TASK_QUEUE: &str = "remote-shared";

/// Environment variable naming a worker process in its activities' results.
pub const WORKER_ENV: &str = "WEFT_WORKER_NAME";

fn worker_name() -> String {
    std::env::var(WORKER_ENV).unwrap_or_else(|_| format!("pid {}", std::process::id()))
}

fn announce(line: &str) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    out.write_all(line.as_bytes())?;
    out.flush()
}

/// Prints `started <workflow id> <activity id> <attempt>` (so a test knows
/// the attempt is under way in this process), works for `millis` on its
/// first attempt (later attempts return at once: a retry after a killed
/// worker need not wait again), and returns the worker's name.
#[activity]
pub async fn labour(ctx: ActivityContext, millis: u64) -> Result<String, ApplicationError> {
    let info = ctx.info();
    let line = format!(
        "started {} {} {}\n",
        info.workflow_id, info.activity_id, info.attempt
    );
    announce(&line).map_err(|e| ApplicationError::new(format!("stdout: {e}")))?;
    if info.attempt == 1 {
        tokio::time::sleep(Duration::from_millis(millis)).await;
    }
    Ok(worker_name())
}

/// Runs one `labour` activity per entry of its input, all at once, and
/// returns the worker names in input order.
#[workflow]
#[derive(Default)]
pub struct Shared;

#[workflow]
impl Shared {
    #[run]
    pub async fn run(ctx: WorkflowContext<Self>, millis: Vec<u64>) -> WorkflowResult<Vec<String>> {
        let calls = millis.into_iter().map(|ms| {
            ctx.activity(LABOUR, ms)
                .start_to_close_timeout(Duration::from_secs(3))
                .retry_policy(RetryPolicy {
                    initial_interval: Duration::from_millis(200),
                    ..RetryPolicy::default()
                })
                .into_future()
        });
        Ok(join_all(calls)
            .await
            .into_iter()
            .collect::<Result<Vec<_>, _>>()?)
    }
}

/// A worker for the shared queue.
pub fn worker(client: &Client) -> Worker {
    Worker::new(client, TASK_QUEUE)
        .register_workflow::<Shared>()
        .register_activity(LABOUR)
}
