use weft::prelude::*;

#[workflow]
#[derive(Default)]
struct Account {
    open: bool,
}

#[workflow]
impl Account {
    #[run]
    async fn run(_ctx: WorkflowContext<Self>, n: u32) -> WorkflowResult<u32> {
        Ok(n)
    }

    #[update]
    fn cancel(&mut self) -> Result<bool, ApplicationError> {
        self.open = false;
        Ok(self.open)
    }

    #[query]
    fn result(&self) -> bool {
        self.open
    }
}

fn main() {}
