//! What the example tests share: an engine on either store, and a way to
//! run one test body on both.

#![allow(dead_code)]

use weft::Client;
use weft::engine::Engine;

pub struct Env {
    pub engine: Engine,
    pub client: Client,
    _dir: Option<tempfile::TempDir>,
}

pub async fn env(sqlite: bool) -> Env {
    let (engine, dir) = if sqlite {
        let dir = tempfile::tempdir().unwrap();
        (
            Engine::sqlite(&dir.path().join("t.db")).await.unwrap(),
            Some(dir),
        )
    } else {
        (Engine::memory().await.unwrap(), None)
    };
    Env {
        client: Client::new(engine.clone()),
        engine,
        _dir: dir,
    }
}

/// Runs each test body on SQLite and on memory.
#[macro_export]
macro_rules! both_stores {
    ($($name:ident($sqlite:ident) $body:block)*) => {$(
        mod $name {
            use super::*;
            async fn case($sqlite: bool) $body
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn memory() { case(false).await }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() { case(true).await }
        }
    )*};
}
