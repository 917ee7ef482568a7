/// Stands for the `rand` 0.9 crate: the check reads the path as written.
mod rand {
    pub fn random_range(range: std::ops::Range<u32>) -> u32 {
        range.start
    }
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
        let _roll = rand::random_range(1..7);
        Ok(())
    }
}

fn main() {}
