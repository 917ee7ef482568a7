//! `weft schedule …` against a server: create, list, describe, pause,
//! unpause, trigger, backfill and delete, as tables and as JSON, each
//! checked against the client's own view of the schedule.

mod support;

use serde_json::Value;
use weft::Client;
use weft::remote::ConnectOptions;
use weft_server::ServerConfig;

use support::cli::weft;
use support::{QUEUE, serve};

/// `weft args… --address address` off the async threads; must succeed.
async fn ok_at(address: &str, args: &[&str]) -> String {
    let (good, out, err) = at(address, args).await;
    assert!(good, "weft {args:?} failed: {err}");
    out
}

async fn at(address: &str, args: &[&str]) -> (bool, String, String) {
    let mut args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    args.extend(["--address".to_string(), address.to_string()]);
    tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        weft(&args)
    })
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_creates_inspects_drives_and_deletes_a_schedule() {
    let served = serve(ServerConfig::default()).await;
    let address = served.address();
    let client = Client::connect(&address, ConnectOptions::new())
        .await
        .unwrap();
    let handle = client.schedule_handle("cli-hourly");

    let created = ok_at(
        &address,
        &[
            "schedule",
            "create",
            "-s",
            "cli-hourly",
            "--type",
            "Account",
            "-t",
            QUEUE,
            "-w",
            "acct-sched",
            "--input",
            "\"Sky\"",
            "--interval",
            "1h",
            "--note",
            "from the CLI",
        ],
    )
    .await;
    assert!(
        created.contains("schedule cli-hourly created; next runs: 20"),
        "{created}"
    );
    let described = handle.describe().await.unwrap();
    assert_eq!(described.schedule.state.note, "from the CLI");
    assert_eq!(described.schedule.action.workflow_type(), "Account");

    let listed = ok_at(&address, &["schedule", "list"]).await;
    assert!(
        listed.contains("SCHEDULE ID") && listed.contains("cli-hourly"),
        "{listed}"
    );
    assert!(listed.contains("active"), "{listed}");
    let json: Value =
        serde_json::from_str(&ok_at(&address, &["schedule", "list", "-o", "json"]).await).unwrap();
    assert_eq!(json[0]["schedule_id"], "cli-hourly");
    let table = ok_at(&address, &["schedule", "describe", "-s", "cli-hourly"]).await;
    assert!(
        table.contains("every 1h") && table.contains("acct-sched-<time>"),
        "{table}"
    );

    ok_at(
        &address,
        &[
            "schedule",
            "pause",
            "-s",
            "cli-hourly",
            "--note",
            "maintenance",
        ],
    )
    .await;
    let paused = handle.describe().await.unwrap().schedule.state;
    assert!(paused.paused);
    assert_eq!(paused.note, "maintenance");
    assert!(
        ok_at(&address, &["schedule", "list"])
            .await
            .contains("paused")
    );
    ok_at(&address, &["schedule", "unpause", "-s", "cli-hourly"]).await;
    assert!(!handle.describe().await.unwrap().schedule.state.paused);

    // Started at once under allow-all, so the action is there when the
    // call is answered.
    ok_at(
        &address,
        &[
            "schedule",
            "trigger",
            "-s",
            "cli-hourly",
            "--overlap",
            "allow-all",
        ],
    )
    .await;
    assert_eq!(
        handle.describe().await.unwrap().info.recent_actions.len(),
        1
    );
    let backfilled = ok_at(
        &address,
        &[
            "schedule",
            "backfill",
            "-s",
            "cli-hourly",
            "--start",
            "3h",
            "--end",
            "1h",
            "--overlap",
            "allow-all",
        ],
    )
    .await;
    assert!(backfilled.contains("backfilled from"), "{backfilled}");
    // Hourly times in a two-hour range, both ends included: 2 or 3.
    let actions = handle.describe().await.unwrap().info.recent_actions.len();
    assert!((3..=4).contains(&actions), "{actions} actions");
    let json: Value = serde_json::from_str(
        &ok_at(
            &address,
            &["schedule", "describe", "-s", "cli-hourly", "-o", "json"],
        )
        .await,
    )
    .unwrap();
    assert_eq!(
        json["info"]["recent_actions"].as_array().unwrap().len(),
        actions
    );

    let (good, _, err) = at(
        &address,
        &[
            "schedule",
            "backfill",
            "-s",
            "cli-hourly",
            "--start",
            "1h",
            "--end",
            "3h",
        ],
    )
    .await;
    assert!(!good && err.contains("--end is before --start"), "{err}");
    let (good, _, err) = at(
        &address,
        &["schedule", "create", "-s", "x", "--type", "T", "-t", "q"],
    )
    .await;
    assert!(!good && err.contains("give --interval"), "{err}");

    ok_at(&address, &["schedule", "delete", "-s", "cli-hourly"]).await;
    assert!(client.list_schedules().await.unwrap().is_empty());
    let (good, _, err) = at(&address, &["schedule", "describe", "-s", "cli-hourly"]).await;
    assert!(!good && err.contains("cli-hourly"), "{err}");
    served.stop().await;
}
