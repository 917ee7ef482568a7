//! TLS and mutual TLS for connections to a weft server, as Temporal's
//! `TLSConfig`: the CA that signed the server's certificate, and the
//! client's own certificate and key when the server asks for one.

use std::sync::Arc;

use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use tokio_rustls::rustls;

use crate::backend::BackendError;

/// How a client secures its connection to a server. Certificates and keys
/// are PEM, as files hold them.
///
/// ```no_run
/// # async fn f() -> Result<(), weft::ClientError> {
/// use weft::remote::{ConnectOptions, TlsConfig};
/// let tls = TlsConfig {
///     server_root_ca_cert: Some(std::fs::read("ca.pem").unwrap_or_default()),
///     client_cert: Some(std::fs::read("client.pem").unwrap_or_default()),
///     client_private_key: Some(std::fs::read("client.key").unwrap_or_default()),
///     domain: Some("weft.internal".into()),
/// };
/// let client = weft::Client::connect("10.0.0.5:7233", ConnectOptions::new().tls(tls)).await?;
/// # let _ = client; Ok(()) }
/// ```
#[derive(Clone, Default)]
pub struct TlsConfig {
    /// The CA certificate(s) the server's certificate must chain to. weft
    /// has no system store: a TLS connection needs this.
    pub server_root_ca_cert: Option<Vec<u8>>,
    /// The client's certificate (chain), for a server that checks clients
    /// (mutual TLS).
    pub client_cert: Option<Vec<u8>>,
    /// The client certificate's private key.
    pub client_private_key: Option<Vec<u8>>,
    /// The name the server's certificate must carry (default: the host of
    /// the address connected to).
    pub domain: Option<String>,
}

impl std::fmt::Debug for TlsConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsConfig")
            .field("server_root_ca_cert", &self.server_root_ca_cert.is_some())
            .field("client_cert", &self.client_cert.is_some())
            .field("client_private_key", &self.client_private_key.is_some())
            .field("domain", &self.domain)
            .finish()
    }
}

fn invalid(what: String) -> BackendError {
    tracing::warn!(error = %what, "TLS configuration refused");
    BackendError::InvalidArgument(format!("TLS configuration: {what}"))
}

/// Every certificate in a PEM text; at least one.
pub fn certificates(pem: &[u8], what: &str) -> Result<Vec<CertificateDer<'static>>, BackendError> {
    let certs = CertificateDer::pem_slice_iter(pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| invalid(format!("{what} is not PEM certificates: {e}")))?;
    if certs.is_empty() {
        return Err(invalid(format!(
            "{what} holds no certificate (expected a PEM block `BEGIN CERTIFICATE`)"
        )));
    }
    Ok(certs)
}

/// The private key in a PEM text.
pub fn private_key(pem: &[u8], what: &str) -> Result<PrivateKeyDer<'static>, BackendError> {
    PrivateKeyDer::from_pem_slice(pem).map_err(|e| {
        invalid(format!(
            "{what} is not a PEM private key (PKCS#8, PKCS#1 or SEC1): {e}"
        ))
    })
}

/// The cryptography weft's TLS uses, named so that another provider
/// enabled elsewhere in the program changes nothing: *ring*, with TLS 1.3
/// and 1.2 and the classical key exchanges (rustls offers post-quantum key
/// exchange only on aws-lc-rs, whose C build weft avoids).
pub fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    // Deprecated only for lacking post-quantum key exchange (see above).
    #[allow(deprecated)]
    let provider = rustls::crypto::ring::default_provider();
    Arc::new(provider)
}

impl TlsConfig {
    /// The rustls client configuration and the server name to check.
    pub(crate) fn client(
        &self,
        host: &str,
    ) -> Result<(Arc<rustls::ClientConfig>, ServerName<'static>), BackendError> {
        let ca = self.server_root_ca_cert.as_deref().ok_or_else(|| {
            invalid("server_root_ca_cert is required: weft has no system root store".into())
        })?;
        let mut roots = rustls::RootCertStore::empty();
        for cert in certificates(ca, "server_root_ca_cert")? {
            roots
                .add(cert)
                .map_err(|e| invalid(format!("server_root_ca_cert: {e}")))?;
        }
        let builder = rustls::ClientConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .map_err(|e| invalid(e.to_string()))?
            .with_root_certificates(roots);
        let mut config = match (&self.client_cert, &self.client_private_key) {
            (Some(cert), Some(key)) => builder
                .with_client_auth_cert(
                    certificates(cert, "client_cert")?,
                    private_key(key, "client_private_key")?,
                )
                .map_err(|e| invalid(format!("client certificate and key: {e}")))?,
            (None, None) => builder.with_no_client_auth(),
            (Some(_), None) => {
                return Err(invalid(
                    "client_cert given without client_private_key".into(),
                ));
            }
            (None, Some(_)) => {
                return Err(invalid(
                    "client_private_key given without client_cert".into(),
                ));
            }
        };
        config.alpn_protocols = vec![b"h2".to_vec()];
        let domain = self.domain.as_deref().unwrap_or(host);
        let name = ServerName::try_from(domain.to_string())
            .map_err(|e| invalid(format!("{domain:?} is not a server name: {e}")))?;
        Ok((Arc::new(config), name))
    }
}
