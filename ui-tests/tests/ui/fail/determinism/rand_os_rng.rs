/// Stands for `rand::rngs::OsRng`.
struct OsRng;
impl OsRng {
    fn next(&self) -> u32 {
        4
    }
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
        let _bits = OsRng.next();
        Ok(())
    }
}

fn main() {}
