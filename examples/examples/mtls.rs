//! `cargo run --example mtls`: a weft server with mutual TLS, a client and
//! worker that connect with the right certificate and run a workflow, and
//! a client without a certificate that the server refuses.

#[tokio::main]
async fn main() -> std::process::ExitCode {
    match weft_examples::mtls::run().await {
        Ok(lines) => {
            for line in lines {
                println!("{line}");
            }
            std::process::ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
