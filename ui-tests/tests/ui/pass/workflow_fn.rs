//! Stateless workflows as one `#[workflow] async fn`: the context names
//! the type the macro defines (the fn's name in CamelCase, or the name
//! given), which workers register; clients start the workflow by its fn.

#![deny(warnings)]

use weft::prelude::*;

#[activity(start_to_close_timeout = "5s")]
async fn greet(name: String) -> Result<String, ApplicationError> {
    Ok(format!("Hello, {name}!"))
}

/// Greets everyone, in parallel.
#[workflow]
pub async fn say_hello(ctx: WorkflowContext, names: Vec<String>) -> WorkflowResult<Vec<String>> {
    let calls = names.into_iter().map(|name| ctx.activity(GREET, name));
    Ok(try_join_all(calls).await?)
}

/// A named type and workflow type name; an error type converted.
#[workflow(name = "Shout")]
async fn shout(ctx: WorkflowContext<Shouter>, name: String) -> Result<String, ApplicationError> {
    let greeting = ctx
        .activity(GREET, name)
        .await
        .map_err(|e| ApplicationError::new(e.to_string()))?;
    Ok(greeting.to_uppercase())
}

async fn client_code(client: &Client) -> Result<(), ClientError> {
    let names = vec!["ann".to_string()];
    let greetings: Vec<String> = client
        .execute_workflow(say_hello, names, WorkflowOptions::new("hello", "q"))
        .await?;
    let handle: WorkflowHandle<Shouter> = client
        .start_workflow(shout, "bob".into(), WorkflowOptions::new("shout", "q"))
        .await?;
    let _ = (greetings, handle.result().await?);
    Ok(())
}

fn main() {
    use weft::Workflow;
    assert_eq!(SayHello::NAME, "SayHello");
    assert_eq!(Shouter::NAME, "Shout");
    let worker = |client: &Client| {
        Worker::new(client, "q")
            .register_workflow::<SayHello>()
            .register_workflow::<Shouter>()
            .register_activity(GREET)
    };
    let _ = (worker, client_code);
}
