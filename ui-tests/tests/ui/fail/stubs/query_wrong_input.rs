//! The typed query stub takes the handler's input type.

use serde::{Deserialize, Serialize};
use weft::prelude::*;

#[derive(Clone, Serialize, Deserialize)]
struct Entry {
    points: u32,
}

#[workflow]
#[derive(Default)]
struct Game {
    entries: Vec<Entry>,
}

#[workflow]
impl Game {
    #[run]
    async fn run(_ctx: WorkflowContext<Self>, _input: ()) -> WorkflowResult<u32> {
        Ok(0)
    }

    #[query(name = "entry")]
    fn entry_at(&self, index: usize) -> Option<Entry> {
        self.entries.get(index).cloned()
    }
}

async fn look(handle: &weft::WorkflowHandle<Game>) {
    let _ = handle.entry_at("first").await;
}

fn main() {
    let _ = look;
}
