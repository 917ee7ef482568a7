use std::collections::hash_map::RandomState as Seed;

use weft::prelude::*;

#[workflow]
#[derive(Default)]
struct Flow;

#[workflow]
impl Flow {
    #[run]
    async fn run(ctx: WorkflowContext<Self>, _input: ()) -> WorkflowResult<()> {
        let _ = ctx;
        let _seed = Seed::new();
        Ok(())
    }
}

fn main() {}
