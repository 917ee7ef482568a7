//! `cargo run --example local_activity [-- --db PATH]`: the Local Activity pattern.

#[tokio::main]
async fn main() -> std::process::ExitCode {
    match weft_examples::support::main_for("Local Activity").await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
