use weft::prelude::*;

/// Stands in for the chrono crate: the check is syntactic.
mod chrono {
    pub struct Utc;
    impl Utc {
        pub fn now() -> u64 {
            0
        }
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
        let _today = chrono::Utc::now();
        Ok(())
    }
}

fn main() {}
