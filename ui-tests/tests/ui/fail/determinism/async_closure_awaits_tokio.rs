use weft::prelude::*;

#[workflow]
#[derive(Default)]
struct Flow;

#[workflow]
impl Flow {
    #[run]
    async fn run(ctx: WorkflowContext<Self>, _input: ()) -> WorkflowResult<()> {
        let _ = ctx;
        let _wait = async |secs: u64| {
            tokio::time::sleep(Duration::from_secs(secs)).await;
        };
        Ok(())
    }
}

fn main() {}
