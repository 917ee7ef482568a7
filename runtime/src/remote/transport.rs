//! One HTTP/2 connection to a server, over TCP or TLS, redialed when it
//! drops. Every call is a stream of it, so a worker's long polls and its
//! completions share one connection, and a call given up (a worker
//! shutting down mid-poll) resets only its stream: the server drops the
//! poll at once instead of handing it a task nobody will read.

use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http2::{self, SendRequest};
use hyper::header::{CONTENT_TYPE, HeaderValue};
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use rustls_pki_types::ServerName;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio::sync::{Mutex, watch};
use tokio_rustls::TlsConnector;

use super::api::{ApiError, Call};
use crate::backend::BackendError;

/// One HTTP/2 connection: where requests go, and how it ended (the
/// connection task's error, which says more than a failed request can:
/// a TLS alert, a reset).
#[derive(Clone)]
struct Conn {
    sender: SendRequest<Full<Bytes>>,
    ended: watch::Receiver<Option<String>>,
}

impl Conn {
    fn is_closed(&self) -> bool {
        self.sender.is_closed()
    }

    /// Why the connection ended, once its task has said so (briefly
    /// awaited: a request fails as the connection ends).
    async fn why_ended(&self) -> Option<String> {
        let mut ended = self.ended.clone();
        let wait = ended.wait_for(Option::is_some);
        match tokio::time::timeout(Duration::from_secs(1), wait).await {
            Ok(Ok(why)) => why.clone().filter(|w| !w.is_empty()),
            _ => None,
        }
    }
}

/// Largest answer read from a server (a long history export fits).
const MAX_ANSWER_BYTES: usize = 256 * 1024 * 1024;

pub(crate) struct Transport {
    /// `host:port`.
    address: String,
    tls: Option<(TlsConnector, ServerName<'static>)>,
    connect_timeout: Duration,
    /// Two connections: one for workers' task calls (polls, completions,
    /// heartbeats), one for everything else. A server caps the calls in
    /// flight on a connection, and a client's waits (results, updates)
    /// can hold them all for as long as they wait; on a connection of
    /// their own, the worker calls that end those waits always get through.
    lanes: [Mutex<Option<Conn>>; 2],
}

/// The lane of a call: 0 for workers' task calls, 1 for the rest.
fn lane_of(path: &str) -> usize {
    usize::from(!path.starts_with("/api/v1/tasks/"))
}

/// The error and its causes, as one line.
pub(crate) fn chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let more = cause.to_string();
        if !text.contains(&more) {
            text.push_str(": ");
            text.push_str(&more);
        }
        source = cause.source();
    }
    text
}

/// What to change, for the failures a configuration causes.
fn hint(text: &str, tls: bool) -> &'static str {
    let lower = text.to_ascii_lowercase();
    if lower.contains("certificaterequired") || lower.contains("certificate required") {
        " (the server requires a client certificate: set TlsConfig::client_cert and client_private_key)"
    } else if lower.contains("unknownissuer") || lower.contains("unknown issuer") {
        " (the server's certificate is not signed by TlsConfig::server_root_ca_cert)"
    } else if lower.contains("unknownca")
        || lower.contains("unknown ca")
        || lower.contains("badcertificate")
        || lower.contains("bad certificate")
    {
        " (the server refused the client certificate: it is not signed by a CA the server trusts)"
    } else if lower.contains("certificateexpired")
        || lower.contains("certificate expired")
        || lower.contains("expired")
    {
        " (a certificate has expired)"
    } else if lower.contains("notvalidforname") || lower.contains("not valid for name") {
        " (the server's certificate does not name this host: set TlsConfig::domain)"
    } else if tls && (lower.contains("corrupt message") || lower.contains("invalidcontenttype")) {
        " (the server does not speak TLS: connect without a TlsConfig)"
    } else if !tls
        && (lower.contains("connection closed")
            || lower.contains("connection reset")
            || lower.contains("frame with invalid size")
            || lower.contains("broken pipe"))
    {
        " (if the server uses TLS, connect with a TlsConfig)"
    } else {
        ""
    }
}

impl Transport {
    pub(crate) fn new(
        address: String,
        tls: Option<(TlsConnector, ServerName<'static>)>,
        connect_timeout: Duration,
    ) -> Self {
        Transport {
            address,
            tls,
            connect_timeout,
            lanes: [Mutex::new(None), Mutex::new(None)],
        }
    }

    fn unavailable(&self, what: &str, text: String) -> BackendError {
        let hint = hint(&text, self.tls.is_some());
        BackendError::Unavailable(format!("{what} {}: {text}{hint}", self.address))
    }

    /// A sender on the current connection, dialing one when there is none
    /// or it has closed.
    async fn sender(&self, lane: usize) -> Result<Conn, BackendError> {
        let mut current = self.lanes[lane].lock().await;
        if let Some(sender) = current.as_ref()
            && !sender.is_closed()
        {
            return Ok(sender.clone());
        }
        *current = None;
        let sender = self.dial().await?;
        *current = Some(sender.clone());
        Ok(sender)
    }

    async fn dial(&self) -> Result<Conn, BackendError> {
        let connect = TcpStream::connect(&self.address);
        let tcp = match tokio::time::timeout(self.connect_timeout, connect).await {
            Err(_) => {
                let text = format!("no answer within {:?}", self.connect_timeout);
                return Err(self.unavailable("cannot connect to", text));
            }
            Ok(Err(e)) => return Err(self.unavailable("cannot connect to", e.to_string())),
            Ok(Ok(tcp)) => tcp,
        };
        // Small requests and answers: don't hold them back for more.
        let _ = tcp.set_nodelay(true);
        match &self.tls {
            None => self.handshake(tcp).await,
            Some((connector, name)) => {
                let tls = tokio::time::timeout(
                    self.connect_timeout,
                    connector.connect(name.clone(), tcp),
                )
                .await
                .map_err(|_| self.unavailable("TLS handshake timed out with", String::new()))?
                .map_err(|e| self.unavailable("TLS handshake failed with", chain(&e)))?;
                self.handshake(tls).await
            }
        }
    }

    async fn handshake<S>(&self, io: S) -> Result<Conn, BackendError>
    where
        S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        let (sender, connection) = http2::Builder::new(TokioExecutor::new())
            .timer(TokioTimer::new())
            .initial_stream_window_size(4 << 20)
            .initial_connection_window_size(16 << 20)
            .keep_alive_interval(Duration::from_secs(30))
            .keep_alive_timeout(Duration::from_secs(20))
            .keep_alive_while_idle(true)
            .handshake(TokioIo::new(io))
            .await
            .map_err(|e| self.unavailable("HTTP/2 handshake failed with", chain(&e)))?;
        let address = self.address.clone();
        let (tell, ended) = watch::channel(None);
        tokio::spawn(async move {
            let why = match connection.await {
                Ok(()) => String::new(),
                Err(e) => {
                    let why = chain(&e);
                    tracing::debug!(%address, error = %why, "connection to the server ended");
                    why
                }
            };
            let _ = tell.send(Some(why));
        });
        Ok(Conn { sender, ended })
    }

    /// Posts a call and decodes its answer.
    pub(crate) async fn call<C: Call>(&self, call: &C) -> Result<C::Response, BackendError> {
        let body = serde_json::to_vec(call).map_err(|e| {
            BackendError::InvalidArgument(format!("cannot encode the request {}: {e}", C::PATH))
        })?;
        let body = Bytes::from(body);
        let lane = lane_of(C::PATH);
        let mut conn = self.sender(lane).await?;
        if conn.sender.ready().await.is_err() {
            // The connection dropped since it was last used: one new one.
            *self.lanes[lane].lock().await = None;
            conn = self.sender(lane).await?;
        }
        let uri = format!("http://{}{}", self.address, C::PATH);
        let mut request = hyper::Request::post(uri)
            .body(Full::new(body))
            .map_err(|e| BackendError::InvalidArgument(format!("bad server address: {e}")))?;
        request
            .headers_mut()
            .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        let response = match conn.sender.send_request(request).await {
            Ok(response) => response,
            Err(e) => {
                let mut text = chain(&e);
                if let Some(why) = conn.why_ended().await
                    && !text.contains(&why)
                {
                    text = format!("{why} ({text})");
                }
                return Err(self.unavailable("lost the connection to", text));
            }
        };
        let status = response.status();
        let limited = http_body_util::Limited::new(response.into_body(), MAX_ANSWER_BYTES);
        let bytes = limited
            .collect()
            .await
            .map_err(|e| self.unavailable("could not read the answer of", e.to_string()))?
            .to_bytes();
        if status.is_success() {
            return serde_json::from_slice(&bytes).map_err(|e| {
                self.unavailable("undecodable answer to", format!("{}: {e}", C::PATH))
            });
        }
        Err(match serde_json::from_slice::<ApiError>(&bytes) {
            // The server's engine stopped: for this process the server is
            // unavailable (a worker polls on; a restarted server answers).
            Ok(ApiError {
                error: BackendError::Stopped(why),
                ..
            }) => self.unavailable("the engine stopped at", why),
            Ok(api) => api.error,
            Err(_) => self.unavailable(
                "refused by",
                format!("{status}: {}", String::from_utf8_lossy(&bytes)),
            ),
        })
    }
}
