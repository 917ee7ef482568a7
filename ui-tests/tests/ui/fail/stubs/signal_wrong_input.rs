//! The typed signal stub takes the handler's input type: a wrong argument
//! is reported at the caller's argument.

use serde::{Deserialize, Serialize};
use weft::prelude::*;

#[derive(Serialize, Deserialize)]
struct AddPoints {
    points: u32,
}

#[workflow]
#[derive(Default)]
struct Game {
    score: u32,
}

#[workflow]
impl Game {
    #[run]
    async fn run(_ctx: WorkflowContext<Self>, _input: ()) -> WorkflowResult<u32> {
        Ok(0)
    }

    #[signal]
    fn add_points(&mut self, input: AddPoints) {
        self.score += input.points;
    }
}

async fn play(handle: &weft::WorkflowHandle<Game>) {
    let _ = handle.add_points("x").await;
}

fn main() {
    let _ = play;
}
