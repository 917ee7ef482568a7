use weft::prelude::*;

/// Not serde-serializable: the workflow result is stored in history.
pub struct Receipt {
    pub amount: u32,
}

#[workflow]
#[derive(Default)]
struct Shop;

#[workflow]
impl Shop {
    #[run]
    async fn run(_ctx: WorkflowContext<Self>, amount: u32) -> WorkflowResult<Receipt> {
        Ok(Receipt { amount })
    }
}

fn main() {}
