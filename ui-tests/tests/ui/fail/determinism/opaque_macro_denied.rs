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
        let _ = ctx;
        let _started = once!(std::time::SystemTime::now());
        Ok(())
    }
}

fn main() {}
