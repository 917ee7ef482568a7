//! A future weft cannot check may be awaited through the loudly named
//! escape hatch.

use weft::prelude::*;

#[workflow]
#[derive(Default)]
struct Hatch;

#[workflow]
impl Hatch {
    #[run]
    async fn run(ctx: WorkflowContext<Self>, n: u32) -> WorkflowResult<u32> {
        let _ = ctx;
        let ready = weft::i_promise_this_is_deterministic(std::future::ready(n + 1)).await;
        Ok(ready)
    }
}

fn main() {
    use weft::Workflow;
    assert_eq!(Hatch::NAME, "Hatch");
}
