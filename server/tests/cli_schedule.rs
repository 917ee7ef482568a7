//! `weft schedule …` against a server: create, list, describe, pause,
//! unpause, trigger, backfill and delete, as tables and as JSON, each
//! checked against the client's own view of the schedule.

mod support;

use std::time::Duration;

use serde_json::Value;
use weft::Client;
use weft::remote::ConnectOptions;
use weft::schedule::{Schedule, ScheduleAction, ScheduleSpec};
use weft_server::ServerConfig;

use support::cli::weft;
use support::{Account, QUEUE, serve};

/// `weft <words of line> extra… --address address`, off the async threads.
async fn at(address: &str, line: &str, extra: &[&str]) -> (bool, String, String) {
    let mut args: Vec<String> = line.split_whitespace().map(str::to_string).collect();
    args.extend(extra.iter().map(|s| s.to_string()));
    args.extend(["--address".to_string(), address.to_string()]);
    tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        weft(&args)
    })
    .await
    .unwrap()
}

/// The same, which must succeed; its standard output.
async fn ok_at(address: &str, line: &str, extra: &[&str]) -> String {
    let (good, out, err) = at(address, line, extra).await;
    assert!(good, "weft {line} {extra:?} failed: {err}");
    out
}

/// The same, which must fail; its standard error.
async fn fails_at(address: &str, line: &str) -> String {
    let (good, out, err) = at(address, line, &[]).await;
    assert!(!good, "weft {line} succeeded: {out}");
    err
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_creates_lists_and_describes_a_schedule() {
    let served = serve(ServerConfig::default()).await;
    let address = served.address();
    let client = Client::connect(&address, ConnectOptions::new())
        .await
        .unwrap();
    let create = format!("schedule create -s cli-hourly --type Account -t {QUEUE} -w acct-sched");
    let extra = [
        "--input",
        "\"Sky\"",
        "--interval",
        "1h",
        "--note",
        "from the CLI",
    ];
    let created = ok_at(&address, &create, &extra).await;
    assert!(
        created.contains("schedule cli-hourly created; next runs: 20"),
        "{created}"
    );
    let described = client
        .schedule_handle("cli-hourly")
        .describe()
        .await
        .unwrap();
    assert_eq!(described.schedule.state.note, "from the CLI");
    assert_eq!(described.schedule.action.workflow_type(), "Account");
    assert_eq!(described.info.next_action_times.len(), 10);

    let listed = ok_at(&address, "schedule list", &[]).await;
    assert!(
        listed.contains("SCHEDULE ID") && listed.contains("cli-hourly"),
        "{listed}"
    );
    assert!(listed.contains("active"), "{listed}");
    let json: Value =
        serde_json::from_str(&ok_at(&address, "schedule list -o json", &[]).await).unwrap();
    assert_eq!(json[0]["schedule_id"], "cli-hourly");
    assert_eq!(json[0]["next_action_times"].as_array().unwrap().len(), 5);
    let table = ok_at(&address, "schedule describe -s cli-hourly", &[]).await;
    assert!(
        table.contains("every 1h") && table.contains("acct-sched-<time>"),
        "{table}"
    );
    assert!(table.contains("from the CLI"), "{table}");

    let err = fails_at(&address, "schedule create -s x --type T -t q").await;
    assert!(err.contains("give --interval"), "{err}");
    let err = fails_at(&address, "schedule create -s x --type T -t q --interval 5").await;
    assert!(err.contains("--interval \"5\""), "{err}");
    let err = fails_at(&address, &format!("{create} --interval 2h")).await;
    assert!(
        err.contains("cli-hourly") && err.contains("exists"),
        "{err}"
    );
    served.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_pauses_triggers_backfills_and_deletes_a_schedule() {
    let served = serve(ServerConfig::default()).await;
    let address = served.address();
    let client = Client::connect(&address, ConnectOptions::new())
        .await
        .unwrap();
    let action =
        ScheduleAction::start_workflow(Account::run, "Sky".into(), "acct-sched", QUEUE).unwrap();
    let spec = ScheduleSpec::every(Duration::from_secs(3600));
    let handle = client
        .create_schedule("cli-hourly", Schedule::new(action, spec))
        .await
        .unwrap();

    ok_at(
        &address,
        "schedule pause -s cli-hourly",
        &["--note", "maintenance"],
    )
    .await;
    let paused = handle.describe().await.unwrap().schedule.state;
    assert!(paused.paused);
    assert_eq!(paused.note, "maintenance");
    assert!(
        ok_at(&address, "schedule list", &[])
            .await
            .contains("paused")
    );
    ok_at(&address, "schedule unpause -s cli-hourly", &[]).await;
    assert!(!handle.describe().await.unwrap().schedule.state.paused);

    // Started at once under allow-all, so the action is there when the
    // call is answered.
    ok_at(
        &address,
        "schedule trigger -s cli-hourly --overlap allow-all",
        &[],
    )
    .await;
    assert_eq!(
        handle.describe().await.unwrap().info.recent_actions.len(),
        1
    );
    let backfill = "schedule backfill -s cli-hourly --start 3h --end 1h --overlap allow-all";
    let backfilled = ok_at(&address, backfill, &[]).await;
    assert!(backfilled.contains("backfilled from"), "{backfilled}");
    // Hourly times in a two-hour range, both ends included: 2 or 3.
    let actions = handle.describe().await.unwrap().info.recent_actions.len();
    assert!((3..=4).contains(&actions), "{actions} actions");
    let json = ok_at(&address, "schedule describe -s cli-hourly -o json", &[]).await;
    let json: Value = serde_json::from_str(&json).unwrap();
    assert_eq!(
        json["info"]["recent_actions"].as_array().unwrap().len(),
        actions
    );
    let err = fails_at(
        &address,
        "schedule backfill -s cli-hourly --start 1h --end 3h",
    )
    .await;
    assert!(err.contains("--end is before --start"), "{err}");

    ok_at(&address, "schedule delete -s cli-hourly", &[]).await;
    assert!(client.list_schedules().await.unwrap().is_empty());
    let err = fails_at(&address, "schedule describe -s cli-hourly").await;
    assert!(err.contains("cli-hourly"), "{err}");
    let err = fails_at(&address, "schedule trigger -s cli-hourly").await;
    assert!(err.contains("cli-hourly"), "{err}");
    served.stop().await;
}
