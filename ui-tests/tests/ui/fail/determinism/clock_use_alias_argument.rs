use std::time::Instant as Stopwatch;
use Stopwatch as Clock;

use weft::prelude::*;

#[workflow]
#[derive(Default)]
struct Flow;

#[workflow]
impl Flow {
    #[run]
    async fn run(ctx: WorkflowContext<Self>, _input: ()) -> WorkflowResult<()> {
        let _ = ctx;
        let _stamps = vec![Clock::now()];
        Ok(())
    }
}

fn main() {}
