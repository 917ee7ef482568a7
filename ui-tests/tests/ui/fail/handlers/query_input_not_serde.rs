use weft::prelude::*;

/// Not serde-serializable: a query's input travels as a payload.
pub struct Filter {
    pub prefix: String,
}

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
    fn matching(&self, filter: Filter) -> usize {
        self.items.iter().filter(|i| i.starts_with(&filter.prefix)).count()
    }
}

fn main() {}
