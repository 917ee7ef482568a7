//! `cargo run --example tour [-- --db PATH]`: every pattern, in the
//! reference's order, on one SQLite file; prints a table of results and wall
//! times. Run it again with the same `--db` and it reads the stored results.

use std::process::ExitCode;

use weft::Client;
use weft::engine::Engine;
use weft_examples::support::{ExampleError, db_path_from_args};
use weft_examples::tour;

async fn run() -> Result<bool, ExampleError> {
    let path = db_path_from_args()?;
    println!("database: {}", path.display());
    let engine = Engine::sqlite(&path).await?;
    let client = Client::new(engine.clone());
    let rows = tour::run(&client).await?;
    engine.shutdown().await;
    print!("{}", tour::table(&rows));
    Ok(rows.iter().all(|r| r.result.is_ok()))
}

#[tokio::main]
async fn main() -> ExitCode {
    match run().await {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
