use weft::prelude::*;

#[workflow]
#[derive(Default)]
struct Flow;

#[workflow]
impl Flow {
    #[run]
    async fn run(ctx: WorkflowContext<Self>, _input: ()) -> WorkflowResult<()> {
        let (_, _) = tokio::join!(ctx.sleep(Duration::from_secs(1)), ctx.sleep(Duration::from_secs(2)));
        Ok(())
    }
}

fn main() {}
