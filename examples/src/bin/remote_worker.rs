//! Test driver for the remote tests (not an example): `remote_worker
//! --address HOST:PORT [--patterns] [--shared]` connects to a weft server
//! and runs workers in this process: for every pattern of the book
//! (`--patterns`) and for the shared-queue workload (`--shared`). It prints
//! `ready` once they poll, and stops gracefully when its standard input
//! closes (or dies when killed).

use std::io::{Read, Write};
use std::process::ExitCode;

use weft::Client;
use weft::remote::ConnectOptions;
use weft_examples::support::ExampleError;

struct Args {
    address: String,
    patterns: bool,
    shared: bool,
}

fn parse() -> Result<Args, ExampleError> {
    let mut args = Args {
        address: String::new(),
        patterns: false,
        shared: false,
    };
    let mut given = std::env::args().skip(1);
    while let Some(flag) = given.next() {
        match flag.as_str() {
            "--address" => {
                args.address = given
                    .next()
                    .ok_or_else(|| ExampleError::Usage("--address needs HOST:PORT".into()))?;
            }
            "--patterns" => args.patterns = true,
            "--shared" => args.shared = true,
            other => return Err(ExampleError::Usage(format!("unknown argument {other}"))),
        }
    }
    if args.address.is_empty() {
        return Err(ExampleError::Usage(
            "usage: remote_worker --address HOST:PORT [--patterns] [--shared]".into(),
        ));
    }
    Ok(args)
}

async fn run(args: Args) -> Result<(), ExampleError> {
    // ANCHOR: connect
    let client = Client::connect(&args.address, ConnectOptions::new()).await?;
    let mut workers = Vec::new();
    if args.patterns {
        for pattern in weft_examples::patterns() {
            // The same worker code as in process, on the remote client.
            workers.push((pattern.worker)(&client).start()?);
        }
    }
    // ANCHOR_END: connect
    if args.shared {
        workers.push(weft_examples::remote::worker(&client).start()?);
    }
    {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "ready");
        let _ = out.flush();
    }
    // Until the test closes our standard input.
    let _ = tokio::task::spawn_blocking(|| std::io::stdin().read_to_end(&mut Vec::new())).await;
    for worker in workers {
        worker.shutdown().await;
    }
    Ok(())
}

fn main() -> ExitCode {
    let args = match parse() {
        Ok(args) => args,
        Err(e) => {
            eprintln!("remote_worker: {e}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("remote_worker: cannot start tokio: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("remote_worker: {e}");
            ExitCode::FAILURE
        }
    }
}
