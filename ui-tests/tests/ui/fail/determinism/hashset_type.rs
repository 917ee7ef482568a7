use weft::prelude::*;

#[workflow]
#[derive(Default)]
struct Flow;

#[workflow]
impl Flow {
    #[run]
    async fn run(ctx: WorkflowContext<Self>, _input: ()) -> WorkflowResult<()> {
        let _ = ctx;
        let seen: std::collections::HashSet<u32> = [1, 2].into_iter().collect();
        assert_eq!(seen.len(), 2);
        Ok(())
    }
}

fn main() {}
