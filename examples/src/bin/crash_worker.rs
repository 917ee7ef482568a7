//! Test driver for the crash tests (not an example): `crash_worker counted
//! --db PATH --workflows N --steps S` runs N `CrashFlow` workflows and prints
//! `result <id> <value>` for each; `crash_worker tour --db PATH` runs the
//! tour exactly as `cargo run --example tour` does.

use std::path::PathBuf;
use std::process::ExitCode;

use weft::Client;
use weft::engine::Engine;
use weft_examples::crash::{CrashFlow, worker};
use weft_examples::support::{ExampleError, options};
use weft_examples::tour;

struct Args {
    mode: String,
    db: PathBuf,
    workflows: u32,
    steps: u32,
}

fn parse() -> Result<Args, ExampleError> {
    let mut args = std::env::args().skip(1);
    let mode = args.next().unwrap_or_default();
    let mut parsed = Args {
        mode,
        db: PathBuf::new(),
        workflows: 4,
        steps: 6,
    };
    while let Some(flag) = args.next() {
        let value = args
            .next()
            .ok_or_else(|| ExampleError::Usage(format!("{flag} needs a value")))?;
        let number = || {
            value
                .parse::<u32>()
                .map_err(|e| ExampleError::Usage(format!("{flag}: {e}")))
        };
        match flag.as_str() {
            "--db" => parsed.db = PathBuf::from(&value),
            "--workflows" => parsed.workflows = number()?,
            "--steps" => parsed.steps = number()?,
            other => return Err(ExampleError::Usage(format!("unknown flag {other}"))),
        }
    }
    Ok(parsed)
}

async fn counted(client: &Client, args: &Args) -> Result<(), ExampleError> {
    let worker = worker(client).start()?;
    let mut handles = Vec::new();
    for n in 0..args.workflows {
        let id = format!("crash-{n}");
        let handle = client
            .start_workflow(
                CrashFlow::run,
                args.steps,
                options(&id, weft_examples::crash::TASK_QUEUE),
            )
            .await?;
        handles.push((id, handle));
    }
    for (id, handle) in handles {
        let value = handle.result().await?;
        println!("result {id} {value}");
    }
    worker.shutdown().await;
    Ok(())
}

async fn run() -> Result<(), ExampleError> {
    let args = parse()?;
    let engine = Engine::sqlite(&args.db).await?;
    let client = Client::new(engine.clone());
    match args.mode.as_str() {
        "counted" => counted(&client, &args).await?,
        "tour" => {
            let rows = tour::run(&client).await?;
            print!("{}", tour::table(&rows));
        }
        other => return Err(ExampleError::Usage(format!("unknown mode {other:?}"))),
    }
    engine.shutdown().await;
    Ok(())
}

#[tokio::main]
async fn main() -> ExitCode {
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
