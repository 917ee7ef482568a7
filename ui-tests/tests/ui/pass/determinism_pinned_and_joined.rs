//! Pinning and joining weft's futures keeps them deterministic: awaiting
//! `Box::pin(ctx.sleep(..))`, a `std::pin::pin!` of a timer, a timer kept
//! and awaited through `(&mut fut)`, and `futures::future::join_all` over
//! activities. Warning-free: the rewrite of `(&mut fut).await` adds no
//! parentheses of its own.

#![deny(warnings)]

use weft::prelude::*;

#[activity]
async fn double(n: u32) -> Result<u32, ApplicationError> {
    Ok(n * 2)
}

#[workflow]
#[derive(Default)]
struct Pinned;

#[workflow]
impl Pinned {
    #[run]
    async fn run(ctx: WorkflowContext<Self>, items: Vec<u32>) -> WorkflowResult<u32> {
        Box::pin(ctx.sleep(Duration::from_millis(1))).await?;
        let pinned = std::pin::pin!(ctx.sleep(Duration::from_millis(1)));
        pinned.await?;
        let mut kept = Box::pin(ctx.sleep(Duration::from_millis(1)));
        (&mut kept).await?;
        let calls = items.iter().map(|&n| {
            ctx.activity(DOUBLE, n)
                .start_to_close_timeout(Duration::from_secs(5))
                .into_future()
        });
        let doubled = futures::future::join_all(calls).await;
        let doubled: Vec<u32> = doubled.into_iter().collect::<Result<_, _>>()?;
        Ok(doubled.iter().sum())
    }
}

fn main() {
    use weft::Workflow;
    assert_eq!(Pinned::NAME, "Pinned");
}
