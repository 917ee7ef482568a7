use weft::prelude::*;

#[derive(Default)]
struct Shop;

impl Shop {
    #[run]
    async fn run(_ctx: WorkflowContext<Self>, amount: u32) -> WorkflowResult<u32> {
        Ok(amount)
    }
}

fn main() {}
