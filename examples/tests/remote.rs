//! Clients and workers in separate processes against a server: every
//! pattern of the book with its worker in another process, two worker
//! processes sharing one task queue, and one of them killed (SIGKILL)
//! mid-activity while the other finishes its work.

use std::io::{BufRead, BufReader};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::Arc;
use std::sync::mpsc::{Receiver, channel};
use std::time::Duration;

use weft::Client;
use weft::engine::Engine;
use weft::remote::ConnectOptions;
use weft_examples::remote::{Shared, TASK_QUEUE, WORKER_ENV};
use weft_examples::support::options;
use weft_server::{Server, ServerConfig};

const BIN: &str = env!("CARGO_BIN_EXE_remote_worker");
/// Bound on waiting for a worker process's line: a hung test fails.
const LINE_WAIT: Duration = Duration::from_secs(60);

/// A server on a fresh SQLite file, on a free loopback port.
struct Served {
    engine: Engine,
    server: Server,
    _dir: tempfile::TempDir,
}

async fn serve() -> Served {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("weft.db");
    let engine = Engine::sqlite(&db).await.unwrap();
    let config = ServerConfig::new("127.0.0.1:0").sqlite_path(&db);
    let server = Server::start(Arc::new(engine.clone()), config)
        .await
        .unwrap();
    Served {
        engine,
        server,
        _dir: dir,
    }
}

/// A worker process, its output lines, and its standard input (closing it
/// stops the process gracefully).
struct WorkerProcess {
    child: Child,
    stdin: Option<ChildStdin>,
    lines: Receiver<String>,
}

impl WorkerProcess {
    fn spawn(address: &str, name: &str, flags: &[&str]) -> WorkerProcess {
        let mut child = Command::new(BIN)
            .args(["--address", address])
            .args(flags)
            .env(WORKER_ENV, name)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, lines) = channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let stdin = child.stdin.take();
        let mut process = WorkerProcess {
            child,
            stdin,
            lines,
        };
        process.wait_for(|line| line == "ready");
        process
    }

    /// Waits for a line that matches, and returns it.
    fn wait_for(&mut self, matches: impl Fn(&str) -> bool) -> String {
        loop {
            let line = self
                .lines
                .recv_timeout(LINE_WAIT)
                .expect("the worker process printed no matching line");
            if matches(&line) {
                return line;
            }
        }
    }

    fn kill(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }

    fn stop(mut self) {
        drop(self.stdin.take());
        let status = self.child.wait().unwrap();
        assert!(status.success(), "the worker process ended with {status}");
    }
}

/// What of a pattern's lines must be the same in process and across
/// processes.
fn comparable(pattern: &str, mut lines: Vec<String>) -> Vec<String> {
    // Metrics are counted where the worker runs: the client's process,
    // which scrapes its own endpoint, has none when the worker is remote.
    if pattern == "Custom Metrics" {
        lines.truncate(1);
    }
    lines
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_pattern_runs_with_its_worker_in_another_process() {
    let served = serve().await;
    let address = served.server.local_addr().to_string();
    let workers = tokio::task::spawn_blocking({
        let address = address.clone();
        move || WorkerProcess::spawn(&address, "patterns", &["--patterns"])
    })
    .await
    .unwrap();
    let remote = Client::connect(&address, ConnectOptions::new())
        .await
        .unwrap();
    // The same patterns in process, for what each should print.
    let local_engine = Engine::memory().await.unwrap();
    let local = Client::new(local_engine.clone());
    let mut local_workers = Vec::new();
    for pattern in weft_examples::patterns() {
        local_workers.push((pattern.worker)(&local).start().unwrap());
    }
    for pattern in weft_examples::patterns() {
        eprintln!("pattern {}", pattern.name);
        let remote_lines = (pattern.run)(&remote).await;
        let local_lines = (pattern.run)(&local).await;
        match (remote_lines, local_lines) {
            (Ok(remote_lines), Ok(local_lines)) => {
                assert_eq!(
                    comparable(pattern.name, remote_lines),
                    comparable(pattern.name, local_lines),
                    "{}",
                    pattern.name
                );
            }
            (remote_lines, local_lines) => panic!(
                "{}: remote {remote_lines:?}, in process {local_lines:?}",
                pattern.name
            ),
        }
    }
    for worker in local_workers {
        worker.shutdown().await;
    }
    local_engine.shutdown().await;
    tokio::task::spawn_blocking(move || workers.stop())
        .await
        .unwrap();
    served.server.shutdown().await;
    served.engine.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_worker_processes_share_one_task_queue() {
    let served = serve().await;
    let address = served.server.local_addr().to_string();
    let (a, b) = tokio::task::spawn_blocking({
        let address = address.clone();
        move || {
            (
                WorkerProcess::spawn(&address, "A", &["--shared"]),
                WorkerProcess::spawn(&address, "B", &["--shared"]),
            )
        }
    })
    .await
    .unwrap();
    let client = Client::connect(&address, ConnectOptions::new())
        .await
        .unwrap();
    let mut handles = Vec::new();
    for i in 0..6 {
        let handle = client
            .start_workflow(
                Shared::run,
                vec![300; 4],
                options(&format!("shared-{i}"), TASK_QUEUE),
            )
            .await
            .unwrap();
        handles.push(handle);
    }
    let mut ran_by = Vec::new();
    for handle in handles {
        ran_by.extend(handle.result().await.unwrap());
    }
    assert_eq!(ran_by.len(), 24);
    for name in ["A", "B"] {
        assert!(
            ran_by.iter().any(|n| n == name),
            "worker {name} ran none of {ran_by:?}"
        );
    }
    tokio::task::spawn_blocking(move || {
        a.stop();
        b.stop();
    })
    .await
    .unwrap();
    served.server.shutdown().await;
    served.engine.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_killed_mid_activity_loses_nothing() {
    let served = serve().await;
    let address = served.server.local_addr().to_string();
    let mut a = tokio::task::spawn_blocking({
        let address = address.clone();
        move || WorkerProcess::spawn(&address, "A", &["--shared"])
    })
    .await
    .unwrap();
    let client = Client::connect(&address, ConnectOptions::new())
        .await
        .unwrap();
    // Its only attempt would outlast the test; the kill cuts it short.
    let handle = client
        .start_workflow(Shared::run, vec![600_000], options("killed", TASK_QUEUE))
        .await
        .unwrap();
    let (a, b) = tokio::task::spawn_blocking({
        let address = address.clone();
        move || {
            let started = a.wait_for(|line| line.starts_with("started "));
            assert_eq!(started, "started killed 1 1");
            let b = WorkerProcess::spawn(&address, "B", &["--shared"]);
            (a, b)
        }
    })
    .await
    .unwrap();
    tokio::task::spawn_blocking(move || a.kill()).await.unwrap();
    // The attempt A held times out (start-to-close 3 s), and B runs the retry.
    let ran_by = handle.result().await.unwrap();
    assert_eq!(ran_by, ["B"]);
    let history = handle.history().await.unwrap();
    let attempts = history
        .iter()
        .filter_map(|e| match &e.attributes {
            weft::history::EventAttributes::ActivityTaskStarted { attempt, .. } => Some(*attempt),
            _ => None,
        })
        .collect::<Vec<_>>();
    assert_eq!(attempts, [2], "the killed attempt's start is not recorded");
    tokio::task::spawn_blocking(move || b.stop()).await.unwrap();
    served.server.shutdown().await;
    served.engine.shutdown().await;
}

/// Schedules over the network: the Schedule example's walk through its
/// five functions (create, trigger, backfill, pause, update, describe,
/// list, delete) with its client and worker remote, on a server whose
/// engine runs the time-skipping clock, prints what it prints in process.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_schedule_walk_runs_against_a_server() {
    use weft::engine::{EngineOptions, MemoryStore, VirtualClock};
    use weft_examples::schedule;

    let clock = VirtualClock::new();
    let options = EngineOptions {
        clock: Arc::new(clock.clone()),
        ..EngineOptions::default()
    };
    let engine = Engine::start(MemoryStore::new(), options).unwrap();
    let server = Server::start(Arc::new(engine.clone()), ServerConfig::new("127.0.0.1:0"))
        .await
        .unwrap();
    let client = Client::connect(&server.local_addr().to_string(), ConnectOptions::new())
        .await
        .unwrap();
    let worker = schedule::worker(&client).start().unwrap();
    let walk = schedule::walk_through(&client, &clock).await.unwrap();
    assert!(client.list_schedules().await.unwrap().is_empty());
    worker.shutdown().await;
    server.shutdown().await;
    engine.shutdown().await;

    let unused = Client::new(Engine::memory().await.unwrap());
    let in_process = schedule::run(&unused).await.unwrap();
    assert_eq!(walk.lines, in_process);
}
