//! The `weft` command line against a server it started itself (`weft
//! server start --db FILE`, a real process), then read-only on the file
//! once that server is gone; and its errors for an unknown id, an
//! unreachable server and a missing file.

mod support;

use weft::remote::ConnectOptions;
use weft::{Client, WorkflowOptions};

use support::cli::{fails, ok, start_server, weft};
use support::{Account, QUEUE, worker};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_lists_inspects_and_drives_workflows_on_a_server_and_reads_its_file() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("weft.db").display().to_string();
    let (mut server, address) = {
        let db = db.clone();
        tokio::task::spawn_blocking(move || start_server(&["--db", &db]))
            .await
            .unwrap()
    };
    let client = Client::connect(&address, ConnectOptions::new())
        .await
        .unwrap();
    let worker = worker(&client).start().unwrap();
    for id in ["acct-cli", "acct-cancel", "acct-term"] {
        client
            .start_workflow(Account::run, "Cli".into(), WorkflowOptions::new(id, QUEUE))
            .await
            .unwrap();
    }
    let a = address.clone();
    let cli = move |args: &[&str]| {
        let mut full: Vec<&str> = args.to_vec();
        full.extend(["--address", &a]);
        full.iter().map(|s| s.to_string()).collect::<Vec<_>>()
    };
    let run = |args: Vec<String>| async move {
        tokio::task::spawn_blocking(move || {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            weft(&args)
        })
        .await
        .unwrap()
    };

    let (good, listed, err) = run(cli(&["workflow", "list"])).await;
    assert!(good, "{err}");
    assert!(listed.contains("WORKFLOW ID"), "{listed}");
    for id in ["acct-cli", "acct-cancel", "acct-term"] {
        assert!(listed.contains(id), "{listed}");
    }
    let (good, deposited, err) = run(cli(&[
        "workflow",
        "update",
        "-w",
        "acct-cli",
        "-n",
        "deposit",
        "-i",
        r#"{"amount": 4}"#,
    ]))
    .await;
    assert!(good, "{err}");
    assert_eq!(deposited.trim(), "4");
    let (good, refused, err) = run(cli(&[
        "workflow",
        "update",
        "-w",
        "acct-cli",
        "-n",
        "deposit",
        "-i",
        r#"{"amount": -4}"#,
    ]))
    .await;
    assert!(!good, "{refused}");
    assert!(err.contains("must be positive"), "{err}");
    let (good, balance, err) = run(cli(&[
        "workflow", "query", "-w", "acct-cli", "-n", "balance",
    ]))
    .await;
    assert!(good, "{err}");
    assert_eq!(balance.trim(), "4");
    let (good, sent, err) = run(cli(&[
        "workflow", "signal", "-w", "acct-cli", "-n", "close",
    ]))
    .await;
    assert!(good, "{err}");
    assert_eq!(sent.trim(), "signal sent");
    let (good, result, err) =
        run(cli(&["workflow", "result", "-w", "acct-cli", "-o", "json"])).await;
    assert!(good, "{err}");
    let result: serde_json::Value = serde_json::from_str(&result).unwrap();
    assert_eq!(result["status"], "Completed");
    assert_eq!(result["result"], "Hello, Cli! balance 4");

    let (good, _, err) = run(cli(&["workflow", "cancel", "-w", "acct-cancel"])).await;
    assert!(good, "{err}");
    let (good, _, err) = run(cli(&[
        "workflow",
        "terminate",
        "-w",
        "acct-term",
        "--reason",
        "test",
    ]))
    .await;
    assert!(good, "{err}");
    client
        .workflow_handle::<Account>("acct-cancel", None)
        .result()
        .await
        .unwrap_err();

    let (good, described, err) = run(cli(&["workflow", "describe", "-w", "acct-term"])).await;
    assert!(good, "{err}");
    assert!(described.contains("Terminated"), "{described}");
    let (good, history, err) = run(cli(&["workflow", "show", "-w", "acct-cli"])).await;
    assert!(good, "{err}");
    assert!(history.contains("WorkflowExecutionCompleted"), "{history}");
    let (good, json, err) = run(cli(&[
        "workflow", "list", "--status", "canceled", "--output", "json",
    ]))
    .await;
    assert!(good, "{err}");
    let json: serde_json::Value = serde_json::from_str(&json).unwrap();
    let ids: Vec<&str> = json
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["workflow_id"].as_str())
        .collect();
    assert_eq!(ids, ["acct-cancel"]);
    let (good, _, err) = run(cli(&["schedule", "list"])).await;
    assert!(good, "{err}");
    let (good, _, err) = run(cli(&["workflow", "describe", "-w", "no-such-id"])).await;
    assert!(!good);
    assert!(err.contains("not found"), "{err}");

    worker.shutdown().await;
    drop(client);
    // The server dies without a word; its file stays readable.
    server.kill().unwrap();
    server.wait().unwrap();
    tokio::task::spawn_blocking(move || {
        let listed = ok(&["workflow", "list", "--db", &db]);
        assert!(
            listed.contains("acct-cli") && listed.contains("Completed"),
            "{listed}"
        );
        let shown = ok(&["workflow", "show", "-w", "acct-cli", "--db", &db]);
        assert!(shown.contains("WorkflowExecutionCompleted"), "{shown}");
        let exported = ok(&["history", "export", "-w", "acct-cli", "--db", &db]);
        let events: serde_json::Value = serde_json::from_str(&exported).unwrap();
        assert!(events.to_string().contains("WorkflowExecutionCompleted"));
        let needs_server = fails(&["workflow", "cancel", "-w", "acct-cli", "--db", &db]);
        assert!(needs_server.contains("needs a server"), "{needs_server}");
    })
    .await
    .unwrap();
}

#[test]
fn the_cli_explains_an_unreachable_server_and_a_missing_file() {
    let unreachable = fails(&["workflow", "list", "--address", "127.0.0.1:1"]);
    assert!(
        unreachable.contains("cannot connect to 127.0.0.1:1")
            && unreachable.contains("is a server running there?"),
        "{unreachable}"
    );
    let missing = fails(&["workflow", "list", "--db", "/no/such/weft.db"]);
    assert!(missing.contains("does not exist"), "{missing}");
    let usage = fails(&["workflow", "frobnicate"]);
    assert!(usage.contains("frobnicate"), "{usage}");
    let no_db = fails(&["server", "start"]);
    assert!(no_db.contains("needs --db FILE"), "{no_db}");
}
