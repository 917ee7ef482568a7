use weft::prelude::*;

/// Not serde-serializable: the workflow input is stored in history.
pub struct Order {
    pub amount: u32,
}

#[workflow]
#[derive(Default)]
struct Shop;

#[workflow]
impl Shop {
    #[run]
    async fn run(_ctx: WorkflowContext<Self>, order: Order) -> WorkflowResult<u32> {
        Ok(order.amount)
    }
}

fn main() {}
