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

    #[signal]
    fn add(&mut self, item: String) -> usize {
        self.items.push(item);
        self.items.len()
    }
}

fn main() {}
