//! `cargo run --example schedule`: the Schedule pattern: an interval
//! schedule, a cron schedule, a trigger, a backfill, pause, unpause and
//! update, on the time-skipping clock (the schedules run on an in-memory
//! engine of their own, so `--db` only names the file the other examples
//! share).

#[tokio::main]
async fn main() -> std::process::ExitCode {
    match weft_examples::support::main_for("Schedule").await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
