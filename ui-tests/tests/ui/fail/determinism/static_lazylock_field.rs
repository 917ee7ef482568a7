use std::sync::LazyLock;

struct Limits {
    max: u32,
}

static LIMITS: LazyLock<Limits> = LazyLock::new(|| Limits { max: 3 });

use weft::prelude::*;

#[workflow]
#[derive(Default)]
struct Flow;

#[workflow]
impl Flow {
    #[run]
    async fn run(ctx: WorkflowContext<Self>, _input: ()) -> WorkflowResult<()> {
        let _ = ctx;
        let _max = LIMITS.max;
        Ok(())
    }
}

fn main() {}
