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
    async fn run(ctx: WorkflowContext<Self>, _input: ()) -> WorkflowResult<u64> {
        let count: u64 = ctx
            .activity(ORDER, 3)
            .start_to_close_timeout(Duration::from_secs(1))
            .await?;
        Ok(count)
    }
}

fn main() {}
