/// Stands for the `jiff` crate: the check reads the path as written.
mod jiff {
    pub struct Timestamp;
    impl Timestamp {
        pub fn now() -> Self {
            Timestamp
        }
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
        let _today = jiff::Timestamp::now();
        Ok(())
    }
}

fn main() {}
