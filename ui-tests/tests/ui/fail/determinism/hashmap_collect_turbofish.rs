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
        let _index = ["a", "b"].iter().enumerate().map(|(i, s)| (*s, i)).collect::<HashMap<_, _>>();
        Ok(())
    }
}

fn main() {}
