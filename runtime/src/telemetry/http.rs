//! The metrics endpoint: `GET /metrics` over HTTP/1.x on a tokio listener.
//!
//! Small on purpose: one request per connection (`Connection: close`),
//! the request head read within a size and time limit, `GET`/`HEAD
//! /metrics` answered with the registry, any other path 404, any other
//! method 405, anything unreadable 400. No server crate for five
//! responses; nothing a client sends can make it panic.

use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream, ToSocketAddrs};
use tokio::sync::watch;
use tokio::task::JoinSet;

use super::metrics::Metrics;

/// Longest request head read.
const MAX_HEAD: usize = 8 * 1024;
/// How long a client has to send its request head.
const READ_LIMIT: Duration = Duration::from_secs(5);

/// A running metrics endpoint; [`MetricsServer::shutdown`] stops it.
#[derive(Debug)]
pub struct MetricsServer {
    addr: SocketAddr,
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl MetricsServer {
    /// The address it listens on (the actual port when `:0` was asked).
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops accepting, lets requests in progress finish, and returns.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        // The task ends once its connections did; a panic there (none is
        // expected) is not this caller's to handle.
        let _ = self.task.await;
    }
}

impl Metrics {
    /// Serves the registry on `addr` (`"0.0.0.0:9090"`, `"127.0.0.1:0"`)
    /// at `/metrics`, in Prometheus's text format. Must be called inside
    /// a tokio runtime.
    pub async fn serve(&self, addr: impl ToSocketAddrs) -> io::Result<MetricsServer> {
        let listener = TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let (stop, stopped) = watch::channel(false);
        let task = tokio::spawn(accept_loop(listener, self.clone(), stopped));
        tracing::info!(%addr, "metrics served at http://{addr}/metrics");
        Ok(MetricsServer { addr, stop, task })
    }
}

async fn accept_loop(listener: TcpListener, metrics: Metrics, mut stop: watch::Receiver<bool>) {
    let mut connections = JoinSet::new();
    loop {
        let accepted = tokio::select! {
            biased;
            _ = stop.changed() => break,
            accepted = listener.accept() => accepted,
        };
        match accepted {
            Ok((stream, _)) => {
                connections.spawn(answer(stream, metrics.clone()));
            }
            Err(e) => {
                // Out of file descriptors and the like: say so, and give
                // the system a moment rather than spinning on it.
                tracing::warn!(error = %e, "metrics endpoint could not accept a connection");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
        while connections.try_join_next().is_some() {}
    }
    while connections.join_next().await.is_some() {}
}

async fn answer(mut stream: TcpStream, metrics: Metrics) {
    let response = match tokio::time::timeout(READ_LIMIT, read_head(&mut stream)).await {
        Ok(Ok(head)) => respond(&head, &metrics).await,
        Ok(Err(Unreadable)) | Err(_) => Response::text(400, "Bad Request", "bad request\n"),
    };
    if let Err(e) = response.write(&mut stream).await {
        tracing::debug!(error = %e, "metrics response not delivered");
    }
}

struct Unreadable;

/// Reads up to the end of the request head (`\r\n\r\n`).
async fn read_head(stream: &mut TcpStream) -> Result<Vec<u8>, Unreadable> {
    let mut head = Vec::new();
    let mut buf = [0u8; 1024];
    loop {
        let n = stream.read(&mut buf).await.map_err(|_| Unreadable)?;
        if n == 0 {
            return Err(Unreadable);
        }
        head.extend_from_slice(&buf[..n]);
        if head.windows(4).any(|w| w == b"\r\n\r\n") {
            return Ok(head);
        }
        if head.len() > MAX_HEAD {
            return Err(Unreadable);
        }
    }
}

async fn respond(head: &[u8], metrics: &Metrics) -> Response {
    let Some((method, target)) = request_line(head) else {
        return Response::text(400, "Bad Request", "bad request\n");
    };
    let path = target.split('?').next().unwrap_or(target);
    match (method, path) {
        ("GET" | "HEAD", "/metrics") => Response {
            status: 200,
            reason: "OK",
            content_type: prometheus_client::encoding::prometheus_text::CONTENT_TYPE,
            body: metrics.encode().await.into_bytes(),
            head_only: method == "HEAD",
            allow: false,
        },
        (_, "/metrics") => Response {
            allow: true,
            ..Response::text(405, "Method Not Allowed", "only GET and HEAD\n")
        },
        _ => Response::text(404, "Not Found", "metrics are at /metrics\n"),
    }
}

/// The method and target of an HTTP/1.x request line.
fn request_line(head: &[u8]) -> Option<(&str, &str)> {
    let line_end = head.windows(2).position(|w| w == b"\r\n")?;
    let line = std::str::from_utf8(&head[..line_end]).ok()?;
    let mut parts = line.split(' ');
    let (method, target, version) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() || !version.starts_with("HTTP/1.") || method.is_empty() {
        return None;
    }
    Some((method, target))
}

struct Response {
    status: u16,
    reason: &'static str,
    content_type: &'static str,
    body: Vec<u8>,
    head_only: bool,
    allow: bool,
}

impl Response {
    fn text(status: u16, reason: &'static str, body: &str) -> Self {
        Response {
            status,
            reason,
            content_type: "text/plain; charset=utf-8",
            body: body.as_bytes().to_vec(),
            head_only: false,
            allow: false,
        }
    }

    async fn write(&self, stream: &mut TcpStream) -> io::Result<()> {
        let allow = if self.allow {
            "Allow: GET, HEAD\r\n"
        } else {
            ""
        };
        let head = format!(
            "HTTP/1.1 {} {}\r\nContent-Type: {}\r\nContent-Length: {}\r\n{allow}Connection: close\r\n\r\n",
            self.status,
            self.reason,
            self.content_type,
            self.body.len()
        );
        stream.write_all(head.as_bytes()).await?;
        if !self.head_only {
            stream.write_all(&self.body).await?;
        }
        stream.shutdown().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_lines_are_parsed_strictly() {
        assert_eq!(
            request_line(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n"),
            Some(("GET", "/metrics"))
        );
        assert_eq!(request_line(b"GET /metrics\r\n\r\n"), None);
        assert_eq!(request_line(b"GET /metrics HTTP/2 extra\r\n\r\n"), None);
        assert_eq!(request_line(b"GET /metrics SPDY/3\r\n\r\n"), None);
        assert_eq!(request_line(b"\xff\xfe / HTTP/1.1\r\n\r\n"), None);
        assert_eq!(request_line(b"no line end"), None);
    }
}
