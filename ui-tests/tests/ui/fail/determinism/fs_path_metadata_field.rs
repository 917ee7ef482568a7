use weft::prelude::*;

#[workflow]
#[derive(Default)]
struct Flow {
    dir: std::path::PathBuf,
}

#[workflow]
impl Flow {
    #[run]
    async fn run(ctx: WorkflowContext<Self>, _input: ()) -> WorkflowResult<()> {
        let _size = ctx.state(|s| s.dir.metadata().map(|m| m.len()));
        Ok(())
    }
}

fn main() {}
