use weft::prelude::*;

/// Stands in for `use uuid::Uuid;`: the check is syntactic.
struct Uuid;
impl Uuid {
    fn new_v4() -> Self {
        Uuid
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
        let _id = Uuid::new_v4();
        Ok(())
    }
}

fn main() {}
