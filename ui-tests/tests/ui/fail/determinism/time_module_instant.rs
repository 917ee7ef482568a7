use weft::prelude::*;
use std::time;
#[workflow]
#[derive(Default)]
struct Flow;

#[workflow]
impl Flow {
    #[run]
    async fn run(ctx: WorkflowContext<Self>, _input: ()) -> WorkflowResult<()> {
        let _ = ctx;
        let _started = time::Instant::now();
        Ok(())
    }
}

fn main() {}
