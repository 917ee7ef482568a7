//! mTLS: a weft server that talks only to clients holding a certificate
//! signed by the CA it trusts, and a client (with its workers) that checks
//! the server's certificate against the CA it was given, as Temporal's
//! `TLSConfig` does.
//!
//! The example makes its certificates in memory (rcgen) so it runs
//! anywhere; a deployment reads the same PEM texts from files.

use std::sync::Arc;

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair};
use weft::engine::Engine;
use weft::remote::{ConnectOptions, TlsConfig};
use weft::{Client, ClientError};
use weft_server::{Server, ServerConfig, ServerTls};

use crate::activity_choice;
use crate::support::ExampleError;

/// A certificate and its private key, PEM.
pub struct Issued {
    pub cert: Vec<u8>,
    pub key: Vec<u8>,
}

/// What `openssl` or a company's PKI would hand out: a CA, the server's
/// certificate for `localhost`, and a client certificate, both signed by
/// the CA.
pub struct Certificates {
    pub ca_cert: Vec<u8>,
    pub server: Issued,
    pub client: Issued,
}

fn pki_error(e: rcgen::Error) -> ExampleError {
    ExampleError::Usage(format!("making the example's certificates: {e}"))
}

/// Makes the example's CA and the two certificates it signs.
pub fn make_certificates() -> Result<Certificates, ExampleError> {
    let ca_key = KeyPair::generate().map_err(pki_error)?;
    let mut ca = CertificateParams::new(Vec::<String>::new()).map_err(pki_error)?;
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.distinguished_name
        .push(DnType::CommonName, "weft example CA");
    let ca_cert = ca.self_signed(&ca_key).map_err(pki_error)?;
    let issue = |name: &str| -> Result<Issued, ExampleError> {
        let key = KeyPair::generate().map_err(pki_error)?;
        let params = CertificateParams::new(vec![name.to_string()]).map_err(pki_error)?;
        let cert = params
            .signed_by(&key, &ca_cert, &ca_key)
            .map_err(pki_error)?;
        Ok(Issued {
            cert: cert.pem().into_bytes(),
            key: key.serialize_pem().into_bytes(),
        })
    };
    Ok(Certificates {
        ca_cert: ca_cert.pem().into_bytes(),
        server: issue("localhost")?,
        client: issue("worker.example")?,
    })
}

// ANCHOR: server
/// Serves `engine` on a free loopback port over mutual TLS: the server
/// shows its certificate, and refuses every client whose certificate the
/// CA did not sign.
pub async fn serve(engine: &Engine, certs: &Certificates) -> Result<Server, ExampleError> {
    let tls = ServerTls {
        cert_chain: certs.server.cert.clone(),
        private_key: certs.server.key.clone(),
        client_ca_cert: Some(certs.ca_cert.clone()),
    };
    let config = ServerConfig::new("127.0.0.1:0").tls(tls);
    Server::start(Arc::new(engine.clone()), config)
        .await
        .map_err(|e| ExampleError::Usage(format!("starting the server: {e}")))
}
// ANCHOR_END: server

// ANCHOR: client
/// Connects with the client certificate; the server's must chain to the
/// CA and name `localhost`.
pub async fn connect(address: &str, certs: &Certificates) -> Result<Client, ClientError> {
    let tls = TlsConfig {
        server_root_ca_cert: Some(certs.ca_cert.clone()),
        client_cert: Some(certs.client.cert.clone()),
        client_private_key: Some(certs.client.key.clone()),
        domain: Some("localhost".into()),
    };
    Client::connect(address, ConnectOptions::new().tls(tls)).await
}
// ANCHOR_END: client

// ANCHOR: refused
/// Connects without a client certificate: the server refuses.
pub async fn connect_without_certificate(
    address: &str,
    certs: &Certificates,
) -> Result<Client, ClientError> {
    let tls = TlsConfig {
        server_root_ca_cert: Some(certs.ca_cert.clone()),
        domain: Some("localhost".into()),
        ..TlsConfig::default()
    };
    Client::connect(address, ConnectOptions::new().tls(tls)).await
}
// ANCHOR_END: refused

/// Serves an in-memory engine over mutual TLS, runs the Activity Choice
/// workflow through a client and worker that connect with the right
/// certificate, then shows the refusal of one without a certificate.
/// Returns the lines it prints.
pub async fn run() -> Result<Vec<String>, ExampleError> {
    let certs = make_certificates()?;
    let engine = Engine::memory().await?;
    let server = serve(&engine, &certs).await?;
    let address = server.local_addr().to_string();
    let mut lines = vec!["server: mutual TLS on a loopback port".to_string()];

    // ANCHOR: run
    let client = connect(&address, &certs).await?;
    let worker = activity_choice::worker(&client).start()?;
    lines.extend(crate::tour::activity_choice_run(&client).await?);
    worker.shutdown().await;
    // ANCHOR_END: run

    match connect_without_certificate(&address, &certs).await {
        Ok(_) => lines.push("unexpected: connected without a certificate".into()),
        Err(e) => lines.push(format!("without a client certificate: {e}")),
    }
    server.shutdown().await;
    engine.shutdown().await;
    Ok(lines)
}
