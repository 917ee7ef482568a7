use weft::prelude::*;

#[workflow]
struct Flow {
    region: String,
}

#[workflow]
impl Flow {
    #[init]
    fn new(_input: &()) -> Self {
        Flow {
            region: std::env::var("REGION").unwrap_or_default(),
        }
    }

    #[run]
    async fn run(ctx: WorkflowContext<Self>, _input: ()) -> WorkflowResult<String> {
        Ok(ctx.state(|s| s.region.clone()))
    }
}

fn main() {}
