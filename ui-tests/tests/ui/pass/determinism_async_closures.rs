//! An async closure bound by `let` whose awaits are weft's may be awaited,
//! spawned and joined like an async block: its body's awaits are checked
//! where it is written.

#![deny(warnings)]

use weft::prelude::*;
use weft::workflow::join;

#[workflow]
#[derive(Default)]
struct Closures;

#[workflow]
impl Closures {
    #[run]
    async fn run(ctx: WorkflowContext<Self>, n: u64) -> WorkflowResult<u64> {
        let wait = async |millis: u64| {
            let _ = ctx.sleep(Duration::from_millis(millis)).await;
            millis
        };
        let first = wait(n).await;
        let (a, b) = join(wait(1), wait(2)).await;
        let twice = async move |by: u64| by * 2;
        let doubled = twice(first).await;
        let spawned = ctx.spawn(twice(a + b));
        Ok(doubled + spawned.await)
    }
}

fn main() {
    use weft::Workflow;
    assert_eq!(Closures::NAME, "Closures");
}
