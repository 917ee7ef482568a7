//! A user's own modules named `process`, `fs`, `env` and `net` are not
//! std's: their items pass, written bare or through `crate::`/`self::`.

#![deny(warnings)]

use weft::prelude::*;

mod process {
    pub fn run(step: &str) -> String {
        format!("ran {step}")
    }
}

mod fs {
    pub struct Store;
    impl Store {
        pub fn open() -> Self {
            Store
        }
        pub fn name(&self) -> &'static str {
            "store"
        }
    }
}

mod env {
    pub fn settings() -> u32 {
        3
    }
    pub fn var(name: &str) -> usize {
        name.len()
    }
}

mod net {
    pub struct Peer(pub u16);
}

#[workflow]
#[derive(Default)]
struct Local;

#[workflow]
impl Local {
    #[run]
    async fn run(ctx: WorkflowContext<Self>, step: String) -> WorkflowResult<String> {
        let _ = ctx;
        let ran = process::run(&step);
        let store = fs::Store::open();
        let limit = env::settings() + crate::env::var("x") as u32 + self::env::var("yz") as u32;
        let peer = net::Peer(7);
        Ok(format!("{ran} {} {limit} {}", store.name(), peer.0))
    }
}

fn main() {
    use weft::Workflow;
    assert_eq!(Local::NAME, "Local");
}
