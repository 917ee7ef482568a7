//! `cargo run --example custom_metrics [-- --db PATH]`: the Custom Metrics pattern.

#[tokio::main]
async fn main() -> std::process::ExitCode {
    match weft_examples::support::main_for("Custom Metrics").await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
