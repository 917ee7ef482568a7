use weft::prelude::*;

/// Stands in for the rand crate: the check is syntactic.
mod rand {
    pub fn random<T: Default>() -> T {
        T::default()
    }
}
#[workflow]
#[derive(Default)]
struct Flow;

#[workflow]
impl Flow {
    #[run]
    async fn run(ctx: WorkflowContext<Self>, _input: ()) -> WorkflowResult<()> {
        let _ = ctx;
        let _roll: u8 = rand::random();
        Ok(())
    }
}

fn main() {}
