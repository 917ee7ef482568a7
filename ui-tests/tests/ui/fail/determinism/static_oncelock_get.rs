use std::sync::OnceLock;

static REGION: OnceLock<String> = OnceLock::new();

use weft::prelude::*;

#[workflow]
#[derive(Default)]
struct Flow;

#[workflow]
impl Flow {
    #[run]
    async fn run(ctx: WorkflowContext<Self>, _input: ()) -> WorkflowResult<()> {
        let _ = ctx;
        let _region = REGION.get();
        Ok(())
    }
}

fn main() {}
