use weft::prelude::*;

/// A marked helper's awaits are checked like the run fn's.
#[weft::deterministic]
async fn lookup(ctx: &WorkflowContext<Flow>, key: u32) -> u32 {
    ctx.sleep(Duration::from_secs(1)).await;
    std::future::ready(key * 2).await
}

#[workflow]
#[derive(Default)]
struct Flow;

#[workflow]
impl Flow {
    #[run]
    async fn run(ctx: WorkflowContext<Self>, key: u32) -> WorkflowResult<u32> {
        Ok(lookup(&ctx, key).await)
    }
}

fn main() {}
