use weft::prelude::*;

#[workflow]
#[derive(Default)]
struct Flow;

#[workflow]
impl Flow {
    #[run]
    async fn run(ctx: WorkflowContext<Self>, _input: ()) -> WorkflowResult<()> {
        let (_, _) = weft::workflow::join(ctx.sleep(Duration::from_secs(1)), async {
            tokio::time::sleep(Duration::from_secs(1)).await;
        })
        .await;
        Ok(())
    }
}

fn main() {}
