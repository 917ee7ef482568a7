use weft::prelude::*;

#[workflow]
struct Shop(u64);

#[workflow]
impl Shop {
    #[init]
    fn new(input: &u64) -> Self {
        Shop(*input)
    }

    #[run]
    async fn run(ctx: WorkflowContext<Self>, amount: u32) -> WorkflowResult<u64> {
        Ok(ctx.state(|s| s.0) + u64::from(amount))
    }
}

fn main() {}
