//! Names that only look like denied calls pass: a local `rng` value, a
//! user type's `Command::new`, pure `std::net` address types, constants
//! read with ordinary methods, and paths inside strings.

use weft::prelude::*;

struct Command {
    name: String,
}

impl Command {
    fn new(name: &str) -> Self {
        Command { name: name.to_string() }
    }
}

const LIMITS: [u32; 3] = [1, 2, 3];

#[workflow]
#[derive(Default)]
struct Lookalike;

#[workflow]
impl Lookalike {
    #[run]
    async fn run(ctx: WorkflowContext<Self>, seed: u64) -> WorkflowResult<String> {
        let _ = ctx;
        let rng = seed.wrapping_mul(6_364_136_223_846_793_005);
        let command = Command::new("ship");
        let home = std::net::Ipv4Addr::new(127, 0, 0, 1);
        let limit = LIMITS.get(1).copied().unwrap_or(0);
        let note = "std::time::SystemTime::now() is not called here";
        Ok(format!("{rng} {} {home} {limit} {note}", command.name))
    }
}

fn main() {
    use weft::Workflow;
    assert_eq!(Lookalike::NAME, "Lookalike");
}
