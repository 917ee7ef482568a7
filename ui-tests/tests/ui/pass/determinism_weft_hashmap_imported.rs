//! `weft::collections::HashMap` imported by name is weft's map wherever it
//! is written: in a state field, a binding's type, a constructor and a
//! `collect`, and iterating it passes.

#![deny(warnings)]

use weft::collections::{HashMap, HashSet};
use weft::prelude::*;

type Index = HashMap<String, usize>;

#[derive(Default)]
struct Tally {
    counts: HashMap<String, u32>,
}

#[workflow]
#[derive(Default)]
struct Words {
    seen: HashSet<String>,
    index: Index,
    tally: Tally,
}

#[workflow]
impl Words {
    #[run]
    async fn run(ctx: WorkflowContext<Self>, words: Vec<String>) -> WorkflowResult<usize> {
        let mut counts: HashMap<String, u32> = HashMap::default();
        for word in &words {
            *counts.entry(word.clone()).or_default() += 1;
        }
        let index = words
            .iter()
            .enumerate()
            .map(|(i, w)| (w.clone(), i))
            .collect::<HashMap<_, _>>();
        let firsts: Index = index.clone();
        let total: u32 = counts.values().sum();
        ctx.state_mut(|s| {
            s.seen.extend(words.iter().cloned());
            for (word, count) in &counts {
                s.tally.counts.insert(word.clone(), *count);
            }
            s.index = firsts;
        });
        let keys = ctx.state(|s| s.tally.counts.keys().count());
        Ok(total as usize + keys + index.len())
    }

    #[signal]
    fn forget(&mut self, word: String) {
        self.seen.remove(&word);
        for (_, count) in self.tally.counts.iter_mut() {
            *count = 0;
        }
    }
}

fn main() {
    use weft::Workflow;
    assert_eq!(Words::NAME, "Words");
}
