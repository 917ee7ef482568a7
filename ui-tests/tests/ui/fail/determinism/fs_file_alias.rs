use std::fs::File as Handle;

use weft::prelude::*;

#[workflow]
#[derive(Default)]
struct Flow;

#[workflow]
impl Flow {
    #[run]
    async fn run(ctx: WorkflowContext<Self>, _input: ()) -> WorkflowResult<()> {
        let _ = ctx;
        let _file = Handle::open("config.toml").ok();
        Ok(())
    }
}

fn main() {}
