use weft::prelude::*;

#[workflow]
#[derive(Default)]
struct Shop;

#[workflow]
impl Shop {
    #[run]
    async fn run(_ctx: WorkflowContext<Self>, amount: u32) -> WorkflowResult<u32> {
        Ok(amount)
    }
}

async fn start(client: &Client) {
    let _ = client
        .start_workflow(Shop::run, "three".to_string(), WorkflowOptions::new("id", "queue"))
        .await;
}

fn main() {
    let _ = start;
}
