//! Starting the engine, client and worker a scenario runs on, and recording
//! the settings that shape its numbers.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use weft::engine::{Engine, EngineOptions, MemoryStore, SqliteStore};
use weft::prelude::*;
use weft::worker::WorkerOptions;

use crate::BenchError;
use crate::args::{Config, StoreKind};
use crate::report::{Commits, Report};

/// The task queue every scenario uses.
pub const TASK_QUEUE: &str = "bench";

/// An engine and a client of it.
pub struct Bench {
    /// The engine.
    pub engine: Engine,
    /// A client of the engine: in process, or through `server` (`--remote`).
    pub client: Client,
    /// The server the client goes through, with `--remote`.
    pub server: Option<weft_server::Server>,
}

impl Bench {
    /// Shuts the server and the engine down, waiting until everything is
    /// durable.
    pub async fn shutdown(self) {
        if let Some(server) = self.server {
            server.shutdown().await;
        }
        self.engine.shutdown().await;
    }
}

/// With `--remote`, a server on a loopback port in front of `engine`, and
/// a client connected to it.
async fn remote(engine: &Engine) -> Result<(weft_server::Server, Client), BenchError> {
    let config = weft_server::ServerConfig::new("127.0.0.1:0");
    let server = weft_server::Server::start(std::sync::Arc::new(engine.clone()), config)
        .await
        .map_err(|e| BenchError::new(format!("server: {e}")))?;
    let address = server.local_addr().to_string();
    let client = Client::connect(&address, weft::remote::ConnectOptions::new()).await?;
    Ok((server, client))
}

/// With `--temporal`, a client of the Temporal frontend at `address` (the
/// engine stays idle).
#[cfg(feature = "temporal")]
async fn temporal(engine: Engine, address: &str, report: &mut Report) -> Result<Bench, BenchError> {
    report.setting(
        "transport",
        format!("temporal: the Temporal frontend at {address} (weft's Temporal backend)"),
    );
    let options = weft::temporal::TemporalOptions::new();
    let client = Client::connect_temporal(address, options).await?;
    Ok(Bench {
        engine,
        client,
        server: None,
    })
}

#[cfg(not(feature = "temporal"))]
async fn temporal(_: Engine, _: &str, _: &mut Report) -> Result<Bench, BenchError> {
    Err(BenchError::new(
        "--temporal needs weft-bench built with --features temporal",
    ))
}

/// Engine options from the command line: weft's defaults plus the group
/// commit switch, and metrics, which the commit figures are read from.
pub fn engine_options(config: &Config) -> EngineOptions {
    EngineOptions {
        group_commit: config.group_commit,
        metrics: Some(weft::telemetry::Metrics::new()),
        ..EngineOptions::default()
    }
}

/// The engine's commits so far (none without metrics).
pub fn commits(options: &EngineOptions) -> Commits {
    options
        .metrics
        .as_ref()
        .map(|m| Commits::read(&m.encode_now()))
        .unwrap_or_default()
}

/// Worker options from the command line.
pub fn worker_options(config: &Config) -> WorkerOptions {
    WorkerOptions {
        max_cached_workflows: config.cache(),
        max_concurrent_workflow_tasks: config.wft_slots(),
        max_concurrent_activities: config.activity_slots(),
        ..WorkerOptions::default()
    }
}

/// Starts an engine on the configured store and records the settings.
pub async fn start(
    config: &Config,
    options: EngineOptions,
    report: &mut Report,
) -> Result<Bench, BenchError> {
    report.setting(
        "build",
        if cfg!(debug_assertions) {
            "debug"
        } else {
            "release"
        },
    );
    report.setting(
        "cores",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
    );
    report.setting("n", config.n);
    report.setting("c", config.c);
    let engine = match config.store {
        StoreKind::Memory => {
            report.setting("store", "memory (nothing written to disk)");
            Engine::start(MemoryStore::new(), options.clone())?
        }
        StoreKind::Sqlite => {
            let path = db_path(config)?;
            report.setting(
                "store",
                format!("sqlite {} (WAL, synchronous=FULL)", path.display()),
            );
            let dir = path
                .parent()
                .filter(|d| !d.as_os_str().is_empty())
                .unwrap_or(Path::new("."));
            report.setting(
                "fsync_rate",
                format!(
                    "{:.0}/s (4 KiB append + fsync for 1 s beside the file)",
                    fsync_rate(dir, Duration::from_secs(1))?
                ),
            );
            Engine::start(SqliteStore::open(&path)?, options.clone())?
        }
    };
    report.setting(
        "group_commit",
        if options.group_commit { "on" } else { "off" },
    );
    report.setting(
        "continue_as_new_suggested",
        format!(
            "{} events or {} bytes",
            options.continue_as_new_suggested_events, options.continue_as_new_suggested_bytes
        ),
    );
    let worker = worker_options(config);
    report.setting("worker_cache", worker.max_cached_workflows);
    report.setting("worker_wft_slots", worker.max_concurrent_workflow_tasks);
    report.setting("worker_activity_slots", worker.max_concurrent_activities);
    if let Some(address) = &config.temporal {
        return temporal(engine, address, report).await;
    }
    if config.remote {
        report.setting(
            "transport",
            "remote: a weft server on a loopback port in this process (HTTP/2, JSON)",
        );
        let (server, client) = remote(&engine).await?;
        return Ok(Bench {
            engine,
            client,
            server: Some(server),
        });
    }
    report.setting("transport", "in process");
    let client = Client::new(engine.clone());
    Ok(Bench {
        engine,
        client,
        server: None,
    })
}

/// The SQLite file: `--db` (which must not exist yet), else the default
/// path, whose old files are removed.
fn db_path(config: &Config) -> Result<PathBuf, BenchError> {
    if let Some(path) = &config.db {
        if path.exists() {
            return Err(BenchError::new(format!(
                "{} exists; give a path that does not (a benchmark needs an empty store)",
                path.display()
            )));
        }
        return Ok(path.clone());
    }
    let dir = Config::output_dir();
    std::fs::create_dir_all(&dir)
        .map_err(|e| BenchError::new(format!("cannot create {}: {e}", dir.display())))?;
    let path = dir.join(format!("{}.db", config.scenario.name()));
    for suffix in ["", "-wal", "-shm", ".lock"] {
        remove_if_there(&with_suffix(&path, suffix))?;
    }
    Ok(path)
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

fn remove_if_there(path: &Path) -> Result<(), BenchError> {
    match std::fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(BenchError::new(format!(
            "cannot remove {}: {e}",
            path.display()
        ))),
    }
}

/// How many 4 KiB append + fsync rounds a file in `dir` takes per second,
/// measured for `probe`: what bounds a store that fsyncs every commit.
pub fn fsync_rate(dir: &Path, probe: Duration) -> Result<f64, BenchError> {
    let path = dir.join(format!(".fsync-probe-{}", std::process::id()));
    let fail =
        |e: std::io::Error| BenchError::new(format!("fsync probe in {}: {e}", dir.display()));
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .map_err(fail)?;
    let block = [0u8; 4096];
    let start = Instant::now();
    let mut rounds = 0u32;
    let result = loop {
        if let Err(e) = file.write_all(&block).and_then(|()| file.sync_all()) {
            break Err(fail(e));
        }
        rounds += 1;
        if start.elapsed() >= probe {
            break Ok(f64::from(rounds) / start.elapsed().as_secs_f64());
        }
    };
    drop(file);
    remove_if_there(&path)?;
    result
}
