macro_rules! twice {
    ($n:expr) => {
        $n * 2
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
        let _total = twice!(21);
        Ok(())
    }
}

fn main() {}
