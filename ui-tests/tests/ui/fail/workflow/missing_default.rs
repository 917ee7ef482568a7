use weft::prelude::*;

#[workflow]
struct Shop {
    ordered: u32,
}

#[workflow]
impl Shop {
    #[run]
    async fn run(ctx: WorkflowContext<Self>, amount: u32) -> WorkflowResult<u32> {
        Ok(ctx.state(|s| s.ordered) + amount)
    }
}

fn main() {}
