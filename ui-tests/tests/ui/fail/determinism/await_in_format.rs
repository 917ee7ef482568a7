use weft::prelude::*;

#[workflow]
#[derive(Default)]
struct Flow;

#[workflow]
impl Flow {
    #[run]
    async fn run(ctx: WorkflowContext<Self>, _input: ()) -> WorkflowResult<()> {
        let _ = ctx;
        println!("{:?}", tokio::time::sleep(Duration::from_secs(1)).await);
        Ok(())
    }
}

fn main() {}
