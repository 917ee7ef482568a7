use weft::prelude::*;

#[workflow]
#[derive(Default)]
struct Flow;

#[workflow]
impl Flow {
    #[run]
    async fn run(ctx: WorkflowContext<Self>, _input: ()) -> WorkflowResult<()> {
        let _ = ctx;
        std::thread::sleep(Duration::from_millis(10));
        Ok(())
    }
}

fn main() {}
