use weft::prelude::*;

#[workflow]
#[derive(Default)]
struct Flow;

#[workflow]
impl Flow {
    #[run]
    async fn run(ctx: WorkflowContext<Self>, _input: ()) -> WorkflowResult<()> {
        let _ = ctx;
        let read_clock = std::time::SystemTime::now;
        let _started = read_clock();
        Ok(())
    }
}

fn main() {}
