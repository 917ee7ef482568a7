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
    /// A value could not be encoded (a schedule action's input).
    #[error(transparent)]
    Converter(#[from] weft::converter::ConverterError),
    /// Bad command line.
    #[error("{0}")]
    Usage(String),
    /// A list or count did not show what it should have in time.
    #[error("not listed: {0}")]
    NotListed(String),
}

/// Where an example's database lives.
#[derive(Debug, Clone)]
pub struct DbPath {
    /// The SQLite file.
    pub path: PathBuf,
    /// True when no `--db` was given and the file is a fresh one in the
    /// temporary directory.
    pub temporary: bool,
}

impl DbPath {
    /// Removes a temporary database once the example has finished well. A
    /// database the user named, or one left by a failed run (which a rerun
    /// with `--db` resumes), is kept.
    pub fn finish(&self, succeeded: bool) {
        if !self.temporary {
            return;
        }
        if !succeeded {
            println!(
                "database kept: rerun with --db {} to resume",
                self.path.display()
            );
            return;
        }
        for suffix in ["", "-wal", "-shm", ".lock"] {
            let mut file = self.path.clone().into_os_string();
            file.push(suffix);
            // A file SQLite never created is not an error.
            let _ = std::fs::remove_file(file);
        }
    }
}

/// Where the example's database lives: `--db PATH`, or a fresh file in the
/// temporary directory that is removed after a run that succeeded.
pub fn db_path_from_args() -> Result<DbPath, ExampleError> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.as_slice() {
        [] => {}
        [flag, path] if flag == "--db" => {
            return Ok(DbPath {
                path: PathBuf::from(path),
                temporary: false,
            });
        }
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
    Ok(DbPath {
        path: std::env::temp_dir().join(format!("weft-example-{}-{stamp}.db", std::process::id())),
        temporary: true,
    })
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
    let Some(p) = crate::tour::patterns()
        .into_iter()
        .find(|p| p.name == pattern)
    else {
        return Err(ExampleError::Usage(format!("no pattern {pattern:?}")));
    };
    let db = db_path_from_args()?;
    println!("database: {}", db.path.display());
    let engine = Engine::sqlite(&db.path).await?;
    let client = Client::new(engine.clone());
    let worker = (p.worker)(&client).start()?;
    let lines = (p.run)(&client).await;
    worker.shutdown().await;
    engine.shutdown().await;
    db.finish(lines.is_ok());
    for line in lines? {
        println!("{line}");
    }
    Ok(())
}
