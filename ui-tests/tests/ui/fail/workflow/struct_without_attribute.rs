use std::collections::HashMap;

use weft::prelude::*;

// The struct lacks #[workflow]: its field would go unchecked.
#[derive(Default)]
struct Tally {
    seen: HashMap<String, u32>,
}

#[workflow]
impl Tally {
    #[run]
    async fn run(ctx: WorkflowContext<Self>, input: String) -> WorkflowResult<u32> {
        Ok(ctx.state_mut(|s| {
            let n = s.seen.entry(input).or_default();
            *n += 1;
            *n
        }))
    }
}

fn main() {}
