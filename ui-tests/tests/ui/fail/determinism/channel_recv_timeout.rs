use weft::prelude::*;

#[workflow]
#[derive(Default)]
struct Flow;

#[workflow]
impl Flow {
    #[run]
    async fn run(ctx: WorkflowContext<Self>, _input: ()) -> WorkflowResult<()> {
        let _ = ctx;
        let (_tx, rx) = std::sync::mpsc::channel::<u32>();
        let _next = rx.recv_timeout(Duration::from_secs(1));
        Ok(())
    }
}

fn main() {}
