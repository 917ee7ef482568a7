use weft::prelude::*;

#[workflow]
#[derive(Default)]
struct Flow;

#[workflow]
impl Flow {
    #[run]
    async fn run(ctx: WorkflowContext<Self>, _input: ()) -> WorkflowResult<()> {
        let _ = ctx;
        static mut CALLS: u32 = 0;
        Ok(())
    }
}

fn main() {}
