use std::collections::HashMap;

#[derive(Default)]
struct Tally {
    counts: HashMap<String, u32>,
}

use weft::prelude::*;

#[workflow]
#[derive(Default)]
struct Flow {
    tally: Tally,
    order: Vec<String>,
}

#[workflow]
impl Flow {
    #[run]
    async fn run(ctx: WorkflowContext<Self>, _input: ()) -> WorkflowResult<()> {
        let _ = ctx;
        Ok(())
    }

    #[signal]
    fn snapshot(&mut self) {
        for (word, _) in &self.tally.counts {
            self.order.push(word.clone());
        }
    }
}

fn main() {}
