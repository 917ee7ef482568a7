//! Workflow code that awaits only weft's futures compiles: activities,
//! timers, `join`/`join_all`, and async blocks whose awaits are checked.

use weft::prelude::*;
use weft::workflow::{join, join_all};

#[activity]
async fn double(n: u32) -> Result<u32, ApplicationError> {
    Ok(n * 2)
}

#[workflow]
#[derive(Default)]
struct Batch {
    started_secs: u64,
}

#[workflow]
impl Batch {
    #[run]
    async fn run(ctx: WorkflowContext<Self>, items: Vec<u32>) -> WorkflowResult<u32> {
        let started = ctx.now();
        ctx.state_mut(|s| {
            s.started_secs = u64::try_from(started.unix_seconds()).unwrap_or(0)
        });
        ctx.sleep(Duration::from_millis(10)).await?;
        let calls = items.iter().map(|&n| {
            ctx.activity(DOUBLE, n)
                .start_to_close_timeout(Duration::from_secs(5))
                .into_future()
        });
        let doubled: Vec<u32> = join_all(calls).await.into_iter().collect::<Result<_, _>>()?;
        // An async block is vouched for once its awaits are checked.
        let (first, ()) = join(
            async {
                ctx.activity(DOUBLE, 1)
                    .start_to_close_timeout(Duration::from_secs(5))
                    .await
            },
            async {
                let _ = ctx.sleep(Duration::from_millis(5)).await;
            },
        )
        .await;
        Ok(doubled.iter().sum::<u32>() + first?)
    }
}

fn main() {
    use weft::Workflow;
    assert_eq!(Batch::NAME, "Batch");
}
