use weft::prelude::*;

#[workflow]
fn greet(ctx: WorkflowContext, name: String) -> WorkflowResult<String> {
    let _ = ctx;
    Ok(name)
}

fn main() {}
