//! The `weft` command line: `weft server start`, and the commands that
//! read and drive workflows (`weft workflow …`, `weft history export`,
//! `weft schedule …`) against a server (`--address`) or, read-only, on a
//! SQLite file no server needs to hold (`--db`).
//!
//! Tables are for people; `--output json` prints JSON for scripts. Errors
//! say what to change and end the process with status 1 (2 for a bad
//! command line).
//!
//! The same command line can be built into a binary of your own with
//! [`Cli`], which adds your workflow code to `history replay`:
//!
//! ```no_run
//! # use weft::prelude::*;
//! # #[workflow] #[derive(Default)] struct Greeter;
//! # #[workflow] impl Greeter { #[run] async fn run(_ctx: WorkflowContext<Self>, _n: String) -> WorkflowResult<()> { Ok(()) } }
//! fn main() -> std::process::ExitCode {
//!     let mut replayer = weft::replay::Replayer::new();
//!     replayer.register_workflow::<Greeter>();
//!     weft_server::cli::Cli::new().replayer(replayer).run()
//! }
//! ```

mod args;
mod decode;
mod history;
mod output;
mod progress;
mod schedule;
mod server_cmd;
mod source;
mod workflow;

use std::io::IsTerminal;
use std::process::ExitCode;

use weft::backend::BackendError;
use weft::replay::Replayer;

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
    /// Standard output was closed by its reader (`weft … | head`): the
    /// command stops, successfully.
    #[error("standard output was closed")]
    Closed,
}

/// The `weft` command line, to run in a binary of your own: with
/// [`Cli::replayer`], `history replay` also replays histories against your
/// workflow code (the `weft` binary has none, so it only checks them).
#[derive(Default)]
pub struct Cli {
    replayer: Option<Replayer>,
}

impl Cli {
    /// The command line as the `weft` binary runs it.
    pub fn new() -> Self {
        Cli::default()
    }

    /// Replays histories against the workflows `replayer` registers (and
    /// decodes them with its data converter).
    pub fn replayer(mut self, replayer: Replayer) -> Self {
        self.replayer = Some(replayer);
        self
    }

    /// Runs the process's own arguments; returns its exit status.
    pub fn run(self) -> ExitCode {
        self.run_with(std::env::args().skip(1).collect())
    }

    /// Runs the command line `args` (without the program name) and returns
    /// the process's exit status. Output goes to standard output, errors
    /// to standard error.
    pub fn run_with(self, args: Vec<String>) -> ExitCode {
        run(args, self.replayer.as_ref())
    }
}

/// Runs the command line `args` (without the program name) as the `weft`
/// binary does and returns the process's exit status.
pub fn main_with(args: Vec<String>) -> ExitCode {
    Cli::new().run_with(args)
}

fn run(args: Vec<String>, replayer: Option<&Replayer>) -> ExitCode {
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
    match runtime.block_on(dispatch(&matches, replayer)) {
        Ok(()) | Err(CliError::Closed) => ExitCode::SUCCESS,
        Err(CliError::Usage(message)) => {
            eprintln!("weft: {message}");
            ExitCode::from(2)
        }
        Err(e) => {
            tracing::debug!(error = %e, "command failed");
            eprintln!("weft: {e}");
            ExitCode::FAILURE
        }
    }
}

fn init_logging(matches: &clap::ArgMatches) {
    // A server logs its warnings; a command that fails says why once, in
    // its error, so it logs only errors unless asked.
    let serving = matches!(matches.subcommand(), Some(("server", _)));
    let level = match matches.get_one::<String>("log").map(String::as_str) {
        Some("debug") => tracing::Level::DEBUG,
        Some("info") => tracing::Level::INFO,
        Some("warn") => tracing::Level::WARN,
        Some("error") => tracing::Level::ERROR,
        _ if serving => tracing::Level::WARN,
        _ => tracing::Level::ERROR,
    };
    // A second init (tests calling main_with twice) keeps the first.
    let _ = tracing_subscriber::fmt()
        .with_max_level(level)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr)
        .try_init();
}

async fn dispatch(matches: &clap::ArgMatches, replayer: Option<&Replayer>) -> Result<(), CliError> {
    match matches.subcommand() {
        Some(("server", sub)) => server_cmd::run(sub).await,
        Some(("workflow", sub)) => workflow::run(sub).await,
        Some(("history", sub)) => history::run(sub, replayer).await,
        Some(("schedule", sub)) => schedule::run(sub).await,
        _ => Err(CliError::Usage(
            "no command given: try `weft --help`".into(),
        )),
    }
}
