use weft::prelude::*;

#[workflow]
#[derive(Default)]
struct Flow;

#[workflow]
impl Flow {
    #[run]
    async fn run(ctx: WorkflowContext<Self>, _input: ()) -> WorkflowResult<()> {
        let _ = ctx;
        let _ = tokio::time::timeout(Duration::from_secs(1), std::future::ready(())).await;
        Ok(())
    }
}

fn main() {}
