use weft::prelude::*;

#[workflow]
#[derive(Default)]
struct Cart {
    items: Vec<String>,
}

#[workflow]
impl Cart {
    #[run]
    async fn run(_ctx: WorkflowContext<Self>, n: u32) -> WorkflowResult<u32> {
        Ok(n)
    }

    #[query]
    async fn count(&self) -> usize {
        self.items.len()
    }
}

fn main() {}
