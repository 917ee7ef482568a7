use std::collections::HashMap;

use weft::prelude::*;

#[workflow]
#[derive(Default)]
struct Flow;

#[workflow]
impl Flow {
    #[run]
    async fn run(ctx: WorkflowContext<Self>, _input: ()) -> WorkflowResult<()> {
        let _ = ctx;
        let _index: HashMap<_, _> = [("a", 1)].into_iter().collect();
        Ok(())
    }
}

fn main() {}
