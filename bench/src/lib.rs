//! Benchmarks of weft's embedded engine.
//!
//! Each scenario (`hello`, `sequential`, `fanout`, `replay`, `timers`,
//! `updates`) starts an engine and a worker in this process through weft's
//! public API, drives a workload, and returns a [`Report`]: the settings that
//! shape the numbers and one figure per measurement. The binary prints the
//! report and writes it as JSON; tests call [`run`] directly.

pub mod args;
pub mod load;
pub mod progress;
pub mod report;
pub mod scenarios;
pub mod setup;
pub mod workflows;

use std::fmt;

pub use args::{Config, Scenario, StoreKind};
pub use report::{Figure, Report};

/// Why a benchmark could not run or gave a wrong answer.
#[derive(Debug)]
pub struct BenchError(pub String);

impl fmt::Display for BenchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for BenchError {}

impl BenchError {
    /// An error with this message.
    pub fn new(message: impl Into<String>) -> Self {
        BenchError(message.into())
    }
}

macro_rules! from_error {
    ($($t:ty => $what:literal),* $(,)?) => {$(
        impl From<$t> for BenchError {
            fn from(e: $t) -> Self {
                BenchError(format!(concat!($what, ": {}"), e))
            }
        }
    )*};
}

from_error! {
    weft::ClientError => "client",
    weft::backend::BackendError => "engine",
    weft::engine::OpenError => "store",
    weft::worker::WorkerError => "worker",
    weft::replay::ReplayError => "replay",
    std::io::Error => "i/o",
    serde_json::Error => "json",
}

/// Runs the configured scenario and returns its report.
///
/// The machine's load average before and after is recorded with the
/// settings: other work on the machine shows in every figure.
pub async fn run(config: &Config) -> Result<Report, BenchError> {
    let load_before = report::load_average();
    let mut report = match config.scenario {
        Scenario::Hello => scenarios::hello::run(config).await,
        Scenario::Sequential => scenarios::sequential::run(config).await,
        Scenario::Fanout => scenarios::fanout::run(config).await,
        Scenario::Replay => scenarios::replay::run(config).await,
        Scenario::Timers => scenarios::timers::run(config).await,
        Scenario::Updates => scenarios::updates::run(config).await,
    }?;
    if let (Some(before), Some(after)) = (load_before, report::load_average()) {
        report.setting("load_average", format!("{before} before, {after} after"));
    }
    Ok(report)
}

/// Runs the scenario, prints its settings and figures, and writes the JSON
/// file.
pub async fn run_and_print(config: &Config) -> Result<(), BenchError> {
    let report = run(config).await?;
    print!("{}", report.render());
    let path = config.json_path();
    report.write_json(&path)?;
    println!("json: {}", path.display());
    Ok(())
}
