use weft::prelude::*;

#[workflow]
#[derive(Default)]
struct Flow;

#[workflow]
impl Flow {
    #[run]
    async fn run(ctx: WorkflowContext<Self>, _input: ()) -> WorkflowResult<()> {
        let _ = ctx;
        macro_rules! stamp {
            () => {
                std::time::SystemTime::now()
            };
        }
        let _started = stamp!();
        Ok(())
    }
}

fn main() {}
