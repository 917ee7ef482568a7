use weft::prelude::*;

#[workflow]
#[derive(Default)]
struct Shop;

#[workflow]
impl Shop {
    async fn run(_ctx: WorkflowContext<Self>, amount: u32) -> WorkflowResult<u32> {
        Ok(amount)
    }
}

fn main() {}
