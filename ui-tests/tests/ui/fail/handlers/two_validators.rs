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

    #[update]
    fn add(&mut self, item: String) -> Result<usize, ApplicationError> {
        self.items.push(item);
        Ok(self.items.len())
    }

    #[validator(add)]
    fn not_empty(&self, item: &String) -> Result<(), ApplicationError> {
        let _ = item;
        Ok(())
    }

    #[validator(add)]
    fn not_too_many(&self, item: &String) -> Result<(), ApplicationError> {
        let _ = item;
        Ok(())
    }
}

fn main() {}
