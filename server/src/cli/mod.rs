//! The `weft` command line: `weft server start`, and the commands that
//! read and drive workflows (`weft workflow …`, `weft history export`,
//! `weft schedule …`) against a server (`--address`) or, read-only, on a
//! SQLite file no server needs to hold (`--db`).
//!
//! Tables are for people; `--output json` prints JSON for scripts. Errors
//! say what to change and end the process with status 1 (2 for a bad
//! command line).

mod args;
mod output;
mod server_cmd;
mod source;
mod workflow;

use std::process::ExitCode;

use weft::backend::BackendError;

pub use self::args::command;

/// Why a command failed.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// The command line is wrong.
    #[error("{0}")]
    Usage(String),
    /// The server or the file refused or failed.
    #[error("{0}")]
    Backend(#[from] BackendError),
    /// A client call failed.
    #[error("{0}")]
    Client(#[from] weft::ClientError),
    /// Something else: a file to write, a value to decode.
    #[error("{0}")]
    Other(String),
}

/// Runs the command line `args` (without the program name) and returns the
/// process's exit status. Output goes to standard output, errors to
/// standard error.
pub fn main_with(args: Vec<String>) -> ExitCode {
    let matches =
        match command().try_get_matches_from(std::iter::once("weft".to_string()).chain(args)) {
            Ok(matches) => matches,
            Err(e) => {
                let _ = e.print();
                return if e.use_stderr() {
                    ExitCode::from(2)
                } else {
                    ExitCode::SUCCESS
                };
            }
        };
    init_logging(&matches);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("weft: cannot start the tokio runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(dispatch(&matches)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(CliError::Usage(message)) => {
            eprintln!("weft: {message}");
            ExitCode::from(2)
        }
        Err(e) => {
            eprintln!("weft: {e}");
            ExitCode::FAILURE
        }
    }
}

fn init_logging(matches: &clap::ArgMatches) {
    let level = match matches.get_one::<String>("log").map(String::as_str) {
        Some("debug") => tracing::Level::DEBUG,
        Some("info") => tracing::Level::INFO,
        Some("error") => tracing::Level::ERROR,
        _ => tracing::Level::WARN,
    };
    // A second init (tests calling main_with twice) keeps the first.
    let _ = tracing_subscriber::fmt()
        .with_max_level(level)
        .with_writer(std::io::stderr)
        .try_init();
}

async fn dispatch(matches: &clap::ArgMatches) -> Result<(), CliError> {
    match matches.subcommand() {
        Some(("server", sub)) => server_cmd::run(sub).await,
        Some(("workflow", sub)) => workflow::run(sub).await,
        Some(("history", sub)) => workflow::history(sub).await,
        Some(("schedule", sub)) => workflow::schedule(sub).await,
        _ => Err(CliError::Usage(
            "no command given: try `weft --help`".into(),
        )),
    }
}
