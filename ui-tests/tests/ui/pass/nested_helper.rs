//! A helper nested in the run fn is marked on its own; the run fn's check
//! leaves it to that attribute.

use weft::prelude::*;

#[workflow]
#[derive(Default)]
struct Nested;

#[workflow]
impl Nested {
    #[run]
    async fn run(ctx: WorkflowContext<Self>, n: u64) -> WorkflowResult<u64> {
        #[weft::deterministic]
        async fn wait(ctx: &WorkflowContext<Nested>, millis: u64) -> u64 {
            let _ = ctx.sleep(Duration::from_millis(millis)).await;
            millis
        }

        let waited = wait(&ctx, n).await;
        let twice = async { wait(&ctx, n).await + waited };
        Ok(twice.await)
    }
}

fn main() {
    use weft::Workflow;
    assert_eq!(Nested::NAME, "Nested");
}
