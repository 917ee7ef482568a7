use weft::prelude::*;

macro_rules! once {
    ($e:expr) => {
        $e
    };
}
#[workflow]
#[derive(Default)]
struct Flow;

#[workflow]
impl Flow {
    #[run]
    async fn run(ctx: WorkflowContext<Self>, _input: ()) -> WorkflowResult<()> {
        let _ = once!(ctx.sleep(Duration::from_secs(1)).await);
        Ok(())
    }
}

fn main() {}
