use std::collections::HashMap;

type Counts = HashMap<String, u32>;

use weft::prelude::*;

#[workflow]
#[derive(Default)]
struct Flow {
    counts: Counts,
}

#[workflow]
impl Flow {
    #[run]
    async fn run(ctx: WorkflowContext<Self>, _input: ()) -> WorkflowResult<()> {
        let _ = ctx;
        Ok(())
    }
}

fn main() {}
