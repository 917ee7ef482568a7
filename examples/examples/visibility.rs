//! `cargo run --example visibility`: orders with search attributes, found
//! with Temporal's list filter (on a fresh SQLite file of its own).

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let dir = std::env::temp_dir().join(format!("weft-visibility-{}", std::process::id()));
    let result = async {
        std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
        weft_examples::visibility::run(&dir.join("weft.db"))
            .await
            .map_err(|e| e.to_string())
    }
    .await;
    let _ = std::fs::remove_dir_all(&dir);
    match result {
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
