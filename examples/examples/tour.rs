//! `cargo run --example tour [-- --db PATH]`: every pattern, in the
//! reference's order, on one SQLite file; prints a table of results and wall
//! times. Run it again with the same `--db` and it reads the stored results.
//! Without `--db` the file is a temporary one, removed when every pattern
//! succeeded.

use std::process::ExitCode;

use weft::Client;
use weft::engine::Engine;
use weft_examples::support::{ExampleError, db_path_from_args};
use weft_examples::tour;

async fn run() -> Result<bool, ExampleError> {
    let db = db_path_from_args()?;
    println!("database: {}", db.path.display());
    let engine = Engine::sqlite(&db.path).await?;
    let client = Client::new(engine.clone());
    let rows = tour::run(&client).await;
    engine.shutdown().await;
    let rows = rows?;
    let all_ok = rows.iter().all(|r| r.result.is_ok());
    print!("{}", tour::table(&rows));
    db.finish(all_ok);
    Ok(all_ok)
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
