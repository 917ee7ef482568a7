//! Checkpoints on a thread of their own.
//!
//! In WAL mode every commit appends pages to the log, and a checkpoint
//! copies them back into the database file so the log can start over.
//! SQLite runs one inside the commit that crosses `wal_autocheckpoint`
//! frames, on the committing thread: for the engine that is the writer
//! thread, the one thread every step waits for, and checkpoints took about
//! a fifth of its time.
//!
//! Here a second connection to the file checkpoints (`PASSIVE`: it never
//! waits for, nor blocks, the writer) whenever the writer has committed
//! [`OPS_PER_PASS`] operations since its last pass. The log only starts
//! over once a checkpoint has copied all of it, and the writer keeps
//! appending during a background pass, so the writer's own automatic
//! checkpoint stays on, at [`WRITER_AUTOCHECKPOINT`] frames: by then the
//! background has copied nearly everything, the writer copies the tail,
//! and the next commit restarts the log. If the background falls behind,
//! or cannot run at all, the writer's checkpoint still bounds the log.
//!
//! Checkpointing is SQLite's own protocol whichever connection runs it:
//! a crash at any instant leaves a file that opens with nothing lost.

use std::path::Path;
use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};
use std::thread::JoinHandle;

use rusqlite::Connection;

/// Store operations committed between two background passes: one dirties
/// a page or two, so a pass copies one to two thousand frames of log,
/// about SQLite's own automatic interval, whatever the commits' size.
/// (Passes every few commits cost the writer more in shared pages and
/// fsyncs than they saved it.)
pub(super) const OPS_PER_PASS: usize = 1_000;

/// The writer connection's `wal_autocheckpoint`, in frames (SQLite's
/// default is 1,000): the bound on the log if the background lags.
pub(super) const WRITER_AUTOCHECKPOINT: u32 = 4_000;

/// The background checkpointer of one database file, stopped when dropped.
#[derive(Debug)]
pub(super) struct Checkpointer {
    wake: Option<SyncSender<()>>,
    thread: Option<JoinHandle<()>>,
    ops: usize,
    ops_per_pass: usize,
}

impl Checkpointer {
    /// Starts checkpointing the file at `path` (already in WAL mode) from
    /// a thread of its own. `None`, with a warning, when its connection or
    /// thread cannot be had: the writer's own checkpoints then do all.
    pub(super) fn start(path: &Path) -> Option<Checkpointer> {
        let conn = match open(path) {
            Ok(conn) => conn,
            Err(e) => {
                tracing::warn!(
                    path = %path.display(),
                    error = %e,
                    "no background checkpoints; the writer thread checkpoints alone"
                );
                return None;
            }
        };
        let (wake, woken) = sync_channel(1);
        let thread = std::thread::Builder::new()
            .name("weft-checkpoint".into())
            .spawn(move || run(&conn, &woken));
        match thread {
            Ok(thread) => Some(Checkpointer {
                wake: Some(wake),
                thread: Some(thread),
                ops: 0,
                ops_per_pass: OPS_PER_PASS,
            }),
            Err(e) => {
                tracing::warn!(
                    path = %path.display(),
                    error = %e,
                    "cannot start the checkpoint thread; the writer thread checkpoints alone"
                );
                None
            }
        }
    }

    /// Operations between passes from now on (at least one).
    pub(super) fn set_ops_per_pass(&mut self, ops: usize) {
        self.ops_per_pass = ops.max(1);
    }

    /// Counts a commit of `ops` operations; every [`OPS_PER_PASS`] (or
    /// what `set_ops_per_pass` set) asks for a pass (a pass asked for and
    /// not begun covers these too).
    pub(super) fn committed(&mut self, ops: usize) {
        self.ops += ops;
        if self.ops < self.ops_per_pass {
            return;
        }
        self.ops = 0;
        if let Some(wake) = &self.wake {
            match wake.try_send(()) {
                Ok(()) | Err(TrySendError::Full(())) => {}
                // The thread ended (see `run`); the writer checkpoints alone.
                Err(TrySendError::Disconnected(())) => self.wake = None,
            }
        }
    }
}

impl Drop for Checkpointer {
    /// Ends the thread after its pass in progress and closes its
    /// connection, before the writer's connection closes.
    fn drop(&mut self) {
        self.wake = None;
        if let Some(thread) = self.thread.take() {
            // A panic there has been reported by the panic hook already.
            let _ = thread.join();
        }
    }
}

fn open(path: &Path) -> rusqlite::Result<Connection> {
    let conn = Connection::open(path)?;
    // A checkpoint syncs the log before copying it and the file after,
    // as this setting says; the same as the writer's.
    conn.pragma_update(None, "synchronous", "FULL")?;
    Ok(conn)
}

/// Passes until the writer's side hangs up.
fn run(conn: &Connection, woken: &Receiver<()>) {
    while woken.recv().is_ok() {
        if let Err(e) = pass(conn) {
            tracing::warn!(error = %e, "background checkpoint failed; the writer's own checkpoints go on");
        }
    }
}

/// One `PASSIVE` checkpoint: copies what it can without waiting. (A
/// checkpoint already running elsewhere is no error: SQLite answers
/// "busy" in the row, and the next pass copies what this one did not.)
fn pass(conn: &Connection) -> rusqlite::Result<()> {
    let (busy, log, copied): (i64, i64, i64) =
        conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })?;
    tracing::trace!(busy, log, copied, "background checkpoint pass");
    Ok(())
}

#[cfg(test)]
mod tests {
    use rusqlite::OpenFlags;

    use super::*;

    /// A file in WAL mode whose table is in the file itself, with `rows`
    /// rows committed one by one to its log, which nothing has copied.
    fn file_with_log(dir: &Path, rows: i64) -> (std::path::PathBuf, Connection) {
        let path = dir.join("checkpoint.db");
        let conn = Connection::open(&path).unwrap();
        conn.pragma_update(None, "journal_mode", "WAL").unwrap();
        conn.pragma_update(None, "wal_autocheckpoint", 0).unwrap();
        conn.execute_batch("CREATE TABLE t (x INTEGER)").unwrap();
        conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
            .unwrap();
        for x in 0..rows {
            conn.execute("INSERT INTO t VALUES (?1)", [x]).unwrap();
        }
        (path, conn)
    }

    /// Rows the database file itself holds, its log left unread.
    fn rows_in_file(path: &Path) -> i64 {
        let uri = super::super::check::immutable_uri(path).unwrap();
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_URI;
        let conn = Connection::open_with_flags(uri, flags).unwrap();
        conn.query_row("SELECT count(*) FROM t", [], |r| r.get(0))
            .unwrap()
    }

    /// Rows in the file once a checkpointer (its interval set to
    /// `interval`, if given) has been told of these commits and stopped.
    /// A pass asked for runs before the thread sees the hang-up.
    fn rows_copied_after(interval: Option<usize>, commits: &[usize]) -> i64 {
        let dir = tempfile::tempdir().unwrap();
        let (path, _writer) = file_with_log(dir.path(), 40);
        assert_eq!(rows_in_file(&path), 0, "nothing copied yet");
        let mut checkpointer = Checkpointer::start(&path).unwrap();
        if let Some(ops) = interval {
            checkpointer.set_ops_per_pass(ops);
        }
        for &ops in commits {
            checkpointer.committed(ops);
        }
        drop(checkpointer);
        rows_in_file(&path)
    }

    #[test]
    fn a_pass_copies_the_log_into_the_file() {
        let half = OPS_PER_PASS / 2;
        assert_eq!(rows_copied_after(None, &[half, half]), 40);
    }

    #[test]
    fn fewer_operations_ask_for_no_pass() {
        assert_eq!(rows_copied_after(None, &[OPS_PER_PASS - 1]), 0);
    }

    #[test]
    fn the_interval_can_be_shortened() {
        assert_eq!(rows_copied_after(Some(0), &[1]), 40);
    }

    #[test]
    fn a_pass_leaves_the_writer_writing() {
        let dir = tempfile::tempdir().unwrap();
        let (path, writer) = file_with_log(dir.path(), 10);
        let mut checkpointer = Checkpointer::start(&path).unwrap();
        for x in 10..50 {
            writer.execute("INSERT INTO t VALUES (?1)", [x]).unwrap();
            checkpointer.committed(OPS_PER_PASS / 4);
        }
        drop(checkpointer);
        let total: i64 = writer
            .query_row("SELECT count(*) FROM t", [], |r| r.get(0))
            .unwrap();
        assert_eq!(total, 50);
        assert!(rows_in_file(&path) >= 10, "the passes copied the log");
    }
}
