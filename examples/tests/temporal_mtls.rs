//! Mutual TLS to Temporal: the dev server has no TLS flags, so Debian's
//! nginx terminates TLS in front of it (`grpc_pass`, `ssl_verify_client
//! on`) with certificates made here (rcgen). The right client certificate
//! connects and runs a workflow; none, or one another CA signed, is refused
//! with a clear error.
//!
//! Needs `nginx` (apt-get install nginx-light); skipped without it unless
//! `WEFT_REQUIRE_TEMPORAL=1`, which makes it fail.

#[path = "../../runtime/tests/temporal_support/mod.rs"]
mod temporal_support;

use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use tokio::process::{Child, Command};
use weft::Client;
use weft::temporal::{TemporalOptions, TlsConfig};
use weft_examples::mtls::{Certificates, make_certificates};
use weft_examples::{activity_choice, tour};

fn nginx_binary() -> Option<&'static str> {
    ["/usr/sbin/nginx", "/usr/local/sbin/nginx"]
        .into_iter()
        .find(|p| Path::new(p).is_file())
}

/// A running nginx, stopped (its workers with it) when dropped.
struct Nginx {
    _child: Child,
    conf: String,
    prefix: String,
}

impl Drop for Nginx {
    fn drop(&mut self) {
        if let Some(binary) = nginx_binary() {
            let _ = std::process::Command::new(binary)
                .args(["-c", &self.conf, "-p", &self.prefix, "-s", "stop"])
                .status();
        }
    }
}

/// nginx in front of `upstream`, requiring client certificates `certs`'s
/// CA signed; returns it and its `127.0.0.1:port`.
async fn start_nginx(dir: &Path, certs: &Certificates, upstream: &str) -> (Nginx, String) {
    let binary = nginx_binary().expect("nginx");
    let write = |name: &str, bytes: &[u8]| {
        let path = dir.join(name);
        std::fs::write(&path, bytes).unwrap();
        path.display().to_string()
    };
    let ca = write("ca.pem", &certs.ca_cert);
    let cert = write("server.pem", &certs.server.cert);
    let key = write("server.key", &certs.server.key);
    let port = temporal_support::free_port();
    let d = dir.display();
    let conf = format!(
        "daemon off;\nworker_processes 1;\npid {d}/nginx.pid;\nerror_log {d}/error.log;\n\
         events {{}}\nhttp {{\n  access_log off;\n  client_body_temp_path {d}/body;\n\
         proxy_temp_path {d}/proxy;\n  fastcgi_temp_path {d}/fastcgi;\n  uwsgi_temp_path {d}/uwsgi;\n\
         scgi_temp_path {d}/scgi;\n  server {{\n    listen 127.0.0.1:{port} ssl http2;\n\
         ssl_certificate {cert};\n    ssl_certificate_key {key};\n    ssl_client_certificate {ca};\n\
         ssl_verify_client on;\n    location / {{ grpc_pass grpc://{upstream}; }}\n  }}\n}}\n"
    );
    let conf_path = write("nginx.conf", conf.as_bytes());
    let child = Command::new(binary)
        .args(["-c", &conf_path, "-p", &dir.display().to_string()])
        .stdin(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("start nginx");
    let address = format!("127.0.0.1:{port}");
    // nginx opens its port a moment after it starts.
    let deadline = Instant::now() + Duration::from_secs(20);
    while tokio::net::TcpStream::connect(&address).await.is_err() {
        assert!(
            Instant::now() < deadline,
            "nginx never listened: {}",
            std::fs::read_to_string(dir.join("error.log")).unwrap_or_default()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let prefix = dir.display().to_string();
    let nginx = Nginx {
        _child: child,
        conf: conf_path,
        prefix,
    };
    (nginx, address)
}

fn tls(certs: &Certificates, client: Option<&weft_examples::mtls::Issued>) -> TlsConfig {
    TlsConfig {
        server_root_ca_cert: Some(certs.ca_cert.clone()),
        client_cert: client.map(|c| c.cert.clone()),
        client_private_key: client.map(|c| c.key.clone()),
        domain: Some("localhost".into()),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mutual_tls_through_nginx() {
    let Some(server) = temporal_support::start(&[]).await else {
        return;
    };
    if nginx_binary().is_none() {
        let message = "no nginx (apt-get install nginx-light)";
        assert!(
            std::env::var("WEFT_REQUIRE_TEMPORAL").as_deref() != Ok("1"),
            "WEFT_REQUIRE_TEMPORAL=1: {message}"
        );
        eprintln!("skipped: {message}");
        return;
    }
    let certs = make_certificates().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (_nginx, address) = start_nginx(dir.path(), &certs, &server.target).await;

    // The right certificate: the client and its worker run a workflow.
    let options = TemporalOptions::new().tls(tls(&certs, Some(&certs.client)));
    let client = Client::connect_temporal(&address, options).await.unwrap();
    let worker = activity_choice::worker(&client).start().unwrap();
    let lines = tour::activity_choice_run(&client).await.unwrap();
    assert_eq!(
        lines[0], "Ordered 8 Apples...Ordered 5 Bananas...",
        "{lines:?}"
    );
    worker.shutdown().await;

    // No client certificate, and one another CA signed: refused.
    let without = TemporalOptions::new().tls(tls(&certs, None));
    let err = Client::connect_temporal(&address, without)
        .await
        .err()
        .expect("refused");
    let message = format!("{err:#}");
    assert!(
        message.contains("No required SSL certificate was sent") || message.contains("certificate"),
        "{message}"
    );
    eprintln!("without a client certificate: {message}");

    let rogue = make_certificates().unwrap();
    let wrong = TemporalOptions::new().tls(tls(&certs, Some(&rogue.client)));
    let err = Client::connect_temporal(&address, wrong)
        .await
        .err()
        .expect("refused");
    let message = format!("{err:#}");
    assert!(message.contains("certificate"), "{message}");
    eprintln!("with a certificate another CA signed: {message}");
}
