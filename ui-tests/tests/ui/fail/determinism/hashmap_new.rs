use weft::prelude::*;
use std::collections::HashMap;
#[workflow]
#[derive(Default)]
struct Flow;

#[workflow]
impl Flow {
    #[run]
    async fn run(ctx: WorkflowContext<Self>, _input: ()) -> WorkflowResult<()> {
        let _ = ctx;
        let mut seen = HashMap::new();
        seen.insert("a", 1);
        Ok(())
    }
}

fn main() {}
