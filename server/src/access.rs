//! Which namespaces a caller may use. Namespaces keep workflows apart;
//! with mutual TLS and [`ServerConfig::client_namespaces`](crate::ServerConfig#structfield.client_namespaces),
//! they keep callers apart too: a client certificate may use only the
//! namespaces given to the names it is valid for (its DNS subject
//! alternative names), and a certificate given none may use none.

use std::collections::{BTreeMap, BTreeSet};

use rustls_pki_types::{CertificateDer, ServerName};
use weft::backend::BackendError;

use crate::config::ServerError;

/// What one connection's caller may use.
#[derive(Clone, Debug)]
pub(crate) enum Access {
    /// Every namespace the server serves.
    Any,
    /// Only these, given to the certificate's `names`.
    Only {
        names: Vec<String>,
        namespaces: BTreeSet<String>,
    },
}

/// Checks the names of a configuration before the server starts.
pub(crate) fn check_config(
    map: &BTreeMap<String, Vec<String>>,
    mutual_tls: bool,
) -> Result<(), ServerError> {
    if map.is_empty() {
        return Ok(());
    }
    if !mutual_tls {
        return Err(ServerError::Tls(
            "client namespaces need mutual TLS: give the server a client CA (ServerTls::client_ca_cert, --tls-client-ca)".into(),
        ));
    }
    for name in map.keys() {
        ServerName::try_from(name.as_str()).map_err(|e| {
            ServerError::Tls(format!(
                "client namespaces: {name:?} is not a name a certificate can carry: {e}"
            ))
        })?;
    }
    Ok(())
}

impl Access {
    /// What the caller whose certificate is `leaf` may use under `map`
    /// (certificate name -> namespaces); anything when `map` is empty.
    pub(crate) fn of(
        map: &BTreeMap<String, Vec<String>>,
        leaf: Option<&CertificateDer<'_>>,
    ) -> Access {
        if map.is_empty() {
            return Access::Any;
        }
        let mut names = Vec::new();
        let mut namespaces = BTreeSet::new();
        let cert = leaf.and_then(|der| webpki::EndEntityCert::try_from(der).ok());
        if let Some(cert) = cert {
            for (name, given) in map {
                let Ok(server_name) = ServerName::try_from(name.as_str()) else {
                    continue;
                };
                if cert.verify_is_valid_for_subject_name(&server_name).is_ok() {
                    names.push(name.clone());
                    namespaces.extend(given.iter().cloned());
                }
            }
        }
        Access::Only { names, namespaces }
    }

    /// Whether the caller may act in `namespace`; the refusal says what it
    /// may do instead.
    pub(crate) fn check(&self, namespace: &str) -> Result<(), BackendError> {
        match self {
            Access::Any => Ok(()),
            Access::Only { namespaces, .. } if namespaces.contains(namespace) => Ok(()),
            Access::Only { names, .. } if names.is_empty() => {
                Err(BackendError::PermissionDenied(format!(
                    "namespace {namespace:?}: the client certificate is given no namespace on \
                     this server (its names are none of those the server gives namespaces to)"
                )))
            }
            Access::Only { names, namespaces } => Err(BackendError::PermissionDenied(format!(
                "namespace {namespace:?}: the client certificate ({}) may use only {}",
                names.join(", "),
                namespaces.iter().cloned().collect::<Vec<_>>().join(", ")
            ))),
        }
    }

    /// Of `served` (`None`: all), what the caller may use.
    pub(crate) fn visible(&self, served: Option<&Vec<String>>) -> Option<Vec<String>> {
        match self {
            Access::Any => served.cloned(),
            Access::Only { namespaces, .. } => Some(
                namespaces
                    .iter()
                    .filter(|n| served.is_none_or(|s| s.contains(n)))
                    .cloned()
                    .collect(),
            ),
        }
    }
}
