//! `weft history export` (its format, and progress on standard error
//! only) and `weft history replay`: what it checks in any history, and,
//! built into a binary with workflow code (`weft_server::cli::Cli`), the
//! replay that finds nondeterminism.

mod support;

use std::process::ExitCode;

use serde_json::Value;
use weft::remote::ConnectOptions;
use weft::replay::Replayer;
use weft::{Client, WorkflowOptions};
use weft_server::ServerConfig;
use weft_server::cli::Cli;

use support::cli::{fails, ok, weft};
use support::{Account, AccountHandle, QUEUE, serve, worker};

/// Runs `args` through a `Cli` that has `Account`'s code.
async fn with_code(args: &[&str]) -> ExitCode {
    let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    tokio::task::spawn_blocking(move || {
        let mut replayer = Replayer::new();
        replayer.register_workflow::<Account>();
        Cli::new().replayer(replayer).run_with(args)
    })
    .await
    .unwrap()
}

/// `weft args…` off the async threads.
async fn run(args: Vec<String>) -> (bool, String, String) {
    tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        weft(&args)
    })
    .await
    .unwrap()
}

fn strings(args: &[&str]) -> Vec<String> {
    args.iter().map(|s| s.to_string()).collect()
}

/// A server, its worker, and a run of `Account` that completed.
struct Completed {
    served: support::Served,
    worker: weft::worker::WorkerHandle,
    handle: weft::WorkflowHandle<Account>,
    address: String,
}

async fn completed(id: &str) -> Completed {
    let served = serve(ServerConfig::default()).await;
    let address = served.address();
    let client = Client::connect(&address, ConnectOptions::new())
        .await
        .unwrap();
    let worker = worker(&client).start().unwrap();
    let handle = client
        .start_workflow(Account::run, "Hist".into(), WorkflowOptions::new(id, QUEUE))
        .await
        .unwrap();
    handle.close().await.unwrap();
    handle.result().await.unwrap();
    Completed {
        served,
        worker,
        handle,
        address,
    }
}

impl Completed {
    /// `weft args… --address` this server.
    async fn weft(&self, args: &[&str]) -> (bool, String, String) {
        let mut args = strings(args);
        args.extend(strings(&["--address", &self.address]));
        run(args).await
    }

    async fn stop(self) {
        self.worker.shutdown().await;
        self.served.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_export_carries_its_format_and_its_progress_stays_on_stderr() {
    let run = completed("acct-export").await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("h.json").display().to_string();
    // To a file, progress forced (standard error is a pipe here).
    let export = ["history", "export", "-w", "acct-export"];
    let (good, out, err) = run
        .weft(&[&export[..], &["-f", &file, "--progress"]].concat())
        .await;
    assert!(good, "{err}");
    assert!(out.is_empty(), "{out}");
    let events = run.handle.history().await.unwrap().len();
    assert!(
        err.contains(&format!("{events}/{events} events written")),
        "{err}"
    );
    let text = std::fs::read_to_string(&file).unwrap();
    let exported: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(exported["format"], "weft-history");
    assert_eq!(exported["version"], 1);
    assert_eq!(exported["workflow_id"], "acct-export");
    assert_eq!(exported["events"].as_array().unwrap().len(), events);
    // The library reads the export as it is.
    assert_eq!(weft::history::from_json(&text).unwrap().len(), events);

    // To standard output: JSON alone there, the progress on standard error.
    let (good, out, err) = run.weft(&[&export[..], &["--progress"]].concat()).await;
    assert!(good, "{err}");
    assert_eq!(serde_json::from_str::<Value>(&out).unwrap(), exported);
    assert!(err.contains("events written"), "{err}");
    // Without --progress and without a terminal: none.
    let (good, _, err) = run.weft(&export).await;
    assert!(good, "{err}");
    assert!(!err.contains("events written"), "{err}");
    run.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_history_is_checked_by_weft_and_replayed_by_a_binary_with_the_code() {
    let run = completed("acct-replay").await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("h.json").display().to_string();
    let (good, _, err) = run
        .weft(&["history", "export", "-w", "acct-replay", "-f", &file])
        .await;
    assert!(good, "{err}");
    let text = std::fs::read_to_string(&file).unwrap();
    // The stock binary checks, and says it did not replay.
    let checked = ok(&["history", "replay", "-f", &file]);
    assert!(checked.contains("weft-history version 1"), "{checked}");
    assert!(checked.contains("not replayed"), "{checked}");
    assert!(checked.contains("WorkflowExecutionCompleted"), "{checked}");
    let json: Value =
        serde_json::from_str(&ok(&["history", "replay", "-f", &file, "-o", "json"])).unwrap();
    assert_eq!(json["events"], run.handle.history().await.unwrap().len());
    assert_eq!(json["workflow_type"], "Account");
    assert_eq!(json["replayed"], false);
    let (good, from_server, err) = run.weft(&["history", "replay", "-w", "acct-replay"]).await;
    assert!(good, "{err}");
    assert!(from_server.contains("read from the store"), "{from_server}");

    // With the workflow code: replayed; a changed history is caught.
    assert_eq!(
        with_code(&["history", "replay", "-f", &file]).await,
        ExitCode::SUCCESS
    );
    let tampered = dir.path().join("tampered.json").display().to_string();
    std::fs::write(&tampered, text.replace("\"greet\"", "\"farewell\"")).unwrap();
    assert_ne!(text, std::fs::read_to_string(&tampered).unwrap());
    assert_eq!(
        with_code(&["history", "replay", "-f", &tampered]).await,
        ExitCode::FAILURE
    );
    // ... which the stock binary cannot know: the file is well formed.
    ok(&["history", "replay", "-f", &tampered]);
    // The bare array of WorkflowHandle::history_json is read too.
    let bare = dir.path().join("bare.json").display().to_string();
    std::fs::write(&bare, run.handle.history_json().await.unwrap()).unwrap();
    let checked = ok(&["history", "replay", "-f", &bare]);
    assert!(checked.contains("event array"), "{checked}");
    assert_eq!(
        with_code(&["history", "replay", "-f", &bare]).await,
        ExitCode::SUCCESS
    );
    run.stop().await;
}

/// A valid export of three events, with `edit` applied to its JSON.
fn export_with(dir: &std::path::Path, name: &str, edit: impl FnOnce(&mut Value)) -> String {
    let mut value = serde_json::json!({
        "format": "weft-history",
        "version": 1,
        "namespace": "default",
        "workflow_id": "w",
        "run_id": "r",
        "events": [],
    });
    edit(&mut value);
    let path = dir.join(name).display().to_string();
    std::fs::write(&path, value.to_string()).unwrap();
    path
}

#[test]
fn replay_refuses_files_that_are_not_histories_weft_reads() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    let not_json = dir.join("not.json").display().to_string();
    std::fs::write(&not_json, "{ events: oops").unwrap();
    assert!(fails(&["history", "replay", "-f", &not_json]).contains("it is not JSON"));

    let newer = export_with(dir, "newer.json", |v| v["version"] = 2.into());
    let err = fails(&["history", "replay", "-f", &newer]);
    assert!(
        err.contains("version 2, newer than this weft reads"),
        "{err}"
    );
    let other = export_with(dir, "other.json", |v| v["format"] = "temporal".into());
    let err = fails(&["history", "replay", "-f", &other]);
    assert!(err.contains("its format is \"temporal\""), "{err}");
    let empty = export_with(dir, "empty.json", |_| {});
    assert!(fails(&["history", "replay", "-f", &empty]).contains("it has no events"));
    let unknown = export_with(dir, "unknown.json", |v| {
        v["events"] = serde_json::json!([{"event_id": 1, "event_time": 0, "event_type": "NoSuchEvent", "attributes": {}}]);
    });
    let err = fails(&["history", "replay", "-f", &unknown]);
    assert!(
        err.contains("at events[0]") && err.contains("NoSuchEvent"),
        "{err}"
    );
    let missing = fails(&["history", "replay", "-f", "/no/such/history.json"]);
    assert!(
        missing.contains("cannot read the history file"),
        "{missing}"
    );
    let usage = weft(&["history", "replay"]);
    assert!(!usage.0 && usage.2.contains("--file"), "{}", usage.2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replay_refuses_a_history_with_an_event_missing_or_a_wrong_first_event() {
    let served = serve(ServerConfig::default()).await;
    let client = Client::connect(&served.address(), ConnectOptions::new())
        .await
        .unwrap();
    let worker = worker(&client).start().unwrap();
    let handle = client
        .start_workflow(
            Account::run,
            "Gap".into(),
            WorkflowOptions::new("acct-gap", QUEUE),
        )
        .await
        .unwrap();
    assert_eq!(handle.balance().await.unwrap(), 0);
    let events: Vec<Value> = serde_json::from_str(&handle.history_json().await.unwrap()).unwrap();
    assert!(events.len() >= 4, "{events:?}");
    let dir = tempfile::tempdir().unwrap();
    let mut gap = events.clone();
    gap.remove(2);
    let gap_file = dir.path().join("gap.json").display().to_string();
    std::fs::write(&gap_file, serde_json::to_string(&gap).unwrap()).unwrap();
    let headless = dir.path().join("headless.json").display().to_string();
    std::fs::write(&headless, serde_json::to_string(&events[1..]).unwrap()).unwrap();
    let (gap_err, headless_err) = tokio::task::spawn_blocking(move || {
        (
            fails(&["history", "replay", "-f", &gap_file]),
            fails(&["history", "replay", "-f", &headless]),
        )
    })
    .await
    .unwrap();
    assert!(
        gap_err.contains("event 4 comes where event 3 should"),
        "{gap_err}"
    );
    assert!(
        headless_err.contains("not WorkflowExecutionStarted"),
        "{headless_err}"
    );
    handle.close().await.unwrap();
    worker.shutdown().await;
    served.stop().await;
}
