//! What every example shares: the `--db PATH` argument, the engine, and
//! starting workflows so that a rerun on the same file resumes instead of
//! repeating.

use std::path::PathBuf;

use weft::backend::IdConflictPolicy;
use weft::engine::Engine;
use weft::{Client, ClientError, WorkflowOptions};

/// Errors an example can end with.
#[derive(Debug, thiserror::Error)]
pub enum ExampleError {
    /// A client call failed.
    #[error(transparent)]
    Client(#[from] ClientError),
    /// The engine failed.
    #[error(transparent)]
    Backend(#[from] weft::backend::BackendError),
    /// The worker failed.
    #[error(transparent)]
    Worker(#[from] weft::worker::WorkerError),
    /// Bad command line.
    #[error("{0}")]
    Usage(String),
}

/// Where the example's database lives: `--db PATH`, or a fresh file in the
/// temporary directory.
pub fn db_path_from_args() -> Result<PathBuf, ExampleError> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.as_slice() {
        [] => {}
        [flag, path] if flag == "--db" => return Ok(PathBuf::from(path)),
        [flag] if flag == "--db" => return Err(ExampleError::Usage("--db needs a path".into())),
        other => {
            return Err(ExampleError::Usage(format!(
                "unexpected arguments {other:?}; usage: [--db PATH]"
            )));
        }
    }
    let stamp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    Ok(std::env::temp_dir().join(format!("weft-example-{}-{stamp}.db", std::process::id())))
}

/// Options for an example's workflow: a fixed id that is also the request
/// id, and use-existing on conflict, so a second run on the same file reaches
/// the same run: it resumes an open one and reads a closed one's result.
pub fn options(id: &str, task_queue: &str) -> WorkflowOptions {
    WorkflowOptions::new(id, task_queue)
        .request_id(id)
        .id_conflict_policy(IdConflictPolicy::UseExisting)
}

/// Runs one pattern as a standalone example: opens the database, starts its
/// worker, prints its lines.
pub async fn main_for(pattern: &str) -> Result<(), ExampleError> {
    let path = db_path_from_args()?;
    println!("database: {}", path.display());
    let engine = Engine::sqlite(&path).await?;
    let client = Client::new(engine.clone());
    let Some(p) = crate::patterns().into_iter().find(|p| p.name == pattern) else {
        return Err(ExampleError::Usage(format!("no pattern {pattern:?}")));
    };
    let worker = (p.worker)(&client).start()?;
    let lines = (p.run)(&client).await;
    worker.shutdown().await;
    engine.shutdown().await;
    for line in lines? {
        println!("{line}");
    }
    Ok(())
}
