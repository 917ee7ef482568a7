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

    // Takes its input typed: a dynamic handler takes the call.
    #[signal(dynamic)]
    fn any(&mut self, item: String) {
        self.items.push(item);
    }

    // A second dynamic signal.
    #[signal(dynamic)]
    fn other(&mut self, call: DynamicCall) {
        self.items.push(call.name().to_string());
    }

    // Dynamic and named at once.
    #[query(dynamic, name = "size")]
    fn size(&self, _call: DynamicCall) -> usize {
        self.items.len()
    }

    // No input at all.
    #[update(dynamic)]
    fn clear(&mut self) -> WorkflowResult<()> {
        self.items.clear();
        Ok(())
    }

    // An argument handlers do not take.
    #[query(dynamc)]
    fn first(&self) -> Option<String> {
        self.items.first().cloned()
    }
}

fn main() {}
