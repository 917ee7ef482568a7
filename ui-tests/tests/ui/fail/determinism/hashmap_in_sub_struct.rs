use std::collections::HashMap;

#[derive(Default)]
struct Tally {
    counts: HashMap<String, u32>,
}

use weft::prelude::*;

#[workflow]
#[derive(Default)]
struct Flow {
    tally: Tally,
}

#[workflow]
impl Flow {
    #[run]
    async fn run(ctx: WorkflowContext<Self>, _input: ()) -> WorkflowResult<()> {
        let _keys: Vec<String> = ctx.state(|s| s.tally.counts.keys().cloned().collect());
        Ok(())
    }
}

fn main() {}
