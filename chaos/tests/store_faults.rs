//! Store faults on a real SQLite file: a commit that fails before writing,
//! one that fails after its write was durable (ambiguous), a full disk
//! (a file size limit, in a child process), and `SQLITE_BUSY` from another
//! process holding the write lock. Each time the engine stops, acknowledges
//! nothing of the failed batch, and a restart on the same file finishes
//! the workload: every check of the kill program passes (no duplicate
//! event, no acknowledged call lost, no committed step run again).

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Mutex;

use weft::Client;
use weft::engine::{Engine, EngineOptions, SqliteStore, Store};
use weft_chaos::check;
use weft_chaos::epoch::{self, EpochError, Plan};
use weft_chaos::faults::{Fault, FaultPlan, FaultyStore};
use weft_chaos::verify::{self, Snapshot, Tally};
use weft_chaos::{ledger, workload};

const BIN: &str = env!("CARGO_BIN_EXE_weft-chaos");

/// The ledger is one per process: the tests of this file take turns.
static LEDGER_TURN: Mutex<()> = Mutex::new(());

/// Runs `test` on a runtime of its own once it is this test's turn.
fn in_turn(test: impl std::future::Future<Output = ()>) {
    let _turn = LEDGER_TURN.lock().unwrap_or_else(|e| e.into_inner());
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
        .block_on(test);
}

fn plan() -> Plan {
    Plan {
        steps: 3,
        schedule_actions: 1,
        ..Plan::default()
    }
}

/// Runs the epoch as process `generation` on `store` until it ends.
async fn generation(dir: &Path, store: impl Store, generation: u32) -> Result<(), EpochError> {
    ledger::open(&dir.join("ledger.log"), generation).unwrap();
    let engine = Engine::start(store, EngineOptions::default()).unwrap();
    let client = Client::new(engine.clone());
    let worker = workload::worker(&client).start().unwrap();
    let outcome = epoch::run(&client, 0, plan()).await;
    worker.shutdown().await;
    engine.shutdown().await;
    outcome
}

/// The epoch in `dir` after a first process that failed: resumed by a
/// second on a plain store, then checked.
async fn resume_and_check(dir: &Path) {
    let db = dir.join("chaos.db");
    let after = Snapshot::of(1, &check::histories(&db).unwrap());
    let store = SqliteStore::open(&db).unwrap();
    generation(dir, store, 2).await.unwrap();
    let mut tally = Tally::default();
    if let Err(problems) = verify::epoch(dir, 0, &plan(), &[after], &mut tally) {
        panic!("{}", problems.join("\n"));
    }
    assert!(tally.acks > 0, "{tally}");
}

async fn failing_commit(fault: Fault, n: u64) {
    let dir = tempfile::tempdir().unwrap();
    let faults = FaultPlan::new();
    faults.fail(n, fault);
    let store = FaultyStore::new(
        SqliteStore::open(dir.path().join("chaos.db")).unwrap(),
        faults.clone(),
    );
    let outcome = generation(dir.path(), store, 1).await;
    assert_eq!(faults.injected(), vec![(n, fault)], "commit {n} never came");
    let stopped = outcome.expect_err("the workload finished past a failed commit");
    assert!(stopped.to_string().contains("engine stopped"), "{stopped}");
    resume_and_check(dir.path()).await;
}

#[test]
fn a_commit_refused_stops_the_engine_and_a_restart_finishes_the_work() {
    in_turn(async {
        for n in [1, 7, 40] {
            failing_commit(Fault::Refuse, n).await;
        }
    });
}

#[test]
fn an_ambiguous_commit_written_but_reported_failed_leaves_no_duplicate() {
    in_turn(async {
        for n in [1, 7, 40] {
            failing_commit(Fault::Ambiguous, n).await;
        }
    });
}

#[test]
fn a_full_disk_reported_by_the_store_stops_the_engine_and_a_restart_resumes() {
    in_turn(failing_commit(Fault::DiskFull, 12));
}

/// Another process holds SQLite's write lock: the engine's next commit
/// gets `SQLITE_BUSY` ("database is locked") and the engine stops; once
/// the lock is released a restart finishes the work.
#[test]
fn sqlite_busy_from_another_process_stops_the_engine_and_a_restart_resumes() {
    in_turn(busy());
}

async fn busy() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("chaos.db");
    // The file exists, in WAL mode, before the other process opens it.
    drop(SqliteStore::open(&db).unwrap());
    let store = SqliteStore::open(&db).unwrap();
    let mut holder = Command::new(BIN)
        .args(["hold-lock", "--db"])
        .arg(&db)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(holder.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert_eq!(line, "locked\n");
    let outcome = generation(dir.path(), store, 1).await;
    let stopped = outcome.expect_err("a commit went through another process's lock");
    assert!(
        stopped.to_string().contains("database is locked"),
        "{stopped}"
    );
    drop(holder.stdin.take());
    assert!(holder.wait().unwrap().success());
    resume_and_check(dir.path()).await;
}

/// A full disk for real: the first process runs under a file size limit
/// (`ulimit -f`, `SIGXFSZ` ignored, so a write past it fails with `EFBIG`
/// as on a full disk), fails, and a second without the limit finishes.
#[test]
fn a_write_past_the_file_size_limit_stops_the_process_and_a_restart_resumes() {
    let _turn = LEDGER_TURN.lock().unwrap_or_else(|e| e.into_inner());
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("chaos.db");
    let ledger_path = dir.path().join("ledger.log");
    let worker = |limit: Option<u32>, generation: u32| {
        let ulimit = limit.map_or(String::new(), |kb| format!("ulimit -f {kb}; "));
        Command::new("bash")
            .arg("-c")
            .arg(format!(
                "trap '' XFSZ; {ulimit}exec \"$0\" worker --db \"$1\" --ledger \"$2\" \
                 --epoch 0 --generation {generation}"
            ))
            .arg(BIN)
            .arg(&db)
            .arg(&ledger_path)
            .output()
            .unwrap()
    };
    // 1 MiB: the log reaches it partway through the workload.
    let first = worker(Some(1024), 1);
    let stderr = String::from_utf8_lossy(&first.stderr);
    assert!(!first.status.success(), "finished under the limit");
    assert!(stderr.contains("commit failed"), "{stderr}");
    let done_before = ledger::read(&ledger_path).unwrap();
    assert!(
        done_before.iter().any(|e| e.kind == "act"),
        "failed before any work"
    );
    let after = Snapshot::of(1, &check::histories(&db).unwrap());
    let second = worker(None, 2);
    assert!(
        second.status.success(),
        "{}",
        String::from_utf8_lossy(&second.stderr)
    );
    let mut tally = Tally::default();
    if let Err(problems) = verify::epoch(dir.path(), 0, &Plan::default(), &[after], &mut tally) {
        panic!("{}", problems.join("\n"));
    }
}
