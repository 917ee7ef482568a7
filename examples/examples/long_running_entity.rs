//! `cargo run --example long_running_entity [-- --db PATH]`: the Long-running Entity pattern.

#[tokio::main]
async fn main() -> std::process::ExitCode {
    match weft_examples::support::main_for("Long-running Entity").await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
