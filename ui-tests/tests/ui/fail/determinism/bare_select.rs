use weft::prelude::*;
use tokio::select;
#[workflow]
#[derive(Default)]
struct Flow;

#[workflow]
impl Flow {
    #[run]
    async fn run(ctx: WorkflowContext<Self>, _input: ()) -> WorkflowResult<()> {
        select! {
            _ = ctx.sleep(Duration::from_secs(1)) => {}
            _ = ctx.sleep(Duration::from_secs(2)) => {}
        }
        Ok(())
    }
}

fn main() {}
