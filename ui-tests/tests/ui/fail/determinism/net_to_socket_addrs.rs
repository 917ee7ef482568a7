use std::net::ToSocketAddrs;

use weft::prelude::*;

#[workflow]
#[derive(Default)]
struct Flow;

#[workflow]
impl Flow {
    #[run]
    async fn run(ctx: WorkflowContext<Self>, _input: ()) -> WorkflowResult<()> {
        let _ = ctx;
        let _resolved = "example.com:80".to_socket_addrs();
        Ok(())
    }
}

fn main() {}
