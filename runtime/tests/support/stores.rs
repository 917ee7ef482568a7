//! One test body, run on each store: the memory store and a SQLite file.
//! Shared by the runtime's and the examples' integration tests (the
//! examples include this file by path).

use weft::Client;
use weft::engine::Engine;

/// Runs test bodies once on the memory store and once on SQLite: either
/// named async fns taking `sqlite: bool` (`both_stores!(a, b)`), or bodies
/// given inline with the name of their flag
/// (`both_stores! { name(sqlite) { .. } }`).
#[macro_export]
macro_rules! both_stores {
    ($($name:ident),+ $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn memory() {
                super::$name(false).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::$name(true).await
            }
        }
    )+};
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

/// An engine and a client; the SQLite file lives as long as this.
pub struct Env {
    pub engine: Engine,
    pub client: Client,
    _dir: Option<tempfile::TempDir>,
}

impl Env {
    /// The SQLite file, when the engine runs on one.
    pub fn db_path(&self) -> Option<std::path::PathBuf> {
        self._dir.as_ref().map(|d| d.path().join("weft.db"))
    }
}

/// An engine on a fresh SQLite file, or in memory.
pub async fn env(sqlite: bool) -> Env {
    let (engine, dir) = if sqlite {
        let dir = tempfile::tempdir().unwrap();
        let engine = Engine::sqlite(dir.path().join("weft.db")).await.unwrap();
        (engine, Some(dir))
    } else {
        (Engine::memory().await.unwrap(), None)
    };
    Env {
        client: Client::new(engine.clone()),
        engine,
        _dir: dir,
    }
}
