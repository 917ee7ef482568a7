use weft::prelude::*;

async fn add_later(a: u32, b: u32) -> u32 {
    a + b
}

#[workflow]
#[derive(Default)]
struct Flow;

#[workflow]
impl Flow {
    #[run]
    async fn run(ctx: WorkflowContext<Self>, _input: ()) -> WorkflowResult<()> {
        let _ = ctx;
        let total = add_later(1, 2).await;
        assert_eq!(total, 3);
        Ok(())
    }
}

fn main() {}
