//! How a server is set up, and the errors starting one can end with.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use weft::DataConverter;

/// Where and how a server serves.
#[derive(Clone, Debug)]
pub struct ServerConfig {
    /// `host:port` to listen on (port 0 picks a free one). Loopback by
    /// default: serving other hosts is a choice, best made with TLS.
    pub address: String,
    /// TLS, or mutual TLS when it names a client CA; plaintext when `None`.
    pub tls: Option<ServerTls>,
    /// How long a worker's long poll waits for a task before it is
    /// answered empty (and the worker polls again).
    pub long_poll: Duration,
    /// Largest request body accepted; larger ones get 413.
    pub max_request_bytes: usize,
    /// The namespaces served (`None`: all); calls in others get 403.
    pub namespaces: Option<Vec<String>>,
    /// The engine's SQLite file, read (read-only) for listings and the UI;
    /// without it, listing answers "not supported".
    pub sqlite_path: Option<PathBuf>,
    /// The codec chain the clients and workers encode payloads with, so
    /// the web UI can show them decoded (`/api/v1/codec/decode`); the
    /// engine still stores and serves them as the clients encoded them.
    pub data_converter: Option<DataConverter>,
    /// With mutual TLS: the namespaces each client certificate may use,
    /// by a name it is valid for (a DNS subject alternative name). When
    /// any are given, a certificate may use only the namespaces of its
    /// names, and one with none of them no namespace (403). Empty: every
    /// caller may use every namespace served.
    pub client_namespaces: BTreeMap<String, Vec<String>>,
}

/// The address a server listens on unless told otherwise.
pub const DEFAULT_ADDRESS: &str = "127.0.0.1:7233";

impl ServerConfig {
    /// Plaintext on `address`, a 30 s long poll, 8 MiB requests, every
    /// namespace.
    pub fn new(address: impl Into<String>) -> Self {
        ServerConfig {
            address: address.into(),
            tls: None,
            long_poll: Duration::from_secs(30),
            max_request_bytes: 8 * 1024 * 1024,
            namespaces: None,
            sqlite_path: None,
            data_converter: None,
            client_namespaces: BTreeMap::new(),
        }
    }

    /// Serves over TLS (mutual TLS when `tls.client_ca_cert` is set).
    pub fn tls(mut self, tls: ServerTls) -> Self {
        self.tls = Some(tls);
        self
    }

    /// Lists workflows from this SQLite file (the engine's).
    pub fn sqlite_path(mut self, path: impl Into<PathBuf>) -> Self {
        self.sqlite_path = Some(path.into());
        self
    }

    /// Decodes payloads for the web UI with `converter` (the one the
    /// clients and workers use, or one with just their codecs' keys).
    pub fn data_converter(mut self, converter: DataConverter) -> Self {
        self.data_converter = Some(converter);
        self
    }

    /// With mutual TLS, lets client certificates valid for `name` use
    /// `namespaces` (see the field [`client_namespaces`](ServerConfig#structfield.client_namespaces)).
    pub fn client_namespaces(
        mut self,
        name: impl Into<String>,
        namespaces: impl IntoIterator<Item = impl Into<String>>,
    ) -> Self {
        self.client_namespaces
            .entry(name.into())
            .or_default()
            .extend(namespaces.into_iter().map(Into::into));
        self
    }

    /// Serves only these namespaces.
    pub fn namespaces(mut self, namespaces: Vec<String>) -> Self {
        self.namespaces = Some(namespaces);
        self
    }

    /// Long polls wait this long for a task.
    pub fn long_poll(mut self, long_poll: Duration) -> Self {
        self.long_poll = long_poll;
        self
    }

    /// Requests over this many bytes are refused with 413.
    pub fn max_request_bytes(mut self, bytes: usize) -> Self {
        self.max_request_bytes = bytes;
        self
    }
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig::new(DEFAULT_ADDRESS)
    }
}

/// The server's certificate and key, and for mutual TLS the CA that
/// client certificates must chain to. All PEM.
#[derive(Clone)]
pub struct ServerTls {
    /// The server's certificate chain, leaf first.
    pub cert_chain: Vec<u8>,
    /// Its private key.
    pub private_key: Vec<u8>,
    /// When set, every client must present a certificate signed by this
    /// CA (mutual TLS); connections without one are refused.
    pub client_ca_cert: Option<Vec<u8>>,
}

impl std::fmt::Debug for ServerTls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerTls")
            .field("mutual", &self.client_ca_cert.is_some())
            .finish_non_exhaustive()
    }
}

/// Why a server did not start.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// The address could not be listened on.
    #[error("cannot listen on {address}: {source}")]
    Bind {
        /// The address.
        address: String,
        /// Why.
        source: std::io::Error,
    },
    /// The TLS configuration is unusable.
    #[error("TLS configuration: {0}")]
    Tls(String),
}
