//! The SQLite store: the default, durable one.
//!
//! Owns the file format: the schema, its version (`PRAGMA user_version`) and
//! the migrations that bring an older file up to date, plus the lock that
//! lets only one process own a file. Durability settings are fixed here: WAL
//! journal, `synchronous=FULL`, one transaction per commit.

use std::fs::{File, OpenOptions, TryLockError};
use std::path::{Path, PathBuf};

use rusqlite::{Connection, OpenFlags, OptionalExtension, params};

use crate::backend::{BackendError, RunStatus};
use crate::history::Event;

use super::store::{ExecutionRow, ExecutionSummary, Loaded, Store, StoreOp};

/// The file format version this code writes.
pub const FORMAT_VERSION: u32 = 2;

/// Migrations, in order: entry `i` takes a file from version `i` to `i + 1`.
const MIGRATIONS: &[&str] = &[
    "
    CREATE TABLE executions (
        namespace   TEXT NOT NULL,
        run_id      TEXT NOT NULL,
        workflow_id TEXT NOT NULL,
        status      TEXT NOT NULL,
        request_id  TEXT NOT NULL,
        state       BLOB NOT NULL,
        PRIMARY KEY (namespace, run_id)
    );
    CREATE INDEX executions_by_workflow ON executions (namespace, workflow_id);
    CREATE INDEX executions_by_status ON executions (status);
    CREATE TABLE events (
        namespace TEXT NOT NULL,
        run_id    TEXT NOT NULL,
        event_id  INTEGER NOT NULL,
        data      BLOB NOT NULL,
        PRIMARY KEY (namespace, run_id, event_id)
    ) WITHOUT ROWID;
",
    "
    -- Version 2: pending activities and updates have rows of their own. A
    -- run's state written by version 1 still holds them; they move here the
    -- next time the run is written.
    CREATE TABLE activities (
        namespace TEXT NOT NULL,
        run_id    TEXT NOT NULL,
        id        INTEGER NOT NULL,
        data      BLOB NOT NULL,
        PRIMARY KEY (namespace, run_id, id)
    ) WITHOUT ROWID;
    CREATE TABLE updates (
        namespace TEXT NOT NULL,
        run_id    TEXT NOT NULL,
        update_id TEXT NOT NULL,
        data      BLOB NOT NULL,
        PRIMARY KEY (namespace, run_id, update_id)
    ) WITHOUT ROWID;
",
];

/// A SQLite file holding executions and histories.
pub struct SqliteStore {
    conn: Connection,
    /// Held for the store's life: the exclusive lock on `<path>.lock`.
    _lock: Option<File>,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore")
            .field("path", &self.conn.path())
            .finish_non_exhaustive()
    }
}

fn store_err(context: &str) -> impl Fn(rusqlite::Error) -> BackendError + '_ {
    move |e| BackendError::Store(format!("{context}: {e}"))
}

fn lock_path(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".lock");
    PathBuf::from(name)
}

fn status_text(status: RunStatus) -> &'static str {
    match status {
        RunStatus::Running => "Running",
        RunStatus::Completed => "Completed",
        RunStatus::Failed => "Failed",
        RunStatus::ContinuedAsNew => "ContinuedAsNew",
        RunStatus::Canceled => "Canceled",
        RunStatus::Terminated => "Terminated",
    }
}

fn parse_status(text: &str) -> Result<RunStatus, BackendError> {
    match text {
        "Running" => Ok(RunStatus::Running),
        "Completed" => Ok(RunStatus::Completed),
        "Failed" => Ok(RunStatus::Failed),
        "ContinuedAsNew" => Ok(RunStatus::ContinuedAsNew),
        "Canceled" => Ok(RunStatus::Canceled),
        "Terminated" => Ok(RunStatus::Terminated),
        other => Err(BackendError::Store(format!("unknown run status {other:?}"))),
    }
}

fn user_version(conn: &Connection) -> Result<u32, BackendError> {
    conn.query_row("PRAGMA user_version", [], |r| r.get::<_, u32>(0))
        .map_err(store_err("reading the format version"))
}

fn refuse_newer(path: &Path, version: u32) -> Result<(), BackendError> {
    if version > FORMAT_VERSION {
        return Err(BackendError::Store(format!(
            "{} has format version {version}, newer than this weft supports ({FORMAT_VERSION}); \
             upgrade weft to open it",
            path.display()
        )));
    }
    Ok(())
}

impl SqliteStore {
    /// Opens (creating if needed) the file at `path` for an engine, taking
    /// the exclusive lock `<path>.lock` and migrating the format.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, BackendError> {
        let path = path.as_ref();
        let lock_file = lock_path(path);
        let lock = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_file)
            .map_err(|e| {
                BackendError::Store(format!(
                    "cannot open lock file {}: {e}",
                    lock_file.display()
                ))
            })?;
        match lock.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                return Err(BackendError::Store(format!(
                    "{} is already in use by another engine (lock {} is held)",
                    path.display(),
                    lock_file.display()
                )));
            }
            Err(TryLockError::Error(e)) => {
                return Err(BackendError::Store(format!(
                    "cannot lock {}: {e}",
                    lock_file.display()
                )));
            }
        }
        let mut conn = Connection::open(path)
            .map_err(|e| BackendError::Store(format!("cannot open {}: {e}", path.display())))?;
        let version = user_version(&conn)?;
        refuse_newer(path, version)?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(store_err("setting WAL journal mode"))?;
        conn.pragma_update(None, "synchronous", "FULL")
            .map_err(store_err("setting synchronous=FULL"))?;
        for (from, sql) in MIGRATIONS.iter().enumerate().skip(version as usize) {
            let to = from + 1;
            let tx = conn
                .transaction()
                .map_err(store_err("starting a migration"))?;
            tx.execute_batch(sql)
                .map_err(|e| BackendError::Store(format!("migration to version {to}: {e}")))?;
            tx.pragma_update(None, "user_version", to)
                .map_err(store_err("recording the format version"))?;
            tx.commit().map_err(store_err("committing a migration"))?;
        }
        Ok(SqliteStore {
            conn,
            _lock: Some(lock),
        })
    }

    /// Opens the file for reading only, without the lock, for tools that
    /// inspect a file an engine may be using.
    pub fn open_read_only(path: impl AsRef<Path>) -> Result<Self, BackendError> {
        let path = path.as_ref();
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(|e| BackendError::Store(format!("cannot open {}: {e}", path.display())))?;
        let version = user_version(&conn)?;
        refuse_newer(path, version)?;
        if version == 0 {
            return Err(BackendError::Store(format!(
                "{} is not a weft database (no format version)",
                path.display()
            )));
        }
        Ok(SqliteStore { conn, _lock: None })
    }

    /// Every run in the file, oldest first.
    pub fn list_executions(&self) -> Result<Vec<ExecutionSummary>, BackendError> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT namespace, run_id, workflow_id, status, request_id
                 FROM executions ORDER BY rowid",
            )
            .map_err(store_err("listing executions"))?;
        let rows = stmt
            .query_map([], |r| {
                Ok((
                    r.get(0)?,
                    r.get(1)?,
                    r.get(2)?,
                    r.get::<_, String>(3)?,
                    r.get(4)?,
                ))
            })
            .map_err(store_err("listing executions"))?;
        let mut out = Vec::new();
        for row in rows {
            let (namespace, run_id, workflow_id, status, request_id) =
                row.map_err(store_err("listing executions"))?;
            out.push(ExecutionSummary {
                namespace,
                run_id,
                workflow_id,
                status: parse_status(&status)?,
                request_id,
            });
        }
        Ok(out)
    }

    /// A run's whole history, decoded.
    pub fn history(&self, namespace: &str, run_id: &str) -> Result<Vec<Event>, BackendError> {
        self.read_events(namespace, run_id, 1)?
            .iter()
            .map(|data| {
                serde_json::from_slice(data)
                    .map_err(|e| BackendError::Store(format!("undecodable event: {e}")))
            })
            .collect()
    }

    fn read_events(
        &self,
        namespace: &str,
        run_id: &str,
        from: i64,
    ) -> Result<Vec<Vec<u8>>, BackendError> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT data FROM events WHERE namespace = ?1 AND run_id = ?2 AND event_id >= ?3
                 ORDER BY event_id",
            )
            .map_err(store_err("reading events"))?;
        let rows = stmt
            .query_map(params![namespace, run_id, from], |r| r.get::<_, Vec<u8>>(0))
            .map_err(store_err("reading events"))?;
        rows.collect::<Result<Vec<_>, _>>()
            .map_err(store_err("reading events"))
    }

    fn read_rows(&self, sql: &str) -> Result<Vec<ExecutionRow>, BackendError> {
        let mut stmt = self
            .conn
            .prepare_cached(sql)
            .map_err(store_err("reading executions"))?;
        let rows = stmt
            .query_map([], row_of)
            .map_err(store_err("reading executions"))?;
        let mut out = Vec::new();
        for row in rows {
            out.push(finish_row(row.map_err(store_err("reading executions"))?)?);
        }
        Ok(out)
    }
}

type RawRow = (String, String, String, String, String, Vec<u8>);

fn row_of(r: &rusqlite::Row<'_>) -> rusqlite::Result<RawRow> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
    ))
}

fn finish_row(raw: RawRow) -> Result<ExecutionRow, BackendError> {
    let (namespace, run_id, workflow_id, status, request_id, state) = raw;
    Ok(ExecutionRow {
        namespace,
        run_id,
        workflow_id,
        status: parse_status(&status)?,
        request_id,
        state,
    })
}

impl Store for SqliteStore {
    fn load(&mut self) -> Result<Loaded, BackendError> {
        let open = self.read_rows(
            "SELECT namespace, run_id, workflow_id, status, request_id, state
             FROM executions WHERE status = 'Running' ORDER BY rowid",
        )?;
        // Insertion order (rowid) tells the latest run of a workflow id.
        let latest = self
            .read_rows(
                "SELECT namespace, run_id, workflow_id, status, request_id, x''
                 FROM executions WHERE rowid IN
                   (SELECT max(rowid) FROM executions GROUP BY namespace, workflow_id)
                 ORDER BY rowid",
            )?
            .iter()
            .map(ExecutionRow::summary)
            .collect();
        Ok(Loaded { open, latest })
    }

    fn events(
        &mut self,
        namespace: &str,
        run_id: &str,
        from: i64,
    ) -> Result<Vec<Vec<u8>>, BackendError> {
        self.read_events(namespace, run_id, from)
    }

    fn activities(
        &mut self,
        namespace: &str,
        run_id: &str,
    ) -> Result<Vec<(i64, Vec<u8>)>, BackendError> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT id, data FROM activities WHERE namespace = ?1 AND run_id = ?2
                 ORDER BY id",
            )
            .map_err(store_err("reading activities"))?;
        let rows = stmt
            .query_map(params![namespace, run_id], |r| Ok((r.get(0)?, r.get(1)?)))
            .map_err(store_err("reading activities"))?;
        rows.collect::<Result<Vec<_>, _>>()
            .map_err(store_err("reading activities"))
    }

    fn updates(
        &mut self,
        namespace: &str,
        run_id: &str,
    ) -> Result<Vec<(String, Vec<u8>)>, BackendError> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT update_id, data FROM updates WHERE namespace = ?1 AND run_id = ?2
                 ORDER BY update_id",
            )
            .map_err(store_err("reading updates"))?;
        let rows = stmt
            .query_map(params![namespace, run_id], |r| Ok((r.get(0)?, r.get(1)?)))
            .map_err(store_err("reading updates"))?;
        rows.collect::<Result<Vec<_>, _>>()
            .map_err(store_err("reading updates"))
    }

    fn execution(
        &mut self,
        namespace: &str,
        run_id: &str,
    ) -> Result<Option<ExecutionRow>, BackendError> {
        let raw = self
            .conn
            .prepare_cached(
                "SELECT namespace, run_id, workflow_id, status, request_id, state
                 FROM executions WHERE namespace = ?1 AND run_id = ?2",
            )
            .and_then(|mut stmt| {
                stmt.query_row(params![namespace, run_id], row_of)
                    .optional()
            })
            .map_err(store_err("reading an execution"))?;
        raw.map(finish_row).transpose()
    }

    fn commit(&mut self, ops: &[StoreOp]) -> Result<(), BackendError> {
        let tx = self
            .conn
            .transaction()
            .map_err(store_err("starting a transaction"))?;
        for op in ops {
            write(&tx, op)?;
        }
        // With WAL and synchronous=FULL, commit returns after the fsync.
        tx.commit().map_err(store_err("committing"))
    }
}

const PUT_EXECUTION: &str =
    "INSERT INTO executions (namespace, run_id, workflow_id, status, request_id, state)
     VALUES (?1, ?2, ?3, ?4, ?5, ?6)
     ON CONFLICT (namespace, run_id) DO UPDATE SET
       workflow_id = excluded.workflow_id, status = excluded.status,
       request_id = excluded.request_id, state = excluded.state";
const APPEND_EVENT: &str =
    "INSERT INTO events (namespace, run_id, event_id, data) VALUES (?1, ?2, ?3, ?4)";
const PUT_ACTIVITY: &str = "INSERT OR REPLACE INTO activities (namespace, run_id, id, data)
     VALUES (?1, ?2, ?3, ?4)";
const DELETE_ACTIVITY: &str =
    "DELETE FROM activities WHERE namespace = ?1 AND run_id = ?2 AND id = ?3";
const PUT_UPDATE: &str = "INSERT OR REPLACE INTO updates (namespace, run_id, update_id, data)
     VALUES (?1, ?2, ?3, ?4)";
const DELETE_UPDATE: &str =
    "DELETE FROM updates WHERE namespace = ?1 AND run_id = ?2 AND update_id = ?3";

/// Applies one op inside a commit's transaction (statements are prepared
/// once per connection and cached).
fn write(tx: &rusqlite::Transaction<'_>, op: &StoreOp) -> Result<(), BackendError> {
    let run = |sql: &str, what: &'static str, params: &[&dyn rusqlite::ToSql]| {
        tx.prepare_cached(sql)
            .and_then(|mut stmt| stmt.execute(params))
            .map(|_| ())
            .map_err(store_err(what))
    };
    match op {
        StoreOp::PutExecution(row) => run(
            PUT_EXECUTION,
            "writing an execution",
            params![
                row.namespace,
                row.run_id,
                row.workflow_id,
                status_text(row.status),
                row.request_id,
                row.state
            ],
        ),
        StoreOp::AppendEvent {
            namespace,
            run_id,
            event_id,
            data,
        } => run(
            APPEND_EVENT,
            "appending an event",
            params![namespace, run_id, event_id, data],
        ),
        StoreOp::PutActivity {
            namespace,
            run_id,
            id,
            data,
        } => run(
            PUT_ACTIVITY,
            "writing an activity",
            params![namespace, run_id, id, data],
        ),
        StoreOp::DeleteActivity {
            namespace,
            run_id,
            id,
        } => run(
            DELETE_ACTIVITY,
            "removing an activity",
            params![namespace, run_id, id],
        ),
        StoreOp::PutUpdate {
            namespace,
            run_id,
            update_id,
            data,
        } => run(
            PUT_UPDATE,
            "writing an update",
            params![namespace, run_id, update_id, data],
        ),
        StoreOp::DeleteUpdate {
            namespace,
            run_id,
            update_id,
        } => run(
            DELETE_UPDATE,
            "removing an update",
            params![namespace, run_id, update_id],
        ),
    }
}
