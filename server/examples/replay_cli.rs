//! The `weft` command line with this program's workflows built in: its
//! `history replay` checks a history and replays it against `Greeter`, so
//! a change to `Greeter` that breaks runs already in flight fails here.
//!
//! ```sh
//! weft history export -w greeting-1 -f greeting.json
//! cargo run -p weft-server --example replay_cli -- history replay -f greeting.json
//! ```

use weft::prelude::*;

/// The workflow whose histories this command line replays.
#[workflow]
#[derive(Default)]
pub struct Greeter;

#[workflow]
impl Greeter {
    #[run]
    pub async fn run(_ctx: WorkflowContext<Self>, name: String) -> WorkflowResult<String> {
        Ok(format!("Hello, {name}!"))
    }
}

// ANCHOR: main
fn main() -> std::process::ExitCode {
    let mut replayer = weft::replay::Replayer::new();
    replayer.register_workflow::<Greeter>();
    // Every `weft` command, with `history replay` replaying on Greeter.
    weft_server::cli::Cli::new().replayer(replayer).run()
}
// ANCHOR_END: main
