//! The server side of TLS: its certificate, and for mutual TLS the check
//! of every client's certificate against a CA.

use std::sync::Arc;

use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::server::WebPkiClientVerifier;
use tokio_rustls::rustls::{RootCertStore, ServerConfig};
use weft::remote::{certificates, private_key, provider};

use crate::config::{ServerError, ServerTls};

fn tls_error(e: impl std::fmt::Display) -> ServerError {
    ServerError::Tls(e.to_string())
}

impl ServerTls {
    /// The acceptor that handshakes each connection.
    pub(crate) fn acceptor(&self) -> Result<TlsAcceptor, ServerError> {
        let provider = provider();
        let builder = ServerConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(tls_error)?;
        let builder = match &self.client_ca_cert {
            None => builder.with_no_client_auth(),
            Some(ca) => {
                let mut roots = RootCertStore::empty();
                for cert in certificates(ca, "client_ca_cert").map_err(tls_error)? {
                    roots
                        .add(cert)
                        .map_err(|e| tls_error(format!("client_ca_cert: {e}")))?;
                }
                let verifier =
                    WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
                        .build()
                        .map_err(|e| tls_error(format!("client_ca_cert: {e}")))?;
                builder.with_client_cert_verifier(verifier)
            }
        };
        let mut config = builder
            .with_single_cert(
                certificates(&self.cert_chain, "cert_chain").map_err(tls_error)?,
                private_key(&self.private_key, "private_key").map_err(tls_error)?,
            )
            .map_err(|e| tls_error(format!("server certificate and key: {e}")))?;
        config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        Ok(TlsAcceptor::from(Arc::new(config)))
    }
}
