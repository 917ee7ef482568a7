use weft::prelude::*;

#[activity]
async fn order(amount: u32) -> Result<String, ApplicationError> {
    Ok(format!("Ordered {amount}"))
}

#[workflow]
#[derive(Default)]
struct Shop;

#[workflow]
impl Shop {
    #[run]
    async fn run(ctx: WorkflowContext<Self>, amount: u32) -> WorkflowResult<String> {
        Ok(ctx
            .activity(order, amount)
            .start_to_close_timeout(Duration::from_secs(1))
            .await?)
    }
}

fn main() {}
