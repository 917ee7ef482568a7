//! `cargo run --example validated_models [-- --db PATH]`: the Pydantic Converter pattern (validated models).

#[tokio::main]
async fn main() -> std::process::ExitCode {
    match weft_examples::support::main_for("Pydantic Converter").await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
