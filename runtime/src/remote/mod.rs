//! A client of a weft server: the same [`Client`] and [`Worker`](crate::Worker)
//! API over the network (behind the `remote` feature).
//!
//! [`Client::connect`] opens a connection to a server (`weft server start`,
//! or one an application embeds with `weft-server`) and gives a client
//! whose backend is a [`RemoteBackend`]: every [`Backend`](crate::backend::Backend) call becomes a
//! call of the server's API ([`api`]), so typed handles, generated stubs
//! and `Worker::new(&client, ..)` work unchanged. Workers in several
//! processes may poll one task queue: the server hands each task to one of
//! them, and a task whose worker dies is handed out again when its timeout
//! passes. The API is HTTP/2 with JSON bodies, over TLS or mutual TLS
//! when the server asks for it ([`TlsConfig`]).
//!
//! This module owns the wire: it must not reach into the engine.

pub mod api;
mod backend;
mod tls;
mod transport;

use std::sync::Arc;
use std::time::Duration;

use tokio_rustls::TlsConnector;

use crate::backend::{BackendError, DEFAULT_NAMESPACE};
use crate::client::{Client, ClientError};

pub use self::backend::RemoteBackend;
pub use self::tls::{TlsConfig, certificates, private_key, provider};

/// How [`Client::connect`] connects.
#[derive(Clone, Debug)]
pub struct ConnectOptions {
    /// The namespace the client works in (default `"default"`).
    pub namespace: String,
    /// TLS, or mutual TLS with a client certificate; plaintext when `None`.
    pub tls: Option<TlsConfig>,
    /// How long connecting (TCP and the TLS handshake) may take.
    pub connect_timeout: Duration,
}

impl Default for ConnectOptions {
    fn default() -> Self {
        ConnectOptions {
            namespace: DEFAULT_NAMESPACE.to_string(),
            tls: None,
            connect_timeout: Duration::from_secs(10),
        }
    }
}

impl ConnectOptions {
    /// Plaintext, the default namespace, a 10 s connect timeout.
    pub fn new() -> Self {
        ConnectOptions::default()
    }

    /// Works in `namespace`.
    pub fn namespace(mut self, namespace: impl Into<String>) -> Self {
        self.namespace = namespace.into();
        self
    }

    /// Connects with TLS (mutual TLS when a client certificate is given).
    pub fn tls(mut self, tls: TlsConfig) -> Self {
        self.tls = Some(tls);
        self
    }

    /// Gives up connecting after `timeout`.
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }
}

/// The host of `host:port` (`[v6]:port` included).
fn host_of(address: &str) -> Result<&str, BackendError> {
    let (host, port) = address.rsplit_once(':').ok_or_else(|| {
        BackendError::InvalidArgument(format!(
            "server address {address:?} has no port: write host:port, e.g. 127.0.0.1:7233"
        ))
    })?;
    if port.parse::<u16>().is_err() || host.is_empty() {
        return Err(BackendError::InvalidArgument(format!(
            "server address {address:?} is not host:port, e.g. 127.0.0.1:7233"
        )));
    }
    Ok(host.trim_start_matches('[').trim_end_matches(']'))
}

impl RemoteBackend {
    /// Connects to the server at `address` (`host:port`) and checks that
    /// it answers (so a refused certificate or an unreachable server is
    /// reported here, not at the first call).
    pub async fn connect(
        address: &str,
        options: &ConnectOptions,
    ) -> Result<(RemoteBackend, api::ServerInfo), BackendError> {
        let host = host_of(address)?;
        let tls = match &options.tls {
            None => None,
            Some(config) => {
                let (config, name) = config.client(host)?;
                Some((TlsConnector::from(config), name))
            }
        };
        let transport =
            transport::Transport::new(address.to_string(), tls, options.connect_timeout);
        let backend = RemoteBackend::new(transport);
        let info = backend.hello().await.inspect_err(|e| {
            tracing::warn!(address, error = %e, "cannot reach the weft server");
        })?;
        if let Some(served) = &info.namespaces
            && !served.contains(&options.namespace)
        {
            let e = BackendError::PermissionDenied(format!(
                "the server at {address} does not serve namespace {:?} to this client (it serves it {served:?}; \
                 with mutual TLS, a server may give each client certificate its own namespaces)",
                options.namespace
            ));
            tracing::warn!(error = %e, "namespace not served");
            return Err(e);
        }
        Ok((backend, info))
    }
}

impl Client {
    /// Connects to a weft server at `address` (`host:port`): the client
    /// and workers built on it (`Worker::new(&client, ..)`) reach the
    /// server's engine, exactly as an in-process client reaches its own.
    ///
    /// ```no_run
    /// # async fn f() -> Result<(), weft::ClientError> {
    /// use weft::remote::ConnectOptions;
    /// let client = weft::Client::connect("127.0.0.1:7233", ConnectOptions::new()).await?;
    /// # let _ = client; Ok(()) }
    /// ```
    pub async fn connect(address: &str, options: ConnectOptions) -> Result<Client, ClientError> {
        let (backend, _info) = RemoteBackend::connect(address, &options).await?;
        Ok(Client::from_arc(Arc::new(backend)).with_namespace(options.namespace))
    }
}
