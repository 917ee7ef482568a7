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
    fn add(&mut self, item: String) {
        self.items.push(item);
    }

    #[signal(name = "add")]
    fn add_first(&mut self, item: String) {
        self.items.insert(0, item);
    }
}

fn main() {}
