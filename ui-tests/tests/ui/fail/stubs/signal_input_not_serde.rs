//! A signal input that is not serde-serializable is reported at the type:
//! by the payload check, and by the decoding and the client stub's
//! `WorkflowHandle::signal`, which need the serde traits themselves.

use weft::prelude::*;

pub struct Points {
    pub n: u32,
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
    fn add(&mut self, points: Points) {
        self.score += points.n;
    }
}

fn main() {}
