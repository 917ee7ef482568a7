//! The SQLite file across restarts: runs resume, one engine owns the file, a failed commit stops the engine, older formats are read.

use super::*;

#[tokio::test]
async fn restart_resumes_runs_activities_and_timers() {
    let h = Harness::new(true, EngineOptions::default());
    let e = &h.engine;
    start(e, "w").await;
    let t = poll_wft(e).await;
    complete(
        e,
        &t,
        vec![
            activity(1, quick_retries()),
            Command::StartTimer {
                seq: 1,
                duration: Duration::from_millis(300),
            },
        ],
    )
    .await
    .unwrap();
    let a = poll_act(e).await;
    e.complete_activity_task(
        a.token.clone(),
        ActivityTaskResult::Failed(app_failure("one")),
    )
    .await
    .unwrap();
    // A second run whose workflow task is in flight at the restart.
    let mut other = request("v", "rv");
    other.task_queue = "tq2".into();
    e.start_workflow(other).await.unwrap();
    let in_flight = poll_wft_on(e, "tq2").await;
    e.shutdown().await;

    let e = Engine::start(SqliteStore::open(h.db()).unwrap(), EngineOptions::default()).unwrap();
    let a2 = poll_act(&e).await;
    assert_eq!((a2.token.task_id, a2.attempt), (5, 2));
    // Tokens from before the restart are refused.
    assert!(matches!(
        e.complete_activity_task(a.token, ActivityTaskResult::Completed(Payload::default()))
            .await,
        Err(BackendError::TaskNotFound(_))
    ));
    assert!(matches!(
        complete(&e, &in_flight, vec![]).await,
        Err(BackendError::TaskNotFound(_))
    ));
    let again = poll_wft_on(&e, "tq2").await;
    assert_eq!(again.workflow_id, "v");
    assert_eq!(again.events.len(), 1);
    e.complete_activity_task(
        a2.token,
        ActivityTaskResult::Completed(encode(&"ok").unwrap()),
    )
    .await
    .unwrap();
    // Workflow tasks until both the activity result and the timer are in.
    let mut seen = Vec::new();
    while !(seen.contains(&"TimerFired") && seen.contains(&"ActivityTaskCompleted")) {
        let t = poll_wft(&e).await;
        seen.extend(names(&t.events));
        complete(&e, &t, vec![]).await.unwrap();
    }
    let hist = history(&e, "w").await;
    let started = hist
        .iter()
        .find_map(|ev| match &ev.attributes {
            EventAttributes::ActivityTaskStarted {
                attempt,
                last_failure,
                ..
            } => Some((*attempt, last_failure.clone())),
            _ => None,
        })
        .unwrap();
    assert_eq!(started, (2, Some(app_failure("one"))));
    e.shutdown().await;
}

#[tokio::test]
async fn sqlite_file_is_owned_and_versioned() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("weft.db");
    let e = Engine::sqlite(&path).await.unwrap();
    let err = SqliteStore::open(&path).unwrap_err();
    assert!(err.to_string().contains("already in use"), "{err}");
    assert!(Engine::sqlite(&path).await.is_err());
    start(&e, "w").await;
    let t = poll_wft(&e).await;
    complete(&e, &t, vec![done("ok")]).await.unwrap();
    // A read-only open works beside the owning engine, without the lock.
    let ro = SqliteStore::open_read_only(&path).unwrap();
    let runs = ro.list_executions().unwrap();
    assert_eq!(runs.len(), 1);
    assert_eq!(
        (runs[0].workflow_id.as_str(), runs[0].status),
        ("w", RunStatus::Completed)
    );
    let hist = ro.history(NS, &runs[0].run_id).unwrap();
    assert_eq!(hist, history(&e, "w").await);
    assert_eq!(hist.len(), 5);
    drop(ro);
    e.shutdown().await;
    // The lock is released on shutdown; read-only works on a closed file too.
    drop(SqliteStore::open(&path).unwrap());
    assert_eq!(
        SqliteStore::open_read_only(&path)
            .unwrap()
            .history(NS, &runs[0].run_id)
            .unwrap()
            .len(),
        5
    );
    // A file from a newer weft is refused.
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.pragma_update(None, "user_version", 99).unwrap();
    }
    let err = SqliteStore::open(&path).unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("has format version 99, newer than this weft supports"),
        "{text}"
    );
    assert!(SqliteStore::open_read_only(&path).is_err());
}

/// Commits go on while checkpoints copy the log back into the file (a
/// thread of their own does most of it): the log stays a fraction of what
/// was written through it, and a reopen finds every row.
#[test]
fn the_log_stays_bounded_while_commits_go_on() {
    use weft::engine::store::Store;

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("weft.db");
    let mut store = SqliteStore::open(&path).unwrap();
    let ns: Arc<str> = Arc::from(NS);
    // About six pages of log each: about 100 MB through the log in all,
    // where checkpoints keep it near 4,000 pages (16 MB).
    let commits = 4_000;
    let data = vec![7u8; 8_000];
    for n in 0..commits {
        let op = StoreOp::AppendEvents {
            namespace: ns.clone(),
            run_id: Arc::from(format!("run-{n}")),
            first_event_id: 1,
            last_event_id: 1,
            data: data.clone(),
        };
        store.commit(&[op]).unwrap();
        let log = std::fs::metadata(dir.path().join("weft.db-wal"))
            .unwrap()
            .len();
        assert!(
            log < 32_000_000,
            "the log grew to {log} bytes by commit {n}"
        );
    }
    drop(store);
    let mut store = SqliteStore::open(&path).unwrap();
    for n in [0, commits / 2, commits - 1] {
        let rows = store.events(NS, &format!("run-{n}"), 1).unwrap();
        assert_eq!(rows, vec![data.clone()], "run-{n}");
    }
}

#[tokio::test]
async fn failed_commit_stops_the_engine() {
    let fail = Arc::new(AtomicBool::new(false));
    let failing = fail.clone();
    let store = hooked(move |_| {
        if failing.load(Ordering::SeqCst) {
            return Err(BackendError::Store("disk full".into()));
        }
        Ok(())
    });
    let e = Engine::start(store, EngineOptions::default()).unwrap();
    start(&e, "w").await;
    let e2 = e.clone();
    let parked = tokio::spawn(async move { e2.poll_activity_task(NS, TQ).await });
    fail.store(true, Ordering::SeqCst);
    let err = e.start_workflow(request("v", "rv")).await.unwrap_err();
    match &err {
        BackendError::Stopped(reason) => assert!(reason.contains("disk full"), "{reason}"),
        other => panic!("expected Stopped, got {other:?}"),
    }
    // Everything after is refused, parked polls included.
    assert!(matches!(
        e.describe(NS, "w", None).await,
        Err(BackendError::Stopped(_))
    ));
    assert!(matches!(
        e.poll_workflow_task(NS, TQ).await,
        Err(BackendError::Stopped(_))
    ));
    assert!(matches!(
        parked.await.unwrap(),
        Err(BackendError::Stopped(_))
    ));
    e.shutdown().await;
}

/// The fixture: a file written by format version 2 (JSON rows), holding
/// run `done` (completed with "hello"), `waiting` (two activities
/// pending), `sleeping` (a one-hour timer) and `signaled` (started, then
/// signaled "poke" before its first task). Made with the version-2 code
/// through the `Backend` trait.
const FIXTURE_V2: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/format-v2.db");

/// The same runs, written by format version 3 (MessagePack rows, no
/// schedules table), through the `Backend` trait.
const FIXTURE_V3: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/format-v3.db");

/// Written by format version 4 (no visibility tables) through the
/// `Backend` trait: runs done (completed), waiting (two activities),
/// sleeping (a one-hour timer), broken (failed) and signaled, and a
/// schedule `hourly`.
const FIXTURE_V4: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/format-v4.db");

/// The version-4 fixture as format version 5 left it (opened by that
/// version, which added its visibility rows): a history event per row.
const FIXTURE_V5: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/format-v5.db");

/// The version-5 fixture as format version 6 left it (opened by that
/// version, which only set its version): a visibility row per run in a
/// table of its own, which version 7 moves into `executions`.
const FIXTURE_V6: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/format-v6.db");

/// A copy of the version-2 fixture in a fresh directory.
fn fixture_copy() -> (tempfile::TempDir, std::path::PathBuf) {
    copy_of(FIXTURE_V2)
}

fn copy_of(fixture: &str) -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("weft.db");
    std::fs::copy(fixture, &path).unwrap();
    (dir, path)
}

/// Whether a run's stored state holds its activities itself.
fn state_holds_activities(state: &[u8]) -> bool {
    #[derive(serde::Deserialize)]
    struct Probe {
        activities: Option<serde::de::IgnoredAny>,
    }
    let state = weft::engine::store::spelled_out(state).unwrap();
    let probe: Probe = rmp_serde::from_slice(&state).unwrap();
    probe.activities.is_some()
}

fn user_version(path: &std::path::Path) -> u32 {
    let conn = rusqlite::Connection::open(path).unwrap();
    conn.query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap()
}

/// A version-2 file opens with its runs where they stood: a completed
/// run's result, pending activities, a buffered signal and a timer all
/// carry on; later steps are written in the current encoding, and a file
/// holding rows of both reads back whole.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_version_2_file_opens_and_its_runs_resume() {
    older_file_opens_and_its_runs_resume(FIXTURE_V2).await;
}

/// The same for a version-5 file: its rows of one event each and the
/// rows of several events this version writes read back as one history.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_version_5_file_opens_and_its_runs_resume() {
    older_file_opens_and_its_runs_resume(FIXTURE_V5).await;
}

/// The same for a version-6 file, whose visibility rows move into the
/// runs' rows: the runs resume, and their rows keep their status.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_version_6_file_opens_and_its_runs_resume() {
    older_file_opens_and_its_runs_resume(FIXTURE_V6).await;
}

async fn older_file_opens_and_its_runs_resume(fixture: &str) {
    let (_dir, path) = copy_of(fixture);
    let options = || EngineOptions {
        clock: std::sync::Arc::new(weft::engine::VirtualClock::new()),
        ..EngineOptions::default()
    };
    let e = Engine::start(SqliteStore::open(&path).unwrap(), options()).unwrap();
    match e.wait_result(NS, "done", None).await.unwrap() {
        RunOutcome::Completed(p) => {
            assert_eq!(weft::converter::decode::<String>(&p).unwrap(), "hello")
        }
        other => panic!("done: {other:?}"),
    }
    for _ in 0..2 {
        let a = poll_act(&e).await;
        assert_eq!(a.workflow_id, "waiting");
        e.complete_activity_task(
            a.token,
            ActivityTaskResult::Completed(encode(&"ok").unwrap()),
        )
        .await
        .unwrap();
    }
    // Three workflow tasks, in whatever order they become ready; the
    // timer fires when the virtual clock skips to it.
    let mut seen = Vec::new();
    while seen.len() < 3 {
        let t = poll_wft(&e).await;
        complete(&e, &t, vec![done(&t.workflow_id)]).await.unwrap();
        // The version-5 fixture's hourly schedule starts runs of its own.
        if t.workflow_id.starts_with("later-") {
            continue;
        }
        let names: Vec<&str> = names(&t.events);
        seen.push((
            t.workflow_id.clone(),
            names.iter().map(|n| n.to_string()).collect::<Vec<_>>(),
        ));
    }
    seen.sort();
    let ids: Vec<&str> = seen.iter().map(|(id, _)| id.as_str()).collect();
    assert_eq!(ids, ["signaled", "sleeping", "waiting"]);
    assert!(
        seen[0].1.contains(&"WorkflowExecutionSignaled".to_string()),
        "{seen:?}"
    );
    assert!(seen[1].1.contains(&"TimerFired".to_string()), "{seen:?}");
    let completed = seen[2]
        .1
        .iter()
        .filter(|n| *n == "ActivityTaskCompleted")
        .count();
    assert_eq!(completed, 2, "{seen:?}");
    let before: Vec<Vec<Event>> = {
        let mut all = Vec::new();
        for id in ["done", "waiting", "sleeping", "signaled"] {
            all.push(e.history(NS, id, None).await.unwrap());
        }
        all
    };
    e.shutdown().await;
    assert_eq!(user_version(&path), weft::engine::FORMAT_VERSION);
    // The steps since wrote a row per step: fewer rows than events.
    let waiting_rows: usize = rusqlite::Connection::open(&path)
        .unwrap()
        .query_row(
            "SELECT count(*) FROM events JOIN executions USING (namespace, run_id)
             WHERE workflow_id = 'waiting'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!(waiting_rows < before[1].len(), "{waiting_rows} rows");
    // Reopened: the fixture's rows (JSON, or MessagePack of one event) and
    // this version's rows of several events read back as the same histories.
    let e = Engine::start(SqliteStore::open(&path).unwrap(), options()).unwrap();
    for (id, events) in ["done", "waiting", "sleeping", "signaled"]
        .iter()
        .zip(&before)
    {
        assert_eq!(&e.history(NS, id, None).await.unwrap(), events, "{id}");
        assert!(matches!(
            e.wait_result(NS, id, None).await.unwrap(),
            RunOutcome::Completed(_)
        ));
    }
    e.shutdown().await;
}

/// A file written by format version 1 kept a run's pending activities in
/// its state; opened by this version, the activity resumes, and the next
/// write moves it to a row of its own.
#[tokio::test]
async fn version_1_state_with_activities_is_read_and_moved() {
    let (_dir, path) = fixture_copy();
    // Turn the version-2 fixture into what version 1 wrote: one run, the
    // activities inside its state, no activities table.
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute_batch(
            "DELETE FROM events WHERE run_id NOT IN
               (SELECT run_id FROM executions WHERE workflow_id = 'waiting');
             DELETE FROM executions WHERE workflow_id != 'waiting';",
        )
        .unwrap();
        let (run_id, state): (String, Vec<u8>) = conn
            .query_row("SELECT run_id, state FROM executions", [], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .unwrap();
        let mut state: serde_json::Value = serde_json::from_slice(&state).unwrap();
        assert!(state.get("activities").is_none(), "{state}");
        let mut activities = serde_json::Map::new();
        let mut stmt = conn
            .prepare("SELECT id, data FROM activities WHERE run_id = ?1")
            .unwrap();
        let rows = stmt
            .query_map([&run_id], |r| {
                Ok((r.get::<_, i64>(0)?, r.get::<_, Vec<u8>>(1)?))
            })
            .unwrap();
        for row in rows {
            let (id, data) = row.unwrap();
            activities.insert(id.to_string(), serde_json::from_slice(&data).unwrap());
        }
        assert_eq!(activities.len(), 2);
        state["activities"] = serde_json::Value::Object(activities);
        drop(stmt);
        conn.execute(
            "UPDATE executions SET state = ?1",
            [serde_json::to_vec(&state).unwrap()],
        )
        .unwrap();
        conn.execute_batch("DROP TABLE activities; DROP TABLE updates; PRAGMA user_version = 1;")
            .unwrap();
    }

    let e = Engine::start(SqliteStore::open(&path).unwrap(), EngineOptions::default()).unwrap();
    let a = poll_act(&e).await;
    assert_eq!(a.activity_type, "Charge");
    // A failed attempt rewrites the run: both activities move to their
    // rows, the one the step did not touch included.
    e.complete_activity_task(
        a.token.clone(),
        ActivityTaskResult::Failed(app_failure("once")),
    )
    .await
    .unwrap();
    // The other activity, and the failed one's second attempt.
    let mut tasks = [poll_act(&e).await, poll_act(&e).await];
    tasks.sort_by_key(|t| t.attempt);
    let attempts = tasks
        .each_ref()
        .map(|t| (t.token.task_id == a.token.task_id, t.attempt));
    assert_eq!(attempts, [(false, 1), (true, 2)]);
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        let state: Vec<u8> = conn
            .query_row("SELECT state FROM executions", [], |r| r.get(0))
            .unwrap();
        assert!(!state_holds_activities(&state));
        let rows: i64 = conn
            .query_row("SELECT count(*) FROM activities", [], |r| r.get(0))
            .unwrap();
        assert_eq!(rows, 2);
    }
    assert_eq!(user_version(&path), weft::engine::FORMAT_VERSION);
    for task in tasks {
        e.complete_activity_task(
            task.token,
            ActivityTaskResult::Completed(encode(&"ok").unwrap()),
        )
        .await
        .unwrap();
    }
    let t = poll_wft(&e).await;
    complete(&e, &t, vec![done("fine")]).await.unwrap();
    assert!(matches!(
        e.wait_result(NS, "waiting", None).await.unwrap(),
        RunOutcome::Completed(_)
    ));
    e.shutdown().await;
    // Closed activities leave no rows.
    let conn = rusqlite::Connection::open(&path).unwrap();
    let rows: i64 = conn
        .query_row("SELECT count(*) FROM activities", [], |r| r.get(0))
        .unwrap();
    assert_eq!(rows, 0);
}

/// A version-3 file opens: it is migrated to the current version (the
/// schedules table), its runs carry on where they stood, and a schedule
/// created in it is there, with its actions, after a restart.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_version_3_file_migrates_and_keeps_its_runs_and_new_schedules() {
    use weft::schedule::{Schedule, ScheduleAction, ScheduleSpec, StartWorkflowAction};
    let (_dir, path) = copy_of(FIXTURE_V3);
    assert_eq!(user_version(&path), 3);
    let e = Engine::start(SqliteStore::open(&path).unwrap(), EngineOptions::default()).unwrap();
    assert_eq!(user_version(&path), weft::engine::FORMAT_VERSION);
    match e.wait_result(NS, "done", None).await.unwrap() {
        RunOutcome::Completed(p) => {
            assert_eq!(weft::converter::decode::<String>(&p).unwrap(), "hello")
        }
        other => panic!("done: {other:?}"),
    }
    let a = poll_act(&e).await;
    assert_eq!(a.workflow_id, "waiting");
    let action = ScheduleAction::StartWorkflow(StartWorkflowAction {
        workflow_type: "Later".into(),
        workflow_id: "later".into(),
        task_queue: TQ.into(),
        input: Vec::new(),
        options: Default::default(),
    });
    let hourly = Schedule::new(action, ScheduleSpec::every(Duration::from_secs(3600)));
    e.create_schedule(NS.into(), "kept".into(), hourly.clone())
        .await
        .unwrap();
    e.trigger_schedule(NS.into(), "kept".into(), None)
        .await
        .unwrap();
    e.shutdown().await;

    let e = Engine::start(SqliteStore::open(&path).unwrap(), EngineOptions::default()).unwrap();
    let d = e.describe_schedule(NS.into(), "kept".into()).await.unwrap();
    assert_eq!(d.schedule, hourly);
    assert_eq!(d.info.num_actions, 1);
    assert_eq!(d.info.running_actions.len(), 1);
    let started = &d.info.running_actions[0].workflow_id;
    assert!(started.starts_with("later-"), "{started}");
    // The runs of the fixture are still there, the scheduled one beside them.
    for id in ["waiting", "sleeping", "signaled", started.as_str()] {
        let status = e.describe(NS, id, None).await.unwrap().status;
        assert_eq!(status, RunStatus::Running, "{id}");
    }
    e.shutdown().await;
}

/// Files of versions 2 to 6 open as the current version: every run they
/// hold has a visibility record (versions before 5 get it from the run's
/// stored state, version 7 moves it into the run's row), so list filters
/// find them (by type, status and times), and runs started since are
/// listed beside them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn older_files_migrate_to_visibility_and_list_their_runs() {
    for (fixture, version, ids) in [
        (
            FIXTURE_V2,
            2,
            &["done", "signaled", "sleeping", "waiting"][..],
        ),
        (
            FIXTURE_V3,
            3,
            &["done", "signaled", "sleeping", "waiting"][..],
        ),
        (
            FIXTURE_V4,
            4,
            &["broken", "done", "signaled", "sleeping", "waiting"][..],
        ),
        (
            FIXTURE_V5,
            5,
            &["broken", "done", "signaled", "sleeping", "waiting"][..],
        ),
        (
            FIXTURE_V6,
            6,
            &["broken", "done", "signaled", "sleeping", "waiting"][..],
        ),
    ] {
        let (_dir, path) = copy_of(fixture);
        assert_eq!(user_version(&path), version);
        let e = Engine::start(SqliteStore::open(&path).unwrap(), EngineOptions::default()).unwrap();
        assert_eq!(user_version(&path), weft::engine::FORMAT_VERSION);
        let listed = e
            .list_workflows(
                NS.into(),
                "WorkflowType = 'Greet' ORDER BY WorkflowId".into(),
            )
            .await
            .unwrap();
        let listed: Vec<&str> = listed.iter().map(|r| r.workflow_id.as_str()).collect();
        assert_eq!(listed, ids, "version {version}");
        let count = e
            // The fixture's schedule may start runs of its own (type Later).
            .count_workflows(
                NS.into(),
                "WorkflowType = 'Greet' GROUP BY ExecutionStatus".into(),
            )
            .await
            .unwrap();
        assert_eq!(count.count, ids.len() as u64, "version {version}");
        let closed = e
            .list_workflows(
                NS.into(),
                "CloseTime IS NOT NULL ORDER BY WorkflowId".into(),
            )
            .await
            .unwrap();
        let closed: Vec<(&str, RunStatus)> = closed
            .iter()
            .map(|r| (r.workflow_id.as_str(), r.status))
            .collect();
        let mut expected = vec![("done", RunStatus::Completed)];
        if version >= 4 {
            expected.insert(0, ("broken", RunStatus::Failed));
        }
        assert_eq!(closed, expected, "version {version}");
        start(&e, "fresh").await;
        let running = e
            .count_workflows(
                NS.into(),
                "ExecutionStatus = 'Running' AND WorkflowId = 'fresh'".into(),
            )
            .await
            .unwrap();
        assert_eq!(running.count, 1);
        e.shutdown().await;
    }
}

/// A file of an older version read without upgrading it (a read-only
/// store, as `weft` the CLI opens a file with `--db`) and one upgraded
/// list and describe their runs alike: the older one's runs take their
/// type, status and times from their stored states, the newer one's from
/// their rows.
#[test]
fn an_older_file_read_without_upgrading_lists_and_describes_its_runs() {
    let summaries = |store: &SqliteStore| {
        let filter = weft::backend::ListFilter {
            namespace: NS.into(),
            ..Default::default()
        };
        let mut runs: Vec<(String, String, String, RunStatus, bool)> = store
            .list_runs(&filter)
            .unwrap()
            .into_iter()
            .map(|r| {
                let closed = r.close_time.is_some();
                (
                    r.workflow_id,
                    r.workflow_type,
                    r.task_queue,
                    r.status,
                    closed,
                )
            })
            .collect();
        runs.sort_by(|a, b| a.0.cmp(&b.0));
        let done = store.describe_run(NS, "done", None).unwrap();
        (runs, done.status, done.workflow_type)
    };
    let (_dir, path) = copy_of(FIXTURE_V6);
    let old = summaries(&SqliteStore::open_read_only(&path).unwrap());
    assert_eq!(user_version(&path), 6, "a read-only store upgrades nothing");
    let ids: Vec<&str> = old.0.iter().map(|r| r.0.as_str()).collect();
    assert_eq!(ids, ["broken", "done", "signaled", "sleeping", "waiting"]);
    assert!(
        old.0.iter().all(|r| r.1 == "Greet" && !r.2.is_empty()),
        "{old:?}"
    );
    assert_eq!((old.1, old.2.as_str()), (RunStatus::Completed, "Greet"));
    drop(SqliteStore::open(&path).unwrap());
    assert_eq!(user_version(&path), weft::engine::FORMAT_VERSION);
    let upgraded = summaries(&SqliteStore::open_read_only(&path).unwrap());
    assert_eq!(upgraded, old);
}

/// A version-6 file whose run lost its visibility row (none should) is
/// upgraded with the run listed all the same: its columns come from its
/// stored state.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_without_a_visibility_row_is_listed_after_the_upgrade() {
    let (_dir, path) = copy_of(FIXTURE_V6);
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        let gone = conn
            .execute("DELETE FROM visibility WHERE workflow_id = 'waiting'", [])
            .unwrap();
        assert_eq!(gone, 1);
    }
    let e = Engine::start(SqliteStore::open(&path).unwrap(), EngineOptions::default()).unwrap();
    let listed = e
        .list_workflows(
            NS.into(),
            "WorkflowType = 'Greet' AND ExecutionStatus = 'Running' ORDER BY WorkflowId".into(),
        )
        .await
        .unwrap();
    let ids: Vec<&str> = listed.iter().map(|r| r.workflow_id.as_str()).collect();
    assert_eq!(ids, ["signaled", "sleeping", "waiting"]);
    e.shutdown().await;
}
