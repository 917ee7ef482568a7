//! The typed query stub returns the handler's answer type.

use weft::prelude::*;

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

    #[query]
    fn leader(&self) -> String {
        format!("{} points", self.score)
    }
}

async fn look(handle: &weft::WorkflowHandle<Game>) -> Result<(), weft::ClientError> {
    let score: u32 = handle.leader().await?;
    let _ = score;
    Ok(())
}

fn main() {
    let _ = look;
}
