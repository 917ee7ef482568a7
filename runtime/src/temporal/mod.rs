//! weft on a Temporal cluster (behind the `temporal` feature): the same
//! workflows, activities, workers and clients, with Temporal's server in
//! place of weft's engine.
//!
//! [`Client::connect_temporal`] gives a client whose backend speaks
//! Temporal's frontend API (`WorkflowService` over gRPC): start, signal,
//! query, update, cancel, terminate, describe, history, results.
//! `Worker::new(&client, queue)` on such a client runs on Temporal's own
//! worker core (`temporalio-sdk-core`): core polls the server, keeps the
//! sticky cache, turns history into activations and checks replayed
//! commands, and weft's executor answers each activation with its
//! commands, exactly as it answers weft's own driver. The seam is the
//! executor's activation/command boundary, not the [`Backend`] poll
//! calls: core owns polling, so a Temporal worker never calls them.
//!
//! This module owns the mapping to Temporal's protos and its crates; it
//! must not reach into the engine.

mod activities;
mod chain;
mod client;
mod commands;
mod convert;
mod events;
mod history;
mod jobs;
mod json;
mod schedules;
mod search;
mod side_effects;
mod visibility;
mod workflows;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use temporalio_client::{
    ClientTlsOptions, Connection, ConnectionOptions, TlsOptions as CoreTls, Url,
};
use temporalio_common::telemetry::TelemetryOptions;
use temporalio_common::worker::WorkerTaskTypes;
use temporalio_sdk_core::{
    CoreRuntime, RuntimeOptions, WorkerConfig, WorkerVersioningStrategy, init_worker,
};
use tokio::sync::watch;
use tokio::task::JoinSet;

use crate::activity::ErasedActivity;
use crate::backend::{Backend, BackendError, DEFAULT_NAMESPACE};
use crate::client::{Client, ClientError};
use crate::telemetry::{ActivityInterceptor, Metrics};
use crate::worker::intercept::Chain;
use crate::workflow::executor::Factory;

pub use self::client::TemporalBackend;
pub use self::json::{HistoryJsonError, history_from_json};

/// TLS to a Temporal frontend; mutual TLS when a client certificate and
/// key are given. Certificates and keys are PEM.
#[derive(Clone, Debug, Default)]
pub struct TlsConfig {
    /// The CA that signed the server's certificate (the system's roots
    /// when `None`).
    pub server_root_ca_cert: Option<Vec<u8>>,
    /// The client's certificate chain, for mutual TLS.
    pub client_cert: Option<Vec<u8>>,
    /// The client certificate's private key.
    pub client_private_key: Option<Vec<u8>>,
    /// The name to check the server's certificate against (the target's
    /// host when `None`).
    pub domain: Option<String>,
}

/// How [`Client::connect_temporal`] connects.
#[derive(Clone, Debug)]
pub struct TemporalOptions {
    /// The namespace to work in (default `"default"`).
    pub namespace: String,
    /// Who the client and its workers say they are (recorded in history).
    pub identity: String,
    /// TLS or mutual TLS; plaintext when `None`.
    pub tls: Option<TlsConfig>,
    /// How long connecting may take.
    pub connect_timeout: Duration,
}

impl Default for TemporalOptions {
    fn default() -> Self {
        TemporalOptions {
            namespace: DEFAULT_NAMESPACE.to_string(),
            identity: format!("weft@{}", std::process::id()),
            tls: None,
            connect_timeout: Duration::from_secs(10),
        }
    }
}

impl TemporalOptions {
    /// Plaintext, namespace `default`, a 10 s connect timeout.
    pub fn new() -> Self {
        TemporalOptions::default()
    }

    /// Works in `namespace`.
    pub fn namespace(mut self, namespace: impl Into<String>) -> Self {
        self.namespace = namespace.into();
        self
    }

    /// Connects with TLS (mutual TLS with a client certificate).
    pub fn tls(mut self, tls: TlsConfig) -> Self {
        self.tls = Some(tls);
        self
    }

    /// Names the client and its workers.
    pub fn identity(mut self, identity: impl Into<String>) -> Self {
        self.identity = identity.into();
        self
    }
}

/// `host:port` or a URL, as the URL to dial.
fn target_url(target: &str, tls: bool) -> Result<Url, BackendError> {
    let with_scheme = if target.contains("://") {
        target.to_string()
    } else if tls {
        format!("https://{target}")
    } else {
        format!("http://{target}")
    };
    Url::parse(&with_scheme).map_err(|e| {
        BackendError::InvalidArgument(format!(
            "Temporal target {target:?} is not host:port or a URL: {e}"
        ))
    })
}

fn core_tls(tls: &TlsConfig) -> Result<CoreTls, BackendError> {
    let client_tls_options = match (&tls.client_cert, &tls.client_private_key) {
        (Some(cert), Some(key)) => Some(
            ClientTlsOptions::builder()
                .client_cert(cert.clone())
                .client_private_key(key.clone())
                .build(),
        ),
        (None, None) => None,
        _ => {
            return Err(BackendError::InvalidArgument(
                "mutual TLS needs both client_cert and client_private_key".into(),
            ));
        }
    };
    Ok(CoreTls::builder()
        .maybe_server_root_ca_cert(tls.server_root_ca_cert.clone())
        .maybe_domain(tls.domain.clone())
        .maybe_client_tls_options(client_tls_options)
        .build())
}

/// Opens a connection to a Temporal frontend and checks that it answers.
async fn connect(target: &str, options: &TemporalOptions) -> Result<Connection, BackendError> {
    let url = target_url(target, options.tls.is_some())?;
    let tls = options.tls.as_ref().map(core_tls).transpose()?;
    let connection_options = ConnectionOptions::new(url)
        .identity(options.identity.clone())
        .maybe_tls_options(tls)
        .connect_timeout(options.connect_timeout)
        .build();
    Connection::connect(connection_options).await.map_err(|e| {
        let error = BackendError::Unavailable(format!(
            "cannot connect to Temporal at {target}: {}{}",
            error_chain(&e),
            refusal_hint(&e.to_string(), options.tls.is_some())
        ));
        tracing::warn!(target, error = %error, "Temporal connection failed");
        error
    })
}

/// What an HTTP 400 in place of a gRPC answer means: a proxy in front of
/// the frontend refused the request (nginx answers so when it requires a
/// client certificate and none, or an untrusted one, was sent).
fn refusal_hint(message: &str, tls: bool) -> &'static str {
    match (message.contains("400 Bad Request"), tls) {
        (true, true) => {
            " (HTTP 400 from a proxy in front of Temporal: the TLS terminator refused the \
             request; a missing client certificate, or one its CA did not sign, is answered so)"
        }
        (true, false) => " (HTTP 400 from a proxy in front of Temporal: does it expect TLS?)",
        _ => "",
    }
}

/// An error with its sources, on one line (TLS refusals sit deep).
fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        source = s.source();
    }
    out
}

impl Client {
    /// Connects to a Temporal frontend at `target` (`host:port`, or a URL):
    /// the client, and the workers built on it (`Worker::new(&client, ..)`),
    /// run weft workflows on the Temporal cluster.
    ///
    /// ```no_run
    /// # async fn f() -> Result<(), weft::ClientError> {
    /// use weft::temporal::TemporalOptions;
    /// let client = weft::Client::connect_temporal("127.0.0.1:7233", TemporalOptions::new()).await?;
    /// # let _ = client; Ok(()) }
    /// ```
    pub async fn connect_temporal(
        target: &str,
        options: TemporalOptions,
    ) -> Result<Client, ClientError> {
        let connection = connect(target, &options).await?;
        let backend = TemporalBackend::new(connection, &options).await?;
        Ok(Client::from_arc(Arc::new(backend)).with_namespace(options.namespace))
    }
}

/// What a worker on a Temporal backend is made of (see
/// [`crate::Worker`]): its registrations and options.
pub(crate) struct WorkerParts {
    pub namespace: String,
    pub task_queue: String,
    pub identity: String,
    pub max_cached_workflows: usize,
    pub max_concurrent_workflow_tasks: usize,
    pub max_concurrent_activities: usize,
    pub factories: HashMap<String, Factory>,
    pub workflow_interceptors: Chain,
    pub activities: HashMap<String, ErasedActivity>,
    pub activity_interceptors: Arc<[Arc<dyn ActivityInterceptor>]>,
    pub metrics: Option<Metrics>,
    pub converter: Option<crate::converter::DataConverter>,
}

/// The Temporal connection a worker built on a [`TemporalBackend`] uses,
/// reached through [`Backend::worker_host`].
pub(crate) struct WorkerHost {
    connection: Connection,
}

/// The worker host behind `backend`, if it is a Temporal backend.
pub(crate) fn worker_host(backend: &dyn Backend) -> Option<Arc<WorkerHost>> {
    backend
        .worker_host()
        .and_then(|host| host.downcast::<WorkerHost>().ok())
}

fn worker_config(parts: &WorkerParts) -> Result<WorkerConfig, String> {
    WorkerConfig::builder()
        .namespace(parts.namespace.clone())
        .task_queue(parts.task_queue.clone())
        .task_types(WorkerTaskTypes {
            enable_workflows: !parts.factories.is_empty(),
            enable_local_activities: !parts.factories.is_empty(),
            enable_remote_activities: !parts.activities.is_empty(),
            enable_nexus: false,
        })
        .versioning_strategy(WorkerVersioningStrategy::None {
            build_id: format!("weft-{}", env!("CARGO_PKG_VERSION")),
        })
        .client_identity_override(parts.identity.clone())
        .max_cached_workflows(parts.max_cached_workflows)
        // Core needs two workflow task slots when it caches runs.
        .max_outstanding_workflow_tasks(parts.max_concurrent_workflow_tasks.max(2))
        .max_outstanding_activities(parts.max_concurrent_activities.max(1))
        .max_outstanding_local_activities(parts.max_concurrent_activities.max(1))
        .build()
}

/// Starts a worker on Temporal's core: its workflow and activity loops,
/// and a task that shuts core down (draining both loops) when `stop`
/// turns true.
pub(crate) fn start_worker(
    host: &WorkerHost,
    parts: WorkerParts,
    mut stop: watch::Receiver<bool>,
) -> Result<JoinSet<()>, String> {
    side_effects::check_registered(parts.activities.keys())?;
    let runtime_options = RuntimeOptions::builder()
        .telemetry_options(TelemetryOptions::builder().build())
        .heartbeat_interval(None)
        .build()?;
    let runtime = CoreRuntime::new_assume_tokio(runtime_options)
        .map_err(|e| format!("Temporal core runtime: {e:#}"))?;
    let config = worker_config(&parts)?;
    let core = Arc::new(
        init_worker(&runtime, config, host.connection.clone())
            .map_err(|e| format!("Temporal worker: {e:#}"))?,
    );
    // Workflows need the activity loop for the local activities that
    // record their side effects, activities of their own or not.
    let runs_activities = !parts.activities.is_empty() || !parts.factories.is_empty();
    let workflow_thread = if parts.factories.is_empty() {
        None
    } else {
        Some(
            workflows::spawn(workflows::Setup {
                namespace: parts.namespace.clone(),
                task_queue: parts.task_queue.clone(),
                factories: parts.factories,
                interceptors: parts.workflow_interceptors,
                converter: parts.converter.clone(),
            })
            .map_err(|e| format!("cannot start the workflow thread: {e}"))?,
        )
    };
    let activity_setup = runs_activities.then(|| {
        Arc::new(activities::Setup {
            namespace: parts.namespace.clone(),
            task_queue: parts.task_queue.clone(),
            activities: parts.activities,
            interceptors: parts.activity_interceptors,
            metrics: parts.metrics,
            converter: parts.converter,
        })
    });
    let task_queue = parts.task_queue;
    let mut tasks = JoinSet::new();
    tasks.spawn(async move {
        if let Err(e) = core.validate().await {
            tracing::error!(task_queue, error = %e, "the Temporal worker cannot poll");
        }
        let mut loops = JoinSet::new();
        if let Some(thread) = workflow_thread {
            loops.spawn(workflows::workflow_loop(core.clone(), thread));
        }
        if let Some(setup) = activity_setup {
            loops.spawn(activities::activity_loop(core.clone(), setup));
        }
        while !*stop.borrow() {
            if stop.changed().await.is_err() {
                break;
            }
        }
        core.initiate_shutdown();
        while loops.join_next().await.is_some() {}
        match Arc::try_unwrap(core) {
            Ok(core) => core.finalize_shutdown().await,
            Err(core) => core.shutdown().await,
        }
        drop(runtime);
        tracing::debug!(task_queue, "Temporal worker shut down");
    });
    Ok(tasks)
}
