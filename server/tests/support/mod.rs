//! What the server's tests share: a server on a fresh SQLite file on a free
//! loopback port, and a small workflow with every kind of handler.

#![allow(dead_code)]

pub mod cli;
pub mod http;
pub mod pki;

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use weft::engine::Engine;
use weft::prelude::*;
use weft_server::{Server, ServerConfig};

pub const QUEUE: &str = "remote-tests";

/// A server on a SQLite file in a temporary directory.
pub struct Served {
    pub engine: Engine,
    pub server: Server,
    pub dir: tempfile::TempDir,
}

impl Served {
    pub fn address(&self) -> String {
        self.server.local_addr().to_string()
    }

    pub fn db(&self) -> std::path::PathBuf {
        self.dir.path().join("weft.db")
    }

    pub async fn stop(self) {
        self.server.shutdown().await;
        self.engine.shutdown().await;
    }
}

/// Starts an engine and a server as `config` says (its address replaced by
/// a free loopback port, its SQLite path set).
pub async fn serve(config: ServerConfig) -> Served {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("weft.db");
    let engine = Engine::sqlite(&db).await.unwrap();
    let mut config = config.sqlite_path(&db);
    config.address = "127.0.0.1:0".into();
    let server = Server::start(Arc::new(engine.clone()), config)
        .await
        .unwrap();
    Served {
        engine,
        server,
        dir,
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Deposit {
    pub amount: i64,
}

#[activity]
pub async fn greet(name: String) -> Result<String, ApplicationError> {
    Ok(format!("Hello, {name}!"))
}

/// Waits for a `close` signal; deposits come as validated updates.
#[workflow]
#[derive(Default)]
pub struct Account {
    balance: i64,
    closed: bool,
}

#[workflow]
impl Account {
    #[run]
    pub async fn run(ctx: WorkflowContext<Self>, owner: String) -> WorkflowResult<String> {
        let greeting = ctx
            .activity(GREET, owner)
            .start_to_close_timeout(Duration::from_secs(10))
            .await?;
        weft::select! {
            _ = ctx.wait_condition(|s| s.closed) => {},
            _ = ctx.cancellation() => {
                return Err(weft::CanceledError {
                    message: "canceled while open".into(),
                    details: Vec::new(),
                }
                .into());
            }
        }
        Ok(format!("{greeting} balance {}", ctx.state(|s| s.balance)))
    }

    #[signal]
    pub fn close(&mut self) {
        self.closed = true;
    }

    #[query]
    pub fn balance(&self) -> i64 {
        self.balance
    }

    #[update]
    pub fn deposit(&mut self, deposit: Deposit) -> Result<i64, ApplicationError> {
        self.balance += deposit.amount;
        Ok(self.balance)
    }

    #[validator(deposit)]
    pub fn check_deposit(&self, deposit: &Deposit) -> Result<(), ApplicationError> {
        if deposit.amount <= 0 {
            return Err(ApplicationError::new("a deposit must be positive"));
        }
        Ok(())
    }
}

pub fn worker(client: &Client) -> Worker {
    Worker::new(client, QUEUE)
        .register_workflow::<Account>()
        .register_activity(GREET)
}
