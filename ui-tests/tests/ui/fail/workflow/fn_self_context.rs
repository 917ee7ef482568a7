use weft::prelude::*;

#[workflow]
async fn greet(ctx: WorkflowContext<Self>, name: String) -> WorkflowResult<String> {
    let _ = ctx;
    Ok(name)
}

fn main() {}
