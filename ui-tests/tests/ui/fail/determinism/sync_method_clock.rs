use weft::prelude::*;

#[workflow]
#[derive(Default)]
struct Flow;

#[workflow]
impl Flow {
    #[run]
    async fn run(ctx: WorkflowContext<Self>, _input: ()) -> WorkflowResult<u64> {
        let _ = ctx;
        Ok(Self::stamp())
    }

    fn stamp() -> u64 {
        let elapsed = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH);
        elapsed.map(|d| d.as_secs()).unwrap_or(0)
    }
}

fn main() {}
