use std::net;

use weft::prelude::*;

#[workflow]
#[derive(Default)]
struct Flow;

#[workflow]
impl Flow {
    #[run]
    async fn run(ctx: WorkflowContext<Self>, _input: ()) -> WorkflowResult<()> {
        let _ = ctx;
        let _peer = net::TcpStream::connect("127.0.0.1:80");
        Ok(())
    }
}

fn main() {}
