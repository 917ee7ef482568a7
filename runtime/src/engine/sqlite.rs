//! The SQLite store: the default, durable one.
//!
//! Owns the file format: the schema, its version (`PRAGMA user_version`),
//! weft's `application_id`, and the migrations that bring an older file up
//! to date; what a file must be to be opened (empty or weft's, undamaged:
//! `check`); and the lock that lets one engine own a file (`lock`).
//! Durability settings are fixed here: WAL journal, `synchronous=FULL`, one
//! transaction per commit.

mod check;
mod checkpoint;
mod inspect;
mod lock;
mod visibility;

use std::path::Path;

use rusqlite::{Connection, OpenFlags, OptionalExtension, params};

use crate::backend::{BackendError, RunStatus};
use crate::history::Event;
use crate::search_attributes::{from_unix_nanos, to_unix_nanos};

use self::check::{Kind, check_integrity, classify};
use self::lock::{FileLock, LockError};
use super::store::{ExecutionRow, ExecutionSummary, Loaded, ScheduleRow, Store, StoreOp};
use crate::visibility::{Filter, WorkflowExecutionInfo};

pub use self::check::{IntegrityCheck, OpenError};

/// The file format version this code writes.
pub const FORMAT_VERSION: u32 = 7;

/// weft's SQLite `application_id` ("weft" in ASCII), set in every file it
/// writes, so a file is known for weft's before its tables are read.
pub const APPLICATION_ID: i32 = 0x7765_6674;

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
    "
    -- Version 3: rows are written in MessagePack (see the engine's
    -- encoding). Rows of older versions, JSON, are read as they are and
    -- rewritten when their run is next written; the schema is unchanged.
",
    "
    -- Version 4: schedules, a row each (spec, state and bookkeeping, in
    -- the engine's encoding).
    CREATE TABLE schedules (
        namespace   TEXT NOT NULL,
        schedule_id TEXT NOT NULL,
        data        BLOB NOT NULL,
        PRIMARY KEY (namespace, schedule_id)
    ) WITHOUT ROWID;
",
    visibility::MIGRATION,
    "
    -- Version 6: a row of `events` holds the consecutive events one step
    -- appended to a run, one MessagePack value after another, keyed by
    -- the first one's id. A row of an older version holds one event,
    -- which reads the same way; the schema is unchanged.
",
    visibility::INTO_EXECUTIONS,
];

/// A SQLite file holding executions and histories.
pub struct SqliteStore {
    /// Declared before `conn`: its connection closes first, and the
    /// writer's, the last, checkpoints and removes the log.
    checkpointer: Option<checkpoint::Checkpointer>,
    conn: Connection,
    /// Held for the store's life; declared after `conn` so it is dropped
    /// after it (see `lock` for why that order matters).
    _lock: Option<FileLock>,
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

impl From<OpenError> for BackendError {
    /// The error and its causes, as text.
    fn from(e: OpenError) -> Self {
        BackendError::Store(error_chain(&e))
    }
}

/// An error's message followed by its causes'.
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

fn status_text(status: RunStatus) -> &'static str {
    match status {
        RunStatus::Running => "Running",
        RunStatus::Completed => "Completed",
        RunStatus::Failed => "Failed",
        RunStatus::ContinuedAsNew => "ContinuedAsNew",
        RunStatus::TimedOut => "TimedOut",
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
        "TimedOut" => Ok(RunStatus::TimedOut),
        "Canceled" => Ok(RunStatus::Canceled),
        "Terminated" => Ok(RunStatus::Terminated),
        other => Err(BackendError::Store(format!("unknown run status {other:?}"))),
    }
}

/// Logs a refused open: a user can cause it, and an engine's start may
/// report it far from where it is read.
fn logged<T>(path: &Path, result: Result<T, OpenError>) -> Result<T, OpenError> {
    if let Err(e) = &result {
        tracing::warn!(path = %path.display(), error = %error_chain(e), "database not opened");
    }
    result
}

/// Refuses a file with no weft tables to read.
fn weft_to_read(kind: Kind, path: &Path) -> Result<(), OpenError> {
    match kind {
        Kind::Weft { version, .. } if version > 0 => Ok(()),
        _ => Err(OpenError::NotWeft {
            path: path.to_path_buf(),
            reason: "an empty file, with no weft tables yet".into(),
        }),
    }
}

impl SqliteStore {
    /// Opens the file at `path` for an engine, creating it if there is
    /// none: takes the file's exclusive lock, checks it for damage
    /// ([`IntegrityCheck::Quick`]) and migrates its format.
    ///
    /// Only an empty file or one weft wrote is opened; anything else is
    /// refused and left as it was ([`OpenError::NotWeft`]), as is a file
    /// another engine owns through any path ([`OpenError::InUse`]), a
    /// damaged one ([`OpenError::Damaged`]) and one of a newer format.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, OpenError> {
        Self::open_with_check(path, IntegrityCheck::default())
    }

    /// [`SqliteStore::open`], checking the file for damage as `check` says.
    pub fn open_with_check(
        path: impl AsRef<Path>,
        check: IntegrityCheck,
    ) -> Result<Self, OpenError> {
        let path = path.as_ref();
        logged(path, Self::open_inner(path, check))
    }

    fn open_inner(path: &Path, check: IntegrityCheck) -> Result<Self, OpenError> {
        let lock = FileLock::acquire(path).map_err(|e| match e {
            LockError::InUse => OpenError::InUse {
                path: path.to_path_buf(),
            },
            LockError::Io(path, source) => OpenError::Io { path, source },
        })?;
        if let Some(links) = lock::link_count(path).filter(|&n| n > 1) {
            tracing::warn!(
                path = %path.display(),
                links,
                "the database file has several names (hard links); SQLite keeps its \
                 write-ahead log beside the name it was opened by, so always open it by one name"
            );
        }
        let mut conn = Connection::open(path).map_err(OpenError::sqlite(path, "opening"))?;
        // Nothing is written before the file is known to be empty or weft's.
        let kind = classify(&conn, path)?;
        if kind != Kind::Empty {
            check_integrity(&conn, path, check, lock.database())?;
        }
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(OpenError::sqlite(path, "setting WAL journal mode"))?;
        conn.pragma_update(None, "synchronous", "FULL")
            .map_err(OpenError::sqlite(path, "setting synchronous=FULL"))?;
        let (version, mut has_id) = match kind {
            Kind::Empty => (0, false),
            Kind::Weft { version, has_id } => (version, has_id),
        };
        for (from, sql) in MIGRATIONS.iter().enumerate().skip(version as usize) {
            let to = from + 1;
            let migrate = |e| OpenError::Sqlite {
                path: path.to_path_buf(),
                action: match to {
                    1 => "creating the tables (format version 1)",
                    2 => "migrating to format version 2",
                    3 => "migrating to format version 3",
                    4 => "migrating to format version 4",
                    5 => "migrating to format version 5",
                    6 => "migrating to format version 6",
                    7 => "migrating to format version 7",
                    _ => "migrating to a newer format version",
                },
                source: e,
            };
            let tx = conn.transaction().map_err(&migrate)?;
            tx.execute_batch(sql).map_err(&migrate)?;
            match to {
                5 => visibility::backfill(&tx).map_err(&migrate)?,
                7 => visibility::fill_unlisted(&tx).map_err(&migrate)?,
                _ => {}
            }
            tx.pragma_update(None, "user_version", to)
                .map_err(&migrate)?;
            tx.pragma_update(None, "application_id", APPLICATION_ID)
                .map_err(&migrate)?;
            tx.commit().map_err(&migrate)?;
            has_id = true;
        }
        if !has_id {
            // A file from before weft set its application id.
            conn.pragma_update(None, "application_id", APPLICATION_ID)
                .map_err(OpenError::sqlite(path, "recording weft's application id"))?;
        }
        conn.pragma_update(
            None,
            "wal_autocheckpoint",
            checkpoint::WRITER_AUTOCHECKPOINT,
        )
        .map_err(OpenError::sqlite(path, "setting wal_autocheckpoint"))?;
        Ok(SqliteStore {
            checkpointer: checkpoint::Checkpointer::start(path),
            conn,
            _lock: Some(lock),
        })
    }

    /// How many store operations the engine commits between two of the
    /// background checkpoint's passes (default 1,000, about SQLite's own
    /// interval). Fewer make a shorter log and more checkpoints, each
    /// with two fsyncs: what a test wants that checkpoints often, rarely
    /// what a deployment does. A store opened read-only has no background
    /// checkpoint, and this changes nothing for it.
    #[must_use]
    pub fn checkpoint_every(mut self, operations: usize) -> Self {
        if let Some(checkpointer) = &mut self.checkpointer {
            checkpointer.set_ops_per_pass(operations);
        }
        self
    }

    /// Opens the file for reading only, without the lock, for tools that
    /// inspect a file an engine may be using. Refuses a file that is not
    /// weft's (an empty one included), and one a stopped process left in
    /// need of recovery ([`OpenError::NeedsRecovery`]), which a read-only
    /// open cannot do.
    pub fn open_read_only(path: impl AsRef<Path>) -> Result<Self, OpenError> {
        let path = path.as_ref();
        logged(path, Self::open_read_only_inner(path))
    }

    fn open_read_only_inner(path: &Path) -> Result<Self, OpenError> {
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        // A read-only connection to a file in WAL mode creates the log and
        // its index beside it and leaves them: a file that may not be
        // weft's is first read as immutable, which creates nothing. That
        // reads the file alone, right only while no log or journal beside
        // it holds pages the file lacks.
        let beside = |suffix: &str| {
            let mut name = path.as_os_str().to_owned();
            name.push(suffix);
            Path::new(&name).exists()
        };
        if !beside("-wal")
            && !beside("-journal")
            && let Some(uri) = check::immutable_uri(path)
        {
            let probe = Connection::open_with_flags(uri, flags | OpenFlags::SQLITE_OPEN_URI)
                .map_err(OpenError::sqlite(path, "opening"))?;
            weft_to_read(classify(&probe, path)?, path)?;
        }
        let conn =
            Connection::open_with_flags(path, flags).map_err(OpenError::sqlite(path, "opening"))?;
        weft_to_read(classify(&conn, path)?, path)?;
        Ok(SqliteStore {
            checkpointer: None,
            conn,
            _lock: None,
        })
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
        super::encoding::events_from(&self.read_events(namespace, run_id, 1)?, 1)
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
                // From the row holding event `from`, which may begin before it.
                "SELECT data FROM events WHERE namespace = ?1 AND run_id = ?2 AND event_id >=
                   coalesce((SELECT max(event_id) FROM events
                             WHERE namespace = ?1 AND run_id = ?2 AND event_id <= ?3), ?3)
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

impl SqliteStore {
    fn read_schedules(&self) -> Result<Vec<ScheduleRow>, BackendError> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT namespace, schedule_id, data FROM schedules ORDER BY namespace, schedule_id",
            )
            .map_err(store_err("reading schedules"))?;
        let rows = stmt
            .query_map([], |r| {
                Ok(ScheduleRow {
                    namespace: r.get::<_, String>(0)?.into(),
                    schedule_id: r.get::<_, String>(1)?.into(),
                    data: r.get(2)?,
                })
            })
            .map_err(store_err("reading schedules"))?;
        rows.collect::<Result<Vec<_>, _>>()
            .map_err(store_err("reading schedules"))
    }
}

/// The columns of `executions` that make an [`ExecutionRow`] but its
/// state, in the order [`row_of`] reads them (the state follows).
macro_rules! identity_columns {
    () => {
        "namespace, run_id, workflow_id, status, request_id,
         workflow_type, task_queue, start_time, close_time"
    };
}
const IDENTITY_COLUMNS: &str = identity_columns!();

/// All the columns of an [`ExecutionRow`], in the order [`row_of`] reads them.
const ROW_COLUMNS: &str = concat!(identity_columns!(), ", state");

/// One run's row, by namespace and run id.
const SELECT_EXECUTION: &str = concat!(
    "SELECT ",
    identity_columns!(),
    ", state FROM executions WHERE namespace = ?1 AND run_id = ?2"
);

/// A row as read, before its status is parsed.
struct RawRow {
    row: ExecutionRow,
    status: String,
}

fn row_of(r: &rusqlite::Row<'_>) -> rusqlite::Result<RawRow> {
    Ok(RawRow {
        row: ExecutionRow {
            namespace: r.get::<_, String>(0)?.into(),
            run_id: r.get::<_, String>(1)?.into(),
            workflow_id: r.get(2)?,
            status: RunStatus::Running,
            request_id: r.get(4)?,
            workflow_type: r.get(5)?,
            task_queue: r.get(6)?,
            start_time: from_unix_nanos(r.get(7)?),
            close_time: r.get::<_, Option<i64>>(8)?.map(from_unix_nanos),
            state: r.get(9)?,
        },
        status: r.get(3)?,
    })
}

fn finish_row(raw: RawRow) -> Result<ExecutionRow, BackendError> {
    Ok(ExecutionRow {
        status: parse_status(&raw.status)?,
        ..raw.row
    })
}

impl Store for SqliteStore {
    fn load(&mut self) -> Result<Loaded, BackendError> {
        let open = self.read_rows(&format!(
            "SELECT {ROW_COLUMNS} FROM executions WHERE status = 'Running' ORDER BY rowid"
        ))?;
        // Insertion order (rowid) tells the latest run of a workflow id.
        let latest = self
            .read_rows(&format!(
                "SELECT {IDENTITY_COLUMNS}, x'' FROM executions WHERE rowid IN
                   (SELECT max(rowid) FROM executions GROUP BY namespace, workflow_id)
                 ORDER BY rowid"
            ))?
            .iter()
            .map(ExecutionRow::summary)
            .collect();
        Ok(Loaded {
            open,
            latest,
            schedules: self.read_schedules()?,
        })
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
            .prepare_cached(SELECT_EXECUTION)
            .and_then(|mut stmt| {
                stmt.query_row(params![namespace, run_id], row_of)
                    .optional()
            })
            .map_err(store_err("reading an execution"))?;
        raw.map(finish_row).transpose()
    }

    fn visibility(
        &mut self,
        namespace: &str,
        filter: Option<&Filter>,
    ) -> Result<Vec<WorkflowExecutionInfo>, BackendError> {
        visibility::candidates(&self.conn, namespace, filter)
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
        tx.commit().map_err(store_err("committing"))?;
        if let Some(checkpointer) = &mut self.checkpointer {
            checkpointer.committed(ops.len());
        }
        Ok(())
    }
}

/// Inserts a run's row; [`PUT_EXECUTION`] and [`PUT_EXECUTION_STATE`]
/// say what a rewrite sets.
macro_rules! insert_execution {
    () => {
        "INSERT INTO executions
         (namespace, run_id, workflow_id, status, request_id, state,
          workflow_type, task_queue, start_time, close_time)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
         ON CONFLICT (namespace, run_id) DO UPDATE SET
           request_id = excluded.request_id, state = excluded.state"
    };
}
/// A run's workflow id, type, task queue and start time never change: a
/// rewrite sets the rest, so the indexes of those are left alone.
const PUT_EXECUTION: &str = concat!(
    insert_execution!(),
    ", status = excluded.status, close_time = excluded.close_time"
);
/// The same for a step that changed neither status nor close time: SQLite
/// rewrites an index whenever a statement sets one of its columns, even
/// to the value it had, so this one sets none that is indexed.
const PUT_EXECUTION_STATE: &str = insert_execution!();
const APPEND_EVENTS: &str =
    "INSERT INTO events (namespace, run_id, event_id, data) VALUES (?1, ?2, ?3, ?4)";
const PUT_ACTIVITY: &str = "INSERT OR REPLACE INTO activities (namespace, run_id, id, data)
     VALUES (?1, ?2, ?3, ?4)";
const DELETE_ACTIVITY: &str =
    "DELETE FROM activities WHERE namespace = ?1 AND run_id = ?2 AND id = ?3";
const PUT_UPDATE: &str = "INSERT OR REPLACE INTO updates (namespace, run_id, update_id, data)
     VALUES (?1, ?2, ?3, ?4)";
const DELETE_UPDATE: &str =
    "DELETE FROM updates WHERE namespace = ?1 AND run_id = ?2 AND update_id = ?3";
const PUT_SCHEDULE: &str = "INSERT OR REPLACE INTO schedules (namespace, schedule_id, data)
     VALUES (?1, ?2, ?3)";
const DELETE_SCHEDULE: &str = "DELETE FROM schedules WHERE namespace = ?1 AND schedule_id = ?2";

/// Applies a schedule's op inside a commit's transaction.
fn write_schedule(tx: &rusqlite::Transaction<'_>, op: &StoreOp) -> Result<(), BackendError> {
    let result = match op {
        StoreOp::PutSchedule(row) => tx
            .prepare_cached(PUT_SCHEDULE)
            .and_then(|mut stmt| stmt.execute(params![row.namespace, row.schedule_id, row.data])),
        StoreOp::DeleteSchedule {
            namespace,
            schedule_id,
        } => tx
            .prepare_cached(DELETE_SCHEDULE)
            .and_then(|mut stmt| stmt.execute(params![namespace, schedule_id])),
        _ => return Ok(()),
    };
    result.map(|_| ()).map_err(store_err("writing a schedule"))
}

/// Writes a run's row with `sql`, [`PUT_EXECUTION`] or
/// [`PUT_EXECUTION_STATE`].
fn put_execution(
    tx: &rusqlite::Transaction<'_>,
    sql: &str,
    row: &ExecutionRow,
) -> Result<(), BackendError> {
    let nanos = |t| {
        to_unix_nanos(t)
            .ok_or_else(|| BackendError::Store(format!("run {}: a time out of range", row.run_id)))
    };
    let start_time = nanos(row.start_time)?;
    let close_time = row.close_time.map(nanos).transpose()?;
    tx.prepare_cached(sql)
        .and_then(|mut stmt| {
            stmt.execute(params![
                row.namespace,
                row.run_id,
                row.workflow_id,
                status_text(row.status),
                row.request_id,
                row.state,
                row.workflow_type,
                row.task_queue,
                start_time,
                close_time,
            ])
        })
        .map(|_| ())
        .map_err(store_err("writing an execution"))
}

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
        StoreOp::PutExecution(row) => put_execution(tx, PUT_EXECUTION, row),
        StoreOp::PutExecutionState(row) => put_execution(tx, PUT_EXECUTION_STATE, row),
        StoreOp::AppendEvents {
            namespace,
            run_id,
            first_event_id,
            data,
            ..
        } => run(
            APPEND_EVENTS,
            "appending events",
            params![namespace, run_id, first_event_id, data],
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
        StoreOp::PutSchedule(_) | StoreOp::DeleteSchedule { .. } => write_schedule(tx, op),
        StoreOp::PutSearchAttributes {
            namespace,
            run_id,
            attributes,
        } => visibility::put_attributes(tx, namespace, run_id, attributes),
    }
}
