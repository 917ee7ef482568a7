use weft::prelude::*;

#[workflow]
#[derive(Default)]
struct Shop;

#[workflow]
impl Shop {
    #[run]
    async fn run(_ctx: WorkflowContext<Self>, amount: u32) -> WorkflowResult<u32> {
        Ok(amount)
    }

    #[run]
    async fn run_again(_ctx: WorkflowContext<Self>, amount: u32) -> WorkflowResult<u32> {
        Ok(amount)
    }
}

fn main() {}
