//! The SQLite file itself: who may own it, which files are opened, what a
//! damaged one or one left mid-write gives. Each test is named after what
//! broke.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use weft::backend::{BackendError, RunStatus};
use weft::engine::store::{ExecutionRow, StoreOp};
use weft::engine::{APPLICATION_ID, Engine, IntegrityCheck, OpenError, SqliteStore, Store};

/// The names and contents of the files in `dir`.
fn snapshot(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| {
            let entry = entry.unwrap();
            let name = entry.file_name().to_string_lossy().into_owned();
            let bytes = std::fs::read(entry.path()).unwrap_or_default();
            (name, bytes)
        })
        .collect()
}

/// Asserts `dir` holds what `before` says, naming the files that differ.
fn assert_unchanged(dir: &Path, before: &BTreeMap<String, Vec<u8>>, what: &str) {
    let after = snapshot(dir);
    let changed: Vec<String> = before
        .keys()
        .chain(after.keys())
        .filter(|name| before.get(*name) != after.get(*name))
        .map(|name| {
            let size = |m: &BTreeMap<String, Vec<u8>>| m.get(name).map(Vec::len);
            format!("{name} ({:?} -> {:?} bytes)", size(before), size(&after))
        })
        .collect();
    assert!(changed.is_empty(), "{what}: changed {changed:?}");
}

fn application_id(path: &Path) -> i32 {
    let conn = rusqlite::Connection::open(path).unwrap();
    conn.query_row("PRAGMA application_id", [], |r| r.get(0))
        .unwrap()
}

/// A store holding `runs` runs of `events` events each, written through
/// the store's own interface.
fn fill(store: &mut SqliteStore, runs: usize, events: usize) {
    for r in 0..runs {
        let run_id: std::sync::Arc<str> = format!("run-{r:05}").into();
        let mut ops = vec![StoreOp::PutExecution(ExecutionRow {
            namespace: "default".into(),
            run_id: run_id.clone(),
            workflow_id: format!("wf-{r:05}"),
            status: RunStatus::Completed,
            request_id: format!("req-{r}"),
            state: vec![7; 300],
            workflow_type: "Fill".into(),
            task_queue: "q".into(),
            start_time: std::time::UNIX_EPOCH,
            close_time: Some(std::time::UNIX_EPOCH),
        })];
        for e in 1..=events {
            ops.push(StoreOp::AppendEvents {
                namespace: "default".into(),
                run_id: run_id.clone(),
                first_event_id: e as i64,
                last_event_id: e as i64,
                data: format!("{{\"event\":{e},\"pad\":\"{}\"}}", "p".repeat(150)).into_bytes(),
            });
        }
        store.commit(&ops).unwrap();
    }
}

// ---------------------------------------------------------------------
// One owner per file, whichever path reaches it.

/// `path`, a symlink to it and a hard link to it, in `dir`.
fn three_paths(dir: &Path) -> [PathBuf; 3] {
    let path = dir.join("weft.db");
    let symlink = dir.join("symlinked.db");
    let hard_link = dir.join("hard-linked.db");
    drop(SqliteStore::open(&path).unwrap());
    std::os::unix::fs::symlink(&path, &symlink).unwrap();
    std::fs::hard_link(&path, &hard_link).unwrap();
    [path, symlink, hard_link]
}

fn assert_in_use(result: Result<SqliteStore, OpenError>, through: &Path) {
    match result {
        Err(e @ OpenError::InUse { .. }) => {
            let text = e.to_string();
            assert!(text.contains("already in use by another engine"), "{text}");
        }
        other => panic!("{} opened a second time: {other:?}", through.display()),
    }
}

// Through a symlink a second engine got in (two runs per workflow id);
// through a hard link it corrupted the database.
#[tokio::test]
async fn a_second_engine_is_refused_through_a_symlink_or_a_hard_link() {
    let dir = tempfile::tempdir().unwrap();
    let [path, symlink, hard_link] = three_paths(dir.path());
    let engine = Engine::sqlite(&path).await.unwrap();
    for through in [&path, &symlink, &hard_link] {
        assert_in_use(SqliteStore::open(through), through);
        let err = Engine::sqlite(through).await.unwrap_err();
        assert!(
            matches!(&err, BackendError::Store(m) if m.contains("already in use by another engine")),
            "{err}"
        );
    }
    engine.shutdown().await;
    // Released at shutdown: the next owner may come by any path.
    drop(SqliteStore::open(&hard_link).unwrap());
    drop(SqliteStore::open(&symlink).unwrap());
}

/// The POSIX (`fcntl`) locks this process holds on the file at `path`,
/// from `/proc/locks`: SQLite's. The file is produced in chunks while other
/// tests of this binary take and drop locks, so one read can repeat or
/// miss a line: it is read until two reads in a row agree.
#[cfg(target_os = "linux")]
fn posix_locks(path: &Path) -> Vec<String> {
    let mut last = posix_locks_once(path);
    for _ in 0..100 {
        let now = posix_locks_once(path);
        if now == last {
            return now;
        }
        last = now;
    }
    panic!("/proc/locks never read the same twice in a row");
}

#[cfg(target_os = "linux")]
fn posix_locks_once(path: &Path) -> Vec<String> {
    use std::os::unix::fs::MetadataExt;
    let inode = std::fs::metadata(path).unwrap().ino();
    let pid = std::process::id().to_string();
    std::fs::read_to_string("/proc/locks")
        .unwrap()
        .lines()
        .filter(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            fields.get(1) == Some(&"POSIX")
                && fields.get(4) == Some(&pid.as_str())
                && fields
                    .get(5)
                    .is_some_and(|id| id.ends_with(&format!(":{inode}")))
        })
        .map(|line| {
            line.split_whitespace()
                .skip(2)
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect()
}

// POSIX locks belong to the process and go when any descriptor of the file
// closes: a refused open that opened and closed one would strip the owning
// engine's connection of its locks.
#[cfg(target_os = "linux")]
#[test]
fn a_refused_open_in_the_owning_process_leaves_sqlites_locks_alone() {
    let dir = tempfile::tempdir().unwrap();
    let [path, symlink, hard_link] = three_paths(dir.path());
    let mut owner = SqliteStore::open(&path).unwrap();
    fill(&mut owner, 1, 1);
    // In WAL mode the connection keeps a shared lock on the file.
    owner.load().unwrap();
    let held = posix_locks(&path);
    assert!(
        !held.is_empty(),
        "the owner's connection holds no POSIX lock"
    );
    for through in [&path, &symlink, &hard_link] {
        assert_in_use(SqliteStore::open(through), through);
        assert_eq!(
            posix_locks(&path),
            held,
            "after a refused open through {through:?}"
        );
    }
}

/// Run by `a_second_process_is_refused_through_any_path` in a child
/// process: opens the file named by `WEFT_OPEN_IN_CHILD` and says how it
/// went. Does nothing in an ordinary test run.
#[test]
fn open_in_child_process() {
    let Some(path) = std::env::var_os("WEFT_OPEN_IN_CHILD") else {
        return;
    };
    match SqliteStore::open(&path) {
        Ok(_) => println!("child open: ok"),
        Err(e) => println!("child open: {e}"),
    }
}

fn open_in_child(path: &Path) -> String {
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["open_in_child_process", "--exact", "--nocapture"])
        .env("WEFT_OPEN_IN_CHILD", path)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    stdout
        .lines()
        .find_map(|l| l.strip_prefix("child open: "))
        .unwrap_or_else(|| panic!("the child said nothing: {stdout}"))
        .to_string()
}

#[tokio::test]
async fn a_second_process_is_refused_through_any_path() {
    let dir = tempfile::tempdir().unwrap();
    let [path, symlink, hard_link] = three_paths(dir.path());
    let engine = Engine::sqlite(&path).await.unwrap();
    for through in [&path, &symlink, &hard_link] {
        let said = open_in_child(through);
        assert!(
            said.contains("already in use by another engine"),
            "{through:?}: {said}"
        );
    }
    engine.shutdown().await;
    assert_eq!(open_in_child(&hard_link), "ok");
}

// ---------------------------------------------------------------------
// Only an empty file or a weft file is opened.

fn assert_not_weft(result: Result<SqliteStore, OpenError>, why: &str) {
    match result {
        Err(e @ OpenError::NotWeft { .. }) => {
            let text = e.to_string();
            assert!(text.contains("is not a weft database"), "{text}");
            assert!(text.contains(why), "{text}");
        }
        other => panic!("a foreign file was opened: {other:?}"),
    }
}

// A foreign database got weft's tables, its version and WAL mode; a failed
// migration left it in WAL mode beside a stray lock file.
#[tokio::test]
async fn a_foreign_database_is_refused_and_left_byte_for_byte() {
    let dir = tempfile::tempdir().unwrap();
    let cases: [(&str, &str, &str); 5] = [
        (
            "app.db",
            "CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT);
             INSERT INTO customers (name) VALUES ('ada'), ('alan');",
            "tables of its own (customers)",
        ),
        (
            "wal.db",
            "PRAGMA journal_mode = WAL;
             CREATE TABLE t (x); INSERT INTO t VALUES (1);
             PRAGMA user_version = 1;",
            "tables of its own (t) and format version 1",
        ),
        (
            "other-app.db",
            "PRAGMA application_id = 42;",
            "application id is 0x0000002a",
        ),
        (
            "versioned.db",
            "PRAGMA user_version = 7;",
            "no tables, but format version 7",
        ),
        (
            "dumped.db",
            "CREATE TABLE executions (x); CREATE TABLE events (y);",
            "weft's tables but no format version",
        ),
    ];
    for (name, sql, why) in cases {
        let path = dir.path().join(name);
        rusqlite::Connection::open(&path)
            .unwrap()
            .execute_batch(sql)
            .unwrap();
        let before = snapshot(dir.path());
        assert_not_weft(SqliteStore::open(&path), why);
        let err = Engine::sqlite(&path).await.unwrap_err();
        assert!(err.to_string().contains("is not a weft database"), "{err}");
        assert_not_weft(SqliteStore::open_read_only(&path), why);
        assert_unchanged(dir.path(), &before, name);
    }
    // Not SQLite at all.
    let path = dir.path().join("notes.txt");
    std::fs::write(&path, "not a database, just notes\n".repeat(100)).unwrap();
    let before = snapshot(dir.path());
    assert_not_weft(SqliteStore::open(&path), "not a SQLite database");
    assert_unchanged(dir.path(), &before, "notes.txt");
}

#[test]
fn an_empty_file_a_new_path_and_a_weft_file_open() {
    let dir = tempfile::tempdir().unwrap();
    // A new path, an empty file, and a SQLite file with nothing in it.
    let new = dir.path().join("new.db");
    let empty = dir.path().join("empty.db");
    std::fs::write(&empty, b"").unwrap();
    let bare = dir.path().join("bare.db");
    rusqlite::Connection::open(&bare)
        .unwrap()
        .execute_batch("PRAGMA journal_mode = WAL; PRAGMA user_version = 0;")
        .unwrap();
    for path in [&new, &empty, &bare] {
        let mut store = SqliteStore::open(path).unwrap();
        fill(&mut store, 1, 2);
        drop(store);
        assert_eq!(application_id(path), APPLICATION_ID, "{path:?}");
        let ro = SqliteStore::open_read_only(path).unwrap();
        assert_eq!(ro.list_executions().unwrap().len(), 1);
    }
    // A weft file written before weft set its application id is weft's.
    rusqlite::Connection::open(&new)
        .unwrap()
        .execute_batch("PRAGMA application_id = 0;")
        .unwrap();
    let store = SqliteStore::open(&new).unwrap();
    assert_eq!(store.list_executions().unwrap().len(), 1);
    drop(store);
    assert_eq!(application_id(&new), APPLICATION_ID);
    // An empty file is no weft file to read yet.
    let fresh = dir.path().join("fresh.db");
    std::fs::write(&fresh, b"").unwrap();
    assert_not_weft(SqliteStore::open_read_only(&fresh), "an empty file");
}

// ---------------------------------------------------------------------
// A damaged file.

// A database with a damaged page opened, and the damage showed only when
// the run on that page was read.
#[tokio::test]
async fn a_damaged_file_is_refused_at_open_with_how_to_recover() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("weft.db");
    let mut store = SqliteStore::open(&path).unwrap();
    fill(&mut store, 200, 20);
    drop(store);
    let mut bytes = std::fs::read(&path).unwrap();
    let page = 4096;
    let pages = bytes.len() / page;
    assert!(pages > 100, "{pages} pages");
    // A page in the middle, its header and first cells overwritten.
    let middle = pages / 2 * page;
    bytes[middle..middle + 512].fill(0xA5);
    std::fs::write(&path, &bytes).unwrap();

    match SqliteStore::open(&path) {
        Err(e @ OpenError::Damaged { .. }) => {
            let text = e.to_string();
            assert!(text.contains("is damaged and was not opened"), "{text}");
            assert!(text.contains("(quick_check: "), "{text}");
            assert!(text.contains(".recover"), "{text}");
        }
        other => panic!("a damaged file was opened: {other:?}"),
    }
    let err = Engine::sqlite(&path).await.unwrap_err();
    assert!(err.to_string().contains("is damaged"), "{err}");
    match SqliteStore::open_with_check(&path, IntegrityCheck::Full) {
        Err(e @ OpenError::Damaged { .. }) => {
            assert!(e.to_string().contains("(integrity_check: "), "{e}")
        }
        other => panic!("a damaged file was opened: {other:?}"),
    }
    // The check can be skipped; then the damage shows where it is read.
    let skipped = SqliteStore::open_with_check(&path, IntegrityCheck::Skip).unwrap();
    let ok = skipped.list_executions().is_ok()
        && (0..200).all(|r| skipped.history("default", &format!("run-{r:05}")).is_ok());
    assert!(!ok, "every read of the damaged file succeeded");
    drop(skipped);
    // Nothing was written to it.
    assert_eq!(std::fs::read(&path).unwrap(), bytes);
}

// ---------------------------------------------------------------------
// A file left mid-write.

// `open_read_only` on a file whose writer was killed during its creation
// said "attempt to write a readonly database".
#[test]
fn a_read_only_open_of_a_file_left_mid_write_says_it_needs_recovery() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("writing.db");
    let conn = rusqlite::Connection::open(&path).unwrap();
    // A transaction whose pages spill into the file before it commits.
    conn.execute_batch(
        "PRAGMA cache_size = 1;
         BEGIN;
         CREATE TABLE t (x);
         WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2000)
         INSERT INTO t SELECT randomblob(500) FROM n;",
    )
    .unwrap();
    // What a process killed now leaves: the file and its hot journal.
    let left = dir.path().join("left.db");
    let journal = dir.path().join("left.db-journal");
    std::fs::copy(&path, &left).unwrap();
    std::fs::copy(dir.path().join("writing.db-journal"), &journal).unwrap();
    drop(conn);

    match SqliteStore::open_read_only(&left) {
        Err(e @ OpenError::NeedsRecovery { .. }) => {
            let text = e.to_string();
            assert!(
                text.contains("needs recovery before it can be read"),
                "{text}"
            );
            assert!(text.contains("SqliteStore::open"), "{text}");
            assert!(!text.contains("readonly database"), "{text}");
        }
        other => panic!("expected NeedsRecovery, got {other:?}"),
    }
    // As it says: an engine's open recovers it (the unfinished transaction
    // is rolled back, leaving an empty file), and then it reads.
    drop(SqliteStore::open(&left).unwrap());
    assert!(!journal.exists());
    let ro = SqliteStore::open_read_only(&left).unwrap();
    assert!(ro.list_executions().unwrap().is_empty());
}

// A closed store's file, unlinked while open, was still taken as owned for
// a moment after its descriptor closed, long enough for a new file to get
// its inode and be refused as "already in use".
#[test]
fn a_new_file_reusing_a_closed_stores_inode_is_not_taken_for_it() {
    let threads: Vec<_> = (0..4)
        .map(|_| {
            std::thread::spawn(|| {
                for _ in 0..100 {
                    let dir = tempfile::tempdir().unwrap();
                    let store = SqliteStore::open_with_check(
                        dir.path().join("weft.db"),
                        IntegrityCheck::Skip,
                    );
                    // The file goes while the store is open, as a test's
                    // directory does when an engine outlives it.
                    drop(dir);
                    drop(store.unwrap());
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
}
