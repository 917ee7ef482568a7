//! Where a command reads and acts: a server (every command), or a SQLite
//! file read directly (the reading commands), with no engine or server.

use std::path::PathBuf;

use clap::ArgMatches;
use weft::backend::{BackendError, Description, ListFilter, WorkflowSummary};
use weft::engine::SqliteStore;
use weft::history::Event;
use weft::remote::{ConnectOptions, TlsConfig};
use weft::schedule::{ScheduleAction, ScheduleDescription, ScheduleListEntry};
use weft::{Client, DataConverter};

use super::CliError;
use crate::config::DEFAULT_ADDRESS;

pub(crate) enum Source {
    Server {
        client: Client,
        address: String,
    },
    File {
        store: SqliteStore,
        path: PathBuf,
        namespace: String,
        converter: Option<DataConverter>,
    },
}

fn read_pem(matches: &ArgMatches, flag: &str) -> Result<Option<Vec<u8>>, CliError> {
    let Some(path) = matches.get_one::<String>(flag) else {
        return Ok(None);
    };
    std::fs::read(path)
        .map(Some)
        .map_err(|e| CliError::Other(format!("--{flag} {path}: {e}")))
}

fn tls(matches: &ArgMatches) -> Result<Option<TlsConfig>, CliError> {
    let ca = read_pem(matches, "tls-ca")?;
    let cert = read_pem(matches, "tls-cert")?;
    let key = read_pem(matches, "tls-key")?;
    if ca.is_none() && cert.is_none() && key.is_none() {
        return Ok(None);
    }
    if ca.is_none() {
        return Err(CliError::Usage(
            "TLS needs --tls-ca (the CA of the server's certificate)".into(),
        ));
    }
    match (&cert, &key) {
        (Some(_), None) => {
            return Err(CliError::Usage(
                "--tls-cert needs --tls-key (the private key of the client certificate)".into(),
            ));
        }
        (None, Some(_)) => {
            return Err(CliError::Usage(
                "--tls-key needs --tls-cert (the client certificate it is the key of)".into(),
            ));
        }
        _ => {}
    }
    Ok(Some(TlsConfig {
        server_root_ca_cert: ca,
        client_cert: cert,
        client_private_key: key,
        domain: matches.get_one::<String>("tls-domain").cloned(),
    }))
}

/// A missing file, a directory or an empty file, said plainly (SQLite's
/// own words for them are "disk I/O error" and "not a database").
fn check_file(path: &std::path::Path) -> Result<(), CliError> {
    let shown = path.display();
    let metadata = std::fs::metadata(path).map_err(|e| {
        CliError::Other(if e.kind() == std::io::ErrorKind::NotFound {
            format!("database file {shown} does not exist: check the path given to --db")
        } else {
            format!("cannot read the database file {shown}: {e}")
        })
    })?;
    if metadata.is_dir() {
        return Err(CliError::Other(format!(
            "{shown} is a directory: --db takes the SQLite file inside it"
        )));
    }
    if metadata.len() == 0 {
        return Err(CliError::Other(format!(
            "{shown} is empty: no engine has written it yet, so it holds no workflows"
        )));
    }
    Ok(())
}

/// The command line's flags for what a TLS error names in the library's
/// terms.
fn flag_hint(message: &str) -> Option<&'static str> {
    if message.contains("TlsConfig::client_cert") {
        Some("give the client certificate and its key: --tls-cert FILE --tls-key FILE")
    } else if message.contains("server_root_ca_cert") {
        Some("--tls-ca must be the CA that signed the server's certificate")
    } else if message.contains("TlsConfig::domain") {
        Some("give the name on the server's certificate: --tls-domain NAME")
    } else if message.contains("without a TlsConfig") {
        Some("the server speaks plaintext: leave out the --tls-* flags")
    } else if message.contains("connect with a TlsConfig") {
        Some("for a TLS server give --tls-ca FILE, and for mutual TLS --tls-cert and --tls-key")
    } else {
        None
    }
}

/// The namespace the command works in.
pub(crate) fn namespace(matches: &ArgMatches) -> String {
    matches
        .get_one::<String>("namespace")
        .cloned()
        .unwrap_or_else(|| weft::backend::DEFAULT_NAMESPACE.to_string())
}

impl Source {
    pub(crate) async fn open(matches: &ArgMatches) -> Result<Source, CliError> {
        let namespace = namespace(matches);
        let converter = super::decode::converter(matches)?;
        if let Some(path) = matches.get_one::<String>("db") {
            let path = PathBuf::from(path);
            check_file(&path)?;
            let store = SqliteStore::open_read_only(&path).map_err(BackendError::from)?;
            return Ok(Source::File {
                store,
                path,
                namespace,
                converter,
            });
        }
        let address = matches
            .get_one::<String>("address")
            .cloned()
            .unwrap_or_else(|| DEFAULT_ADDRESS.to_string());
        let mut options = ConnectOptions::new().namespace(namespace);
        if let Some(tls) = tls(matches)? {
            options = options.tls(tls);
        }
        match Client::connect(&address, options).await {
            Ok(client) => {
                // The client decodes what the server answers, and encodes
                // what it sends, as the workers do.
                let client = match converter {
                    Some(converter) => client.with_data_converter(converter),
                    None => client,
                };
                Ok(Source::Server { client, address })
            }
            Err(e) if e.to_string().contains("cannot connect to") => Err(CliError::Other(format!(
                "{e}\n(is a server running there? start one with `weft server start --db FILE`, \
                 or read a file without one: --db FILE)"
            ))),
            Err(e) => {
                let message = e.to_string();
                Err(CliError::Other(match flag_hint(&message) {
                    Some(hint) => format!("{message}\n({hint})"),
                    None => message,
                }))
            }
        }
    }

    /// The client, for commands only a server can do.
    pub(crate) fn client(&self, what: &str) -> Result<&Client, CliError> {
        match self {
            Source::Server { client, .. } => Ok(client),
            Source::File { path, .. } => Err(CliError::Usage(format!(
                "{what} needs a server (--address): {} is opened read-only",
                path.display()
            ))),
        }
    }

    /// The namespace the command works in.
    pub(crate) fn namespace(&self) -> &str {
        match self {
            Source::Server { client, .. } => client.namespace(),
            Source::File { namespace, .. } => namespace,
        }
    }

    pub(crate) fn describe_where(&self) -> String {
        match self {
            Source::Server { address, .. } => format!("server {address}"),
            Source::File { path, .. } => format!("file {}", path.display()),
        }
    }

    pub(crate) async fn list(&self, filter: ListFilter) -> Result<Vec<WorkflowSummary>, CliError> {
        match self {
            Source::Server { client, .. } => Ok(client.list_runs(filter).await?),
            Source::File {
                store, namespace, ..
            } => {
                let filter = ListFilter {
                    namespace: namespace.clone(),
                    ..filter
                };
                Ok(store.list_runs(&filter)?)
            }
        }
    }

    pub(crate) async fn describe(
        &self,
        workflow_id: &str,
        run_id: Option<&str>,
    ) -> Result<Description, CliError> {
        match self {
            Source::Server { client, .. } => {
                let backend = client.backend();
                Ok(backend
                    .describe(client.namespace(), workflow_id, run_id)
                    .await?)
            }
            Source::File {
                store,
                namespace,
                converter,
                ..
            } => {
                let mut description = store.describe_run(namespace, workflow_id, run_id)?;
                if let Some(converter) = converter {
                    description.memo = super::decode::payloads(converter, description.memo);
                }
                Ok(description)
            }
        }
    }

    pub(crate) async fn history(
        &self,
        workflow_id: &str,
        run_id: Option<&str>,
    ) -> Result<Vec<Event>, CliError> {
        match self {
            Source::Server { client, .. } => {
                let backend = client.backend();
                Ok(backend
                    .history(client.namespace(), workflow_id, run_id)
                    .await?)
            }
            Source::File {
                store,
                namespace,
                converter,
                ..
            } => {
                let run = store.describe_run(namespace, workflow_id, run_id)?;
                let events = store.history(namespace, &run.run_id)?;
                match converter {
                    Some(converter) => super::decode::events(converter, events),
                    None => Ok(events),
                }
            }
        }
    }

    /// The namespace's schedules: the server's engine's, or as the file's
    /// rows hold them, next times from the wall clock.
    pub(crate) async fn list_schedules(&self) -> Result<Vec<ScheduleListEntry>, CliError> {
        match self {
            Source::Server { client, .. } => Ok(client.list_schedules().await?),
            Source::File {
                store, namespace, ..
            } => Ok(store.list_schedules(namespace)?),
        }
    }

    /// A schedule described, from the server or the file. An id the file
    /// does not hold is said with the ids it does.
    pub(crate) async fn describe_schedule(
        &self,
        id: &str,
    ) -> Result<ScheduleDescription, CliError> {
        match self {
            Source::Server { client, .. } => Ok(client.schedule_handle(id).describe().await?),
            Source::File {
                store,
                path,
                namespace,
                converter,
            } => {
                let mut description = match store.describe_schedule(namespace, id) {
                    Err(BackendError::ScheduleNotFound { .. }) => {
                        // The ids held, unless a row does not decode (the
                        // listing would say so; here the id is what matters).
                        let held = store.list_schedules(namespace).ok();
                        return Err(schedule_not_found(id, path, namespace, held.as_deref()));
                    }
                    other => other?,
                };
                if let Some(converter) = converter {
                    decode_action(converter, &mut description);
                }
                Ok(description)
            }
        }
    }
}

/// An unknown schedule id in a file: which ids the file holds, or that it
/// holds none (`held`, when they could be read).
fn schedule_not_found(
    id: &str,
    path: &std::path::Path,
    namespace: &str,
    held: Option<&[ScheduleListEntry]>,
) -> CliError {
    const SHOWN_IDS: usize = 10;
    let shown = path.display();
    let holds = match held {
        None => format!("{shown} has no schedule of that id in namespace {namespace:?}"),
        Some([]) => format!("{shown} holds no schedules in namespace {namespace:?}"),
        Some(held) => held_ids(held, SHOWN_IDS, &shown.to_string(), namespace),
    };
    CliError::Other(format!("schedule {id:?} not found: {holds}"))
}

/// The first `n` ids of `held`, and how to list them all.
fn held_ids(held: &[ScheduleListEntry], n: usize, shown: &str, namespace: &str) -> String {
    let mut ids: Vec<&str> = held
        .iter()
        .take(n)
        .map(|e| e.schedule_id.as_str())
        .collect();
    if held.len() > n {
        ids.push("…");
    }
    format!(
        "{shown} holds, in namespace {namespace:?}: {} (`weft schedule list --db {shown}` \
         lists them)",
        ids.join(", ")
    )
}

/// The input and memo of the workflows a schedule starts, decoded with
/// the workers' keys (as a client with them decodes a server's answer);
/// a payload that does not decode is left as stored.
fn decode_action(converter: &DataConverter, description: &mut ScheduleDescription) {
    let ScheduleAction::StartWorkflow(action) = &mut description.schedule.action;
    // One payload at a time, as everything read from a file is decoded.
    let input = std::mem::take(&mut action.input).into_iter().enumerate();
    action.input = super::decode::payloads(converter, input.collect())
        .into_values()
        .collect();
    let memo = std::mem::take(&mut action.options.memo);
    action.options.memo = super::decode::payloads(converter, memo);
}
