//! The typed update stub takes the handler's input type.

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

    #[update]
    fn add_points(&mut self, input: AddPoints) -> Result<u32, ApplicationError> {
        self.score += input.points;
        Ok(self.score)
    }
}

async fn play(handle: &weft::WorkflowHandle<Game>) {
    let _ = handle.add_points(5).await;
}

fn main() {
    let _ = play;
}
