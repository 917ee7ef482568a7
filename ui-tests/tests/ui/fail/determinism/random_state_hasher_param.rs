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
        let _map: HashMap<u8, u8, std::hash::RandomState> = HashMap::default();
        Ok(())
    }
}

fn main() {}
