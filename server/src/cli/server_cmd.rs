//! `weft server start`: an engine on a SQLite file (or in memory), served
//! until Ctrl-C or SIGTERM, then shut down cleanly.

use std::sync::Arc;
use std::time::Duration;

use clap::ArgMatches;
use weft::engine::{Engine, EngineOptions, OpenError, SqliteStore};

use super::CliError;
use crate::config::{ServerConfig, ServerTls};
use crate::serve::Server;

fn read(m: &ArgMatches, flag: &str) -> Result<Option<Vec<u8>>, CliError> {
    match m.get_one::<String>(flag) {
        None => Ok(None),
        Some(path) => std::fs::read(path)
            .map(Some)
            .map_err(|e| CliError::Other(format!("--{flag} {path}: {e}"))),
    }
}

fn config(m: &ArgMatches) -> Result<ServerConfig, CliError> {
    let address = m
        .get_one::<String>("address")
        .cloned()
        .unwrap_or_else(|| crate::config::DEFAULT_ADDRESS.to_string());
    let mut config = ServerConfig::new(address);
    if let (Some(cert_chain), Some(private_key)) = (read(m, "tls-cert")?, read(m, "tls-key")?) {
        config = config.tls(ServerTls {
            cert_chain,
            private_key,
            client_ca_cert: read(m, "tls-client-ca")?,
        });
    }
    if let Some(namespaces) = m.get_many::<String>("namespace") {
        config = config.namespaces(namespaces.cloned().collect());
    }
    for pair in m
        .get_many::<String>("tls-client-namespace")
        .into_iter()
        .flatten()
    {
        let (name, namespace) = pair.split_once('=').ok_or_else(|| {
            CliError::Usage(format!(
                "--tls-client-namespace {pair:?}: expected NAME=NAMESPACE, a name on client certificates and the namespace they may use"
            ))
        })?;
        config = config.client_namespaces(name, [namespace]);
    }
    if let Some(keys) = m.get_many::<String>("encryption-key") {
        let keys: Vec<String> = keys.cloned().collect();
        let converter = crate::codec::encryption_converter(&keys)
            .map_err(|e| CliError::Usage(e.to_string()))?;
        config = config.data_converter(converter);
    }
    if let Some(seconds) = m.get_one::<u64>("long-poll") {
        config = config.long_poll(Duration::from_secs((*seconds).max(1)));
    }
    Ok(config)
}

async fn stop_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {},
                _ = term.recv() => {},
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}

/// `weft server start`.
pub(crate) async fn run(m: &ArgMatches) -> Result<(), CliError> {
    let Some(("start", sub)) = m.subcommand() else {
        return Err(CliError::Usage("weft server needs a command: start".into()));
    };
    let mut config = config(sub)?;
    let engine = match sub.get_one::<String>("db") {
        Some(path) => {
            config = config.sqlite_path(path);
            let store = SqliteStore::open(path).map_err(|e| match e {
                OpenError::InUse { .. } => CliError::Other(format!(
                    "{path} is held by another engine (another `weft server start`, or an \
                     application's): ask its server (--address), or read the file without one \
                     (weft workflow list --db {path})"
                )),
                other => CliError::Backend(other.into()),
            })?;
            Engine::start(store, EngineOptions::default())?
        }
        None if sub.get_flag("memory") => Engine::memory().await?,
        None => {
            return Err(CliError::Usage(
                "weft server start needs --db FILE (or --memory to keep nothing)".into(),
            ));
        }
    };
    let server = match Server::start(Arc::new(engine.clone()), config).await {
        Ok(server) => server,
        Err(e) => {
            engine.shutdown().await;
            return Err(CliError::Other(e.to_string()));
        }
    };
    // Scripts and tests read this line for the address (port 0 picks one).
    if let Err(e) = super::output::line(format_args!(
        "weft server listening on {}",
        server.local_addr()
    )) {
        // Nobody reads it; the server serves all the same.
        tracing::debug!(error = %e, "the address line was not written");
    }
    stop_signal().await;
    eprintln!("shutting down");
    server.shutdown().await;
    engine.shutdown().await;
    Ok(())
}
