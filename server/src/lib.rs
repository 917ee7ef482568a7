//! The weft engine over the network.
//!
//! [`Server::start`] serves a [`Backend`](weft::backend::Backend), usually
//! an embedded [`Engine`](weft::engine::Engine), on an address: remote
//! clients (`weft::Client::connect`), workers in other processes, the
//! `weft` command line and the web UI all speak its API
//! ([`weft::remote::api`]). The `weft` binary's `weft server start --db
//! FILE` runs one on a SQLite file; an application embeds one the same way:
//!
//! ```no_run
//! # async fn f() -> Result<(), Box<dyn std::error::Error>> {
//! use std::sync::Arc;
//! use weft_server::{Server, ServerConfig};
//! let engine = weft::engine::Engine::sqlite("app.db").await?;
//! let config = ServerConfig::new("127.0.0.1:7233").sqlite_path("app.db");
//! let server = Server::start(Arc::new(engine.clone()), config).await?;
//! println!("serving on {}", server.local_addr());
//! # server.shutdown().await; Ok(()) }
//! ```
//!
//! The API is HTTP/2 (and HTTP/1.1, for browsers and scripts) with JSON
//! bodies; TLS and mutual TLS with rustls ([`ServerTls`]).

#![forbid(unsafe_code)]

mod access;
pub mod cli;
mod codec;
mod config;
mod routes;
mod serve;
mod tls;
mod ui;

pub use codec::{KeyError, encryption_converter};
pub use config::{ServerConfig, ServerError, ServerTls};
pub use serve::Server;
