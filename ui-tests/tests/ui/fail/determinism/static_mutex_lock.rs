use std::sync::Mutex;

static CACHE: Mutex<Vec<u32>> = Mutex::new(Vec::new());

use weft::prelude::*;

#[workflow]
#[derive(Default)]
struct Flow;

#[workflow]
impl Flow {
    #[run]
    async fn run(ctx: WorkflowContext<Self>, _input: ()) -> WorkflowResult<()> {
        let _ = ctx;
        let _seen = CACHE.lock().map(|c| c.len());
        Ok(())
    }
}

fn main() {}
