/// Stands for the `uuid` crate.
mod uuid {
    pub struct Uuid;
    impl Uuid {
        pub fn now_v7() -> Self {
            Uuid
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
        let _id = uuid::Uuid::now_v7();
        Ok(())
    }
}

fn main() {}
