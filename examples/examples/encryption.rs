//! `cargo run --example encryption [-- --db PATH]`: the Encryption pattern.

#[tokio::main]
async fn main() -> std::process::ExitCode {
    match weft_examples::support::main_for("Encryption").await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
