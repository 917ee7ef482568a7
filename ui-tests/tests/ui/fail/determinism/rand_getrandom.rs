/// Stands for the `getrandom` crate.
mod getrandom {
    pub fn fill(_: &mut [u8]) {}
}

use weft::prelude::*;

#[workflow]
#[derive(Default)]
struct Flow;

#[workflow]
impl Flow {
    #[run]
    async fn run(ctx: WorkflowContext<Self>, _input: ()) -> WorkflowResult<()> {
        let _ = ctx;
        let mut buf = [0_u8; 8];
        getrandom::fill(&mut buf);
        Ok(())
    }
}

fn main() {}
