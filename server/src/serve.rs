//! The listener: accepts connections, handshakes TLS when configured, and
//! serves HTTP/2 or HTTP/1.1 on each (whichever the client speaks).

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Extension;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinSet;
use tokio_rustls::TlsAcceptor;
use weft::backend::Backend;

use crate::access::Access;
use crate::config::{ServerConfig, ServerError};
use crate::routes::{AppState, router};

/// How long a client may take to finish its TLS handshake.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// How long a client may take to send a request's head (HTTP/1.1).
const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(30);

/// HTTP/2 pings to an idle client, and how long its answer may take.
const PING_INTERVAL: Duration = Duration::from_secs(30);
const PING_TIMEOUT: Duration = Duration::from_secs(20);

/// Calls in flight on one HTTP/2 connection: a client waiting on many
/// results at once holds a stream for each.
const MAX_STREAMS: u32 = 10_000;

/// How long a refused TLS connection is kept to deliver its alert.
const LINGER: Duration = Duration::from_secs(2);

/// A running server. Dropping it leaves it running until the runtime
/// ends; [`Server::shutdown`] stops it.
pub struct Server {
    local_addr: SocketAddr,
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl Server {
    /// Listens on `config.address` and serves `backend` there. Returns once
    /// the address is bound (so [`Server::local_addr`] is known and clients
    /// may connect).
    pub async fn start(
        backend: Arc<dyn Backend>,
        config: ServerConfig,
    ) -> Result<Server, ServerError> {
        let acceptor = config.tls.as_ref().map(|tls| tls.acceptor()).transpose()?;
        let mutual = config
            .tls
            .as_ref()
            .is_some_and(|tls| tls.client_ca_cert.is_some());
        crate::access::check_config(&config.client_namespaces, mutual)?;
        let access_map = Arc::new(config.client_namespaces.clone());
        let listener = TcpListener::bind(&config.address).await.map_err(|source| {
            tracing::error!(address = %config.address, error = %source, "cannot listen");
            ServerError::Bind {
                address: config.address.clone(),
                source,
            }
        })?;
        let local_addr = listener.local_addr().map_err(|source| ServerError::Bind {
            address: config.address.clone(),
            source,
        })?;
        if !local_addr.ip().is_loopback() && acceptor.is_none() {
            tracing::warn!(%local_addr, "serving other hosts without TLS: anyone who reaches the address can run and read workflows");
        }
        let state = Arc::new(AppState {
            backend,
            long_poll: config.long_poll,
            namespaces: config.namespaces.clone(),
            sqlite_path: config.sqlite_path.clone(),
            data_converter: config.data_converter.clone(),
        });
        let app = router(state, config.max_request_bytes);
        let (stop, stopped) = watch::channel(false);
        let task = tokio::spawn(accept_loop(listener, acceptor, app, access_map, stopped));
        tracing::info!(%local_addr, tls = config.tls.is_some(), "weft server listening");
        Ok(Server {
            local_addr,
            stop,
            task,
        })
    }

    /// The address the server listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Stops accepting and closes every connection; calls in flight are
    /// cut (clients see the server as unavailable, and workers retry).
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }
}

async fn accept_loop(
    listener: TcpListener,
    acceptor: Option<TlsAcceptor>,
    app: axum::Router,
    access_map: Arc<BTreeMap<String, Vec<String>>>,
    mut stopped: watch::Receiver<bool>,
) {
    let mut connections = JoinSet::new();
    loop {
        let accepted = tokio::select! {
            _ = stopped.changed() => break,
            accepted = listener.accept() => accepted,
        };
        while connections.try_join_next().is_some() {}
        let (tcp, peer) = match accepted {
            Ok(accepted) => accepted,
            Err(e) => {
                // Out of file descriptors, say: wait a little, go on.
                tracing::warn!(error = %e, "accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let _ = tcp.set_nodelay(true);
        let app = app.clone();
        let acceptor = acceptor.clone();
        let access_map = access_map.clone();
        connections.spawn(async move {
            match acceptor {
                None => {
                    let app = app.layer(Extension(Access::Any));
                    serve_connection(tcp, peer, app).await
                }
                Some(acceptor) => {
                    let handshake = acceptor.accept(tcp).into_fallible();
                    match tokio::time::timeout(HANDSHAKE_TIMEOUT, handshake).await {
                        Ok(Ok(tls)) => {
                            // The certificate rustls verified: its names
                            // decide the caller's namespaces.
                            let leaf = tls.get_ref().1.peer_certificates().and_then(|c| c.first());
                            let access = Access::of(&access_map, leaf);
                            tracing::debug!(%peer, ?access, "connection admitted");
                            serve_connection(tls, peer, app.layer(Extension(access))).await
                        }
                        Ok(Err((e, tcp))) => {
                            tracing::warn!(%peer, error = %e, "TLS handshake refused");
                            linger(tcp).await;
                        }
                        Err(_) => tracing::warn!(%peer, "TLS handshake timed out"),
                    }
                }
            }
        });
    }
    connections.shutdown().await;
}

/// Closes a refused connection so that the client reads the TLS alert
/// that says why (a missing or untrusted certificate): with TLS 1.3 the
/// client has already sent its first request, and closing with that
/// unread would reset the connection and discard the alert. So: end our
/// side, and read what the client sends until it closes (briefly).
async fn linger(mut tcp: tokio::net::TcpStream) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let _ = tcp.shutdown().await;
    let drain = async {
        let mut buffer = [0u8; 4096];
        let mut left = 256 * 1024usize;
        while left > 0 {
            match tcp.read(&mut buffer).await {
                Ok(0) | Err(_) => break,
                Ok(n) => left = left.saturating_sub(n),
            }
        }
    };
    let _ = tokio::time::timeout(LINGER, drain).await;
}

async fn serve_connection<S>(io: S, peer: SocketAddr, app: axum::Router)
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let service = TowerToHyperService::new(app);
    let mut builder = auto::Builder::new(TokioExecutor::new());
    // A client that never finishes its request head is dropped; a peer
    // that vanished without closing (a machine lost, not a process: the
    // kernel closes a killed process's sockets) is found by pings.
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_READ_TIMEOUT);
    builder
        .http2()
        .timer(TokioTimer::new())
        .keep_alive_interval(PING_INTERVAL)
        .keep_alive_timeout(PING_TIMEOUT)
        .max_concurrent_streams(MAX_STREAMS);
    if let Err(e) = builder.serve_connection(TokioIo::new(io), service).await {
        tracing::debug!(%peer, error = %e, "connection ended");
    }
}
