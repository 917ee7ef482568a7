use std::collections::HashMap;

use weft::prelude::*;

#[workflow]
#[derive(Default)]
struct Tally {
    counts: HashMap<String, u32>,
}

#[workflow]
impl Tally {
    #[run]
    async fn run(ctx: WorkflowContext<Self>, word: String) -> WorkflowResult<u32> {
        Ok(ctx.state_mut(|s| {
            let count = s.counts.entry(word).or_default();
            *count += 1;
            *count
        }))
    }
}

fn main() {}
