use std::hash::{BuildHasher, RandomState};

use weft::prelude::*;

#[workflow]
#[derive(Default)]
struct Flow;

#[workflow]
impl Flow {
    #[run]
    async fn run(ctx: WorkflowContext<Self>, _input: ()) -> WorkflowResult<()> {
        let _ = ctx;
        let _hash = RandomState::default().hash_one("key");
        Ok(())
    }
}

fn main() {}
