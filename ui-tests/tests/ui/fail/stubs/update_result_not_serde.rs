//! An update result that is not serde-serializable is reported at the type,
//! by the payload check only: the client stub decodes through it.

use weft::prelude::*;

pub struct Receipt {
    pub total: u32,
}

#[workflow]
#[derive(Default)]
struct Shop {
    total: u32,
}

#[workflow]
impl Shop {
    #[run]
    async fn run(_ctx: WorkflowContext<Self>, _input: ()) -> WorkflowResult<u32> {
        Ok(0)
    }

    #[update]
    fn buy(&mut self, cents: u32) -> Result<Receipt, ApplicationError> {
        self.total += cents;
        Ok(Receipt { total: self.total })
    }
}

fn main() {}
