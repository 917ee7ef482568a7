//! `weft schedule list` and `describe` read-only on a SQLite file (`--db`):
//! on a file a running server holds, the same tables and JSON as the
//! server's, next times included; on the file once the server is gone, the
//! same again, with the file unchanged byte for byte; an input the
//! workers encrypted, decoded with their key as the server path decodes
//! it; and clear errors for an unknown id, a file or a namespace without
//! schedules, a missing or corrupt file, and a command that would change a
//! schedule.
//!
//! The schedules run every hour, on whole hours, so their next times do
//! not depend on when they are read; the few comparisons that do (a
//! paused schedule lists its times from now) are taken again if an hour
//! turns between the answers compared.

mod support;

use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use weft::Client;
use weft::converter::DataConverter;
use weft::converter::encryption::EncryptionCodec;
use weft::remote::ConnectOptions;
use weft::schedule::{
    Schedule, ScheduleAction, ScheduleDescription, ScheduleListEntry, ScheduleSpec,
};
use weft_server::ServerConfig;

use support::cli::WEFT;
use support::{Account, QUEUE, Served, serve};

const HOUR: Duration = Duration::from_secs(3600);

/// `weft args…`: its exit code, standard output and standard error.
async fn weft(args: Vec<String>) -> (Option<i32>, String, String) {
    tokio::task::spawn_blocking(move || {
        let output = Command::new(WEFT).args(&args).output().unwrap();
        (
            output.status.code(),
            String::from_utf8_lossy(&output.stdout).into_owned(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    })
    .await
    .unwrap()
}

fn words(line: &str, flag: &str, target: &str) -> Vec<String> {
    let mut args: Vec<String> = line.split_whitespace().map(str::to_string).collect();
    args.extend([flag.to_string(), target.to_string()]);
    args
}

/// `weft <line> --db db`, which must succeed: its standard output.
async fn on_file(db: &str, line: &str) -> String {
    let (code, out, err) = weft(words(line, "--db", db)).await;
    assert_eq!(code, Some(0), "weft {line} --db failed: {err}");
    assert!(!err.contains("panicked"), "{err}");
    out
}

/// `weft <line> --db db`, which must fail with `code`: its standard error.
async fn fails_on_file(db: &str, line: &str, code: i32) -> String {
    let (got, out, err) = weft(words(line, "--db", db)).await;
    assert_eq!(got, Some(code), "weft {line} --db: {out}{err}");
    assert!(!err.contains("panicked"), "{err}");
    err
}

/// `weft <line> --address address`, which must succeed.
async fn on_server(address: &str, line: &str) -> String {
    let (code, out, err) = weft(words(line, "--address", address)).await;
    assert_eq!(code, Some(0), "weft {line} --address failed: {err}");
    out
}

/// Stops the server and its engine, keeping the directory of their file.
async fn stop(served: Served) -> tempfile::TempDir {
    let Served {
        engine,
        server,
        dir,
    } = served;
    server.shutdown().await;
    engine.shutdown().await;
    dir
}

/// The hour `t` falls in.
fn hour_of(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH).unwrap().as_secs() / 3600
}

/// `weft <line>` on the file, checked to print what the server prints: the
/// server is asked just before and just after, and when its two answers
/// differ (an hour turned, and the engine took its action) all three are
/// taken again.
async fn same_as_server(address: &str, db: &str, line: &str) -> String {
    for _ in 0..3 {
        let before = on_server(address, line).await;
        let file = on_file(db, line).await;
        let after = on_server(address, line).await;
        if before == after {
            assert_eq!(
                file, before,
                "weft {line}: the file's answer, then the server's"
            );
            return file;
        }
    }
    panic!("weft {line}: the server's answer kept changing");
}

fn on_whole_hours(times: &[SystemTime]) -> bool {
    times
        .iter()
        .all(|t| t.duration_since(UNIX_EPOCH).unwrap().as_secs() % 3600 == 0)
}

/// Two hourly schedules: `hourly`, which has started a workflow (no worker
/// runs it, so it is still running), and `paused-hourly`, paused with a
/// note.
async fn two_schedules(client: &Client) {
    let action = |id: &str| ScheduleAction::start_workflow(Account::run, "Sky".into(), id, QUEUE);
    let hourly = client
        .create_schedule(
            "hourly",
            Schedule::new(action("acct-hourly").unwrap(), ScheduleSpec::every(HOUR))
                .note("every hour"),
        )
        .await
        .unwrap();
    hourly.trigger().await.unwrap();
    let mut paused = Schedule::new(action("acct-paused").unwrap(), ScheduleSpec::every(HOUR))
        .note("held for the audit");
    paused.state.paused = true;
    client
        .create_schedule("paused-hourly", paused)
        .await
        .unwrap();
}

/// Each schedule's answers on the file, as JSON and tables, checked
/// against the server's; the JSON answers, to compare later.
async fn answers_match(address: &str, db: &str) -> Vec<String> {
    let mut answers = Vec::new();
    for line in [
        "schedule list -o json",
        "schedule describe -s hourly -o json",
        "schedule describe -s paused-hourly -o json",
    ] {
        answers.push(same_as_server(address, db, line).await);
    }
    let table = same_as_server(address, db, "schedule list").await;
    assert!(
        table.contains("SCHEDULE ID") && table.contains("paused-hourly"),
        "{table}"
    );
    let table = same_as_server(address, db, "schedule describe -s hourly").await;
    assert!(
        table.contains("every 1h") && table.contains("acct-hourly-<time>"),
        "{table}"
    );
    answers
}

/// What the answers say, checked against the client's view.
fn check_answers(answers: &[String], listed_by_client: &[ScheduleListEntry]) {
    let listed: Vec<ScheduleListEntry> = serde_json::from_str(&answers[0]).unwrap();
    let ids: Vec<&str> = listed.iter().map(|e| e.schedule_id.as_str()).collect();
    assert_eq!(ids, ["hourly", "paused-hourly"]);
    assert_eq!(listed[0].workflow_type, "Account");
    assert_eq!(listed[0].recent_actions.len(), 1);
    assert!(!listed[0].paused && listed[1].paused);
    for entry in &listed {
        assert_eq!(entry.next_action_times.len(), 5, "{entry:?}");
        assert!(on_whole_hours(&entry.next_action_times), "{entry:?}");
    }
    let hourly: ScheduleDescription = serde_json::from_str(&answers[1]).unwrap();
    assert_eq!(hourly.schedule.state.note, "every hour");
    assert_eq!(hourly.schedule.spec, ScheduleSpec::every(HOUR));
    assert_eq!(hourly.info.num_actions, 1);
    assert_eq!(hourly.info.running_actions.len(), 1);
    assert!(
        hourly.info.running_actions[0]
            .workflow_id
            .starts_with("acct-hourly-"),
        "{hourly:?}"
    );
    assert_eq!(hourly.info.next_action_times.len(), 10);
    assert!(on_whole_hours(&hourly.info.next_action_times));
    let paused: ScheduleDescription = serde_json::from_str(&answers[2]).unwrap();
    assert!(paused.schedule.state.paused);
    assert_eq!(paused.schedule.state.note, "held for the audit");
    // Listed by the client at about the same time (times equal unless an
    // hour turned in between).
    let strip = |entries: &[ScheduleListEntry]| {
        let mut entries = entries.to_vec();
        entries.iter_mut().for_each(|e| e.next_action_times.clear());
        entries
    };
    assert_eq!(strip(&listed), strip(listed_by_client));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schedules_read_from_a_file_match_the_server_held_or_stopped_and_leave_it_unchanged() {
    let served = serve(ServerConfig::default()).await;
    let address = served.address();
    let db = served.db().display().to_string();
    let client = Client::connect(&address, ConnectOptions::new())
        .await
        .unwrap();
    two_schedules(&client).await;

    // The server's engine holds the file; reading needs no lock.
    let held = answers_match(&address, &db).await;
    check_answers(&held, &client.list_schedules().await.unwrap());
    let held_at = SystemTime::now();

    // A command that changes a schedule needs the engine: refused, and
    // nothing changed.
    let err = fails_on_file(&db, "schedule pause -s hourly", 2).await;
    assert!(
        err.contains("--db opens it read-only") && err.contains("--address"),
        "{err}"
    );
    let hourly = client.schedule_handle("hourly").describe().await.unwrap();
    assert!(!hourly.schedule.state.paused);

    let dir = stop(served).await;
    let stopped_at = SystemTime::now();
    let before = snapshot(dir.path());
    let mut stopped = Vec::new();
    for line in [
        "schedule list -o json",
        "schedule describe -s hourly -o json",
        "schedule describe -s paused-hourly -o json",
    ] {
        stopped.push(on_file(&db, line).await);
    }
    on_file(&db, "schedule list").await;
    on_file(&db, "schedule describe -s paused-hourly").await;
    let err = fails_on_file(&db, "schedule describe -s no-such-schedule", 1).await;
    assert!(
        err.contains("schedule \"no-such-schedule\" not found")
            && err.contains("hourly, paused-hourly"),
        "{err}"
    );
    // The database is unchanged byte for byte. SQLite's read-only
    // connection to a file in WAL mode leaves an empty log and its
    // shared-memory index beside it (as `workflow list --db` does): no
    // page is written to either.
    let after = snapshot(dir.path());
    let file =
        |files: &[(String, usize, u64)], name: &str| files.iter().find(|f| f.0 == name).cloned();
    assert_eq!(file(&after, "weft.db"), file(&before, "weft.db"));
    assert!(file(&before, "weft.db").is_some());
    if let Some(log) = file(&after, "weft.db-wal") {
        assert_eq!(log.1, 0, "reading wrote to the log: {after:?}");
    }
    let names = |files: &[(String, usize, u64)]| {
        let mut names: Vec<String> = files.iter().map(|f| f.0.clone()).collect();
        names.retain(|n| !n.ends_with("-wal") && !n.ends_with("-shm"));
        names
    };
    assert_eq!(names(&after), names(&before), "{after:?}");
    // The stopped file answers as the held one did: the active schedule's
    // times run from its last processed time; the paused one's from now,
    // the same within the hour. (Had the hour turned before the server
    // stopped, the server would have taken the active schedule's action
    // at it, and its answer moved on.)
    if hour_of(held_at) == hour_of(stopped_at) {
        assert_eq!(stopped[1], held[1]);
    }
    if hour_of(held_at) == hour_of(SystemTime::now()) {
        assert_eq!(stopped, held);
    }
    check_answers(&stopped, &serde_json::from_str::<Vec<_>>(&held[0]).unwrap());
}

/// Every file of `dir`: its name, size and a hash of its bytes (the
/// database, and its log and shared-memory index if they are there).
fn snapshot(dir: &Path) -> Vec<(String, usize, u64)> {
    let mut files: Vec<(String, usize, u64)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let path = e.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            let bytes = std::fs::read(&path).unwrap();
            let mut hasher = DefaultHasher::new();
            bytes.hash(&mut hasher);
            (name, bytes.len(), hasher.finish())
        })
        .collect();
    files.sort();
    files
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schedule_reads_on_a_file_say_clearly_what_is_missing() {
    let served = serve(ServerConfig::default()).await;
    let db = served.db().display().to_string();
    let client = Client::connect(&served.address(), ConnectOptions::new())
        .await
        .unwrap();
    client
        .start_workflow(
            Account::run,
            "Sky".into(),
            weft::WorkflowOptions::new("acct-no-schedules", QUEUE),
        )
        .await
        .unwrap();
    let _dir = stop(served).await;

    // A file with workflows and no schedules: an empty list, said so on
    // standard error; an id is not found, and the file holds none.
    let (code, out, err) = weft(words("schedule list", "--db", &db)).await;
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(
        out.trim(),
        "SCHEDULE ID  WORKFLOW TYPE  STATE  RECENT  NEXT RUNS  NOTE"
    );
    assert!(
        err.contains("holds no schedules in namespace \"default\""),
        "{err}"
    );
    assert_eq!(on_file(&db, "schedule list -o json").await.trim(), "[]");
    let err = fails_on_file(&db, "schedule describe -s nightly", 1).await;
    assert!(
        err.contains("schedule \"nightly\" not found")
            && err.contains("holds no schedules in namespace \"default\""),
        "{err}"
    );

    // A missing file, and one that is not weft's.
    let err = fails_on_file("/no/such/weft.db", "schedule list", 1).await;
    assert!(err.contains("/no/such/weft.db does not exist"), "{err}");
    let dir = tempfile::tempdir().unwrap();
    let corrupt = dir.path().join("corrupt.db");
    std::fs::write(&corrupt, vec![0x5a_u8; 16_384]).unwrap();
    let corrupt = corrupt.display().to_string();
    let err = fails_on_file(&corrupt, "schedule describe -s nightly", 1).await;
    assert!(err.contains("corrupt.db is not a weft database"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_namespace_without_schedules_in_a_file_with_some_lists_none() {
    let served = serve(ServerConfig::default()).await;
    let address = served.address();
    let db = served.db().display().to_string();
    let client = Client::connect(&address, ConnectOptions::new())
        .await
        .unwrap();
    two_schedules(&client).await;
    let listed = same_as_server(&address, &db, "schedule list --namespace team-b -o json").await;
    assert_eq!(listed.trim(), "[]");
    let err = fails_on_file(&db, "schedule describe -s hourly --namespace team-b", 1).await;
    assert!(
        err.contains("holds no schedules in namespace \"team-b\""),
        "{err}"
    );
    served.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_schedules_encrypted_input_reads_decoded_from_a_file_with_the_workers_key() {
    const KEY: [u8; 32] = [7u8; 32];
    let served = serve(ServerConfig::default()).await;
    let address = served.address();
    let db = served.db().display().to_string();
    let key_file = served.dir.path().join("key");
    std::fs::write(&key_file, KEY).unwrap();
    let client = Client::connect(&address, ConnectOptions::new())
        .await
        .unwrap()
        .with_data_converter(
            DataConverter::new().with_codec(EncryptionCodec::new("k1", &KEY).unwrap()),
        );
    let action =
        ScheduleAction::start_workflow(Account::run, "Obsidian".into(), "acct-sealed", QUEUE);
    client
        .create_schedule(
            "sealed",
            Schedule::new(action.unwrap(), ScheduleSpec::every(HOUR)),
        )
        .await
        .unwrap();

    // Without the key, the input is as stored: encrypted.
    let sealed: ScheduleDescription = serde_json::from_str(
        &same_as_server(&address, &db, "schedule describe -s sealed -o json").await,
    )
    .unwrap();
    let ScheduleAction::StartWorkflow(action) = &sealed.schedule.action;
    assert!(weft::converter::decode::<String>(&action.input[0]).is_err());
    let line = format!(
        "schedule describe -s sealed -o json --encryption-key k1={}",
        key_file.display()
    );
    let opened: ScheduleDescription =
        serde_json::from_str(&same_as_server(&address, &db, &line).await).unwrap();
    let ScheduleAction::StartWorkflow(action) = &opened.schedule.action;
    assert_eq!(
        weft::converter::decode::<String>(&action.input[0]).unwrap(),
        "Obsidian"
    );
    served.stop().await;
}
