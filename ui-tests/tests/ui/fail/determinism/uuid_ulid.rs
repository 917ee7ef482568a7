/// Stands for the `ulid` crate.
mod ulid {
    pub struct Ulid;
    impl Ulid {
        pub fn new() -> Self {
            Ulid
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
        let _id = ulid::Ulid::new();
        Ok(())
    }
}

fn main() {}
