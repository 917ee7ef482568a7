macro_rules! stamp {
    () => {
        std::time::SystemTime::now()
    };
}

use weft::prelude::*;

#[workflow]
#[derive(Default)]
struct Flow;

#[workflow]
impl Flow {
    #[run]
    async fn run(ctx: WorkflowContext<Self>, _input: ()) -> WorkflowResult<()> {
        let _ = ctx;
        let _started = stamp!();
        Ok(())
    }
}

fn main() {}
