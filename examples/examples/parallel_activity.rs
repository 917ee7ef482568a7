//! `cargo run --example parallel_activity [-- --db PATH]`: the Parallel Activity pattern.

#[tokio::main]
async fn main() -> std::process::ExitCode {
    match weft_examples::support::main_for("Parallel Activity").await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
