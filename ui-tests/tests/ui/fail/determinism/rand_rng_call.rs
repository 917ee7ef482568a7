use weft::prelude::*;

/// Stands in for `use rand::rng;`: the check is syntactic.
fn rng() -> u64 {
    4
}
#[workflow]
#[derive(Default)]
struct Flow;

#[workflow]
impl Flow {
    #[run]
    async fn run(ctx: WorkflowContext<Self>, _input: ()) -> WorkflowResult<()> {
        let _ = ctx;
        let _source = rng();
        Ok(())
    }
}

fn main() {}
