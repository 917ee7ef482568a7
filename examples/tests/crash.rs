//! Crash tests: a worker process is SIGKILLed at several points and run
//! again on the same SQLite file. Every workflow must finish with the right
//! result, no activity whose completion was committed before the kill may
//! run again, and histories must stay well formed.

use std::collections::{HashMap, HashSet};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use weft::engine::SqliteStore;
use weft::history::{Event, EventAttributes};
use weft_examples::crash::{GENERATION_ENV, SIDE_FILE_ENV, expected};

#[cfg(feature = "temporal")]
#[path = "../../runtime/tests/temporal_support/mod.rs"]
mod temporal_support;

const BIN: &str = env!("CARGO_BIN_EXE_crash_worker");
const WORKFLOWS: u32 = 4;
const STEPS: u32 = 6;

/// Where the crash worker keeps its runs: a SQLite file, or (built with
/// the feature `temporal`) a Temporal frontend.
enum Target {
    Db(PathBuf),
    #[cfg(feature = "temporal")]
    Temporal(String),
}

impl Target {
    /// `crash_worker <mode>` on this target.
    fn command(&self, mode: &str) -> Command {
        let mut cmd = Command::new(BIN);
        cmd.arg(mode);
        match self {
            Target::Db(db) => cmd.arg("--db").arg(db),
            #[cfg(feature = "temporal")]
            Target::Temporal(address) => cmd.args(["--temporal", address]),
        };
        cmd
    }
}

fn counted(target: &Target, side: &Path, generation: u32) -> Command {
    let mut cmd = target.command("counted");
    cmd.args([
        "--workflows",
        &WORKFLOWS.to_string(),
        "--steps",
        &STEPS.to_string(),
    ])
    .env(SIDE_FILE_ENV, side)
    .env(GENERATION_ENV, generation.to_string())
    .stdout(Stdio::piped())
    .stderr(Stdio::inherit());
    cmd
}

/// Runs the workload until `kill_after` activities have run, then SIGKILLs it.
/// Returns false if the workload finished first.
fn run_and_kill(target: &Target, side: &Path, kill_after: usize) -> bool {
    let mut child = counted(target, side, 1).spawn().unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut ran = 0;
    let mut killed = false;
    for line in BufReader::new(stdout).lines() {
        let line = line.unwrap();
        if line.starts_with("ran ") {
            ran += 1;
            if ran == kill_after {
                child.kill().unwrap();
                killed = true;
                break;
            }
        }
    }
    child.wait().unwrap();
    killed
}

/// Histories of the workload's runs, read without an engine.
fn histories(db: &Path) -> HashMap<String, Vec<Event>> {
    let store = SqliteStore::open_read_only(db).unwrap();
    store
        .list_executions()
        .unwrap()
        .into_iter()
        .map(|e| {
            let events = store.history(&e.namespace, &e.run_id).unwrap();
            (e.workflow_id, events)
        })
        .collect()
}

/// (workflow id, activity id) of every activity whose completion is in history.
fn completed_activities(histories: &HashMap<String, Vec<Event>>) -> HashSet<(String, String)> {
    let mut done = HashSet::new();
    for (wf, events) in histories {
        let scheduled: HashMap<i64, String> = events
            .iter()
            .filter_map(|e| match &e.attributes {
                EventAttributes::ActivityTaskScheduled { activity_id, .. } => {
                    Some((e.event_id, activity_id.clone()))
                }
                _ => None,
            })
            .collect();
        for e in events {
            if let EventAttributes::ActivityTaskCompleted {
                scheduled_event_id, ..
            } = &e.attributes
            {
                done.insert((wf.clone(), scheduled[scheduled_event_id].clone()));
            }
        }
    }
    done
}

/// Event ids run 1..=n, and no command key appears twice.
fn assert_well_formed(wf: &str, events: &[Event]) {
    for (i, e) in events.iter().enumerate() {
        assert_eq!(e.event_id, i as i64 + 1, "{wf}: event ids are contiguous");
    }
    let mut keys = HashSet::new();
    for e in events {
        let key = match &e.attributes {
            EventAttributes::ActivityTaskScheduled { activity_id, .. } => {
                Some(format!("activity {activity_id}"))
            }
            EventAttributes::TimerStarted { timer_id, .. } => Some(format!("timer {timer_id}")),
            EventAttributes::MarkerRecorded { details, .. } => {
                Some(format!("marker {:?}", details.get("seq")))
            }
            EventAttributes::ActivityTaskCompleted {
                scheduled_event_id, ..
            } => Some(format!("completed {scheduled_event_id}")),
            EventAttributes::WorkflowExecutionCompleted { .. } => Some("closed".to_string()),
            _ => None,
        };
        if let Some(key) = key {
            assert!(keys.insert(key.clone()), "{wf}: duplicate {key}");
        }
    }
}

#[test]
fn killed_workers_resume_and_never_rerun_committed_activities() {
    let per_run = (WORKFLOWS * STEPS) as usize;
    for kill_after in [1, 3, 7, 12, 18, per_run - 1] {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("crash.db");
        kill_and_resume(&Target::Db(db.clone()), dir.path(), kill_after, || {
            histories(&db)
        });
    }
}

/// Kills the counted workload after `kill_after` activities, runs it
/// again, and checks every result, that no activity whose completion was
/// in history (`read`) at the kill ran again, and the final histories.
fn kill_and_resume(
    target: &Target,
    dir: &Path,
    kill_after: usize,
    read: impl Fn() -> HashMap<String, Vec<Event>>,
) {
    let per_run = (WORKFLOWS * STEPS) as usize;
    let side = dir.join("executions.log");
    let killed = run_and_kill(target, &side, kill_after);
    assert!(
        killed,
        "the workload finished before {kill_after} activities"
    );
    let committed = completed_activities(&read());

    let out = counted(target, &side, 2).output().unwrap();
    assert!(
        out.status.success(),
        "rerun failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    for n in 0..WORKFLOWS {
        let line = format!("result crash-{n} {}", expected(STEPS));
        assert!(
            stdout.contains(&line),
            "kill after {kill_after}: missing {line:?} in\n{stdout}"
        );
    }

    let log = std::fs::read_to_string(&side).unwrap();
    let mut runs: HashMap<(String, String), Vec<String>> = HashMap::new();
    for line in log.lines() {
        let parts: Vec<&str> = line.split(' ').collect();
        runs.entry((parts[0].to_string(), parts[1].to_string()))
            .or_default()
            .push(parts[3].to_string());
    }
    for key in &committed {
        let generations = &runs[key];
        assert!(
            !generations.iter().any(|g| g == "2"),
            "kill after {kill_after}: {key:?} completed before the kill and ran again"
        );
    }
    let final_histories = read();
    assert_eq!(final_histories.len(), WORKFLOWS as usize);
    for (wf, events) in &final_histories {
        assert_well_formed(wf, events);
    }
    // Every activity ran at least once, and all of them completed.
    assert_eq!(completed_activities(&final_histories).len(), per_run);
}

fn tour_rows(output: &str) -> Vec<(String, String)> {
    output
        .lines()
        .skip_while(|l| !l.starts_with("pattern"))
        .skip(2)
        .map(|l| {
            // Drop the wall-time column, which differs between runs.
            let cut = l.trim_end().rsplit_once(' ').map_or(l, |(rest, _)| rest);
            (
                cut[..20.min(cut.len())].trim().to_string(),
                cut.get(20..).unwrap_or("").trim().to_string(),
            )
        })
        .collect()
}

fn tour(db: &Path) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.args(["tour", "--db"]).arg(db).stdout(Stdio::piped());
    cmd
}

#[test]
fn tour_killed_at_several_points_prints_the_same_table_when_rerun() {
    let clean_dir = tempfile::tempdir().unwrap();
    let clean = tour(&clean_dir.path().join("clean.db")).output().unwrap();
    assert!(clean.status.success());
    let clean = tour_rows(&String::from_utf8(clean.stdout).unwrap());
    assert_eq!(clean.len(), weft_examples::patterns().len(), "{clean:?}");

    // Kill points are moments in the run: the crash schedule, not a wait for
    // something to happen.
    for delay_ms in [20, 80, 200, 400, 700, 1500, 2300] {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("tour.db");
        let mut child = tour(&db).stdout(Stdio::null()).spawn().unwrap();
        std::thread::sleep(Duration::from_millis(delay_ms));
        let _ = child.kill();
        child.wait().unwrap();
        let rerun = tour(&db).output().unwrap();
        assert!(
            rerun.status.success(),
            "rerun after a kill at {delay_ms} ms failed"
        );
        let rows = tour_rows(&String::from_utf8(rerun.stdout).unwrap());
        assert_eq!(rows.len(), clean.len(), "kill at {delay_ms} ms");
        for (row, clean_row) in rows.iter().zip(&clean) {
            if row.0.starts_with("Polling") {
                // The stand-in service keeps its count of calls in memory:
                // a killed process's new one is ready five calls later, and
                // the polls made before the kill count too.
                assert_eq!(row.0, clean_row.0);
                let polls = |r: &str| -> u32 {
                    r.split(" | ")
                        .find_map(|cell| cell.strip_prefix("polls: "))
                        .and_then(|n| n.trim().parse().ok())
                        .unwrap_or(0)
                };
                // Everything but the poll count is the same.
                let others = |r: &str| -> Vec<String> {
                    let cells = r.split(" | ").filter(|c| !c.starts_with("polls: "));
                    cells.map(String::from).collect()
                };
                assert_eq!(
                    others(&row.1),
                    others(&clean_row.1),
                    "kill at {delay_ms} ms"
                );
                assert!(
                    row.1.starts_with("result: ready"),
                    "kill at {delay_ms} ms: {row:?}"
                );
                assert!(
                    polls(&row.1) >= polls(&clean_row.1),
                    "kill at {delay_ms} ms: {row:?}"
                );
            } else {
                assert_eq!(row, clean_row, "kill at {delay_ms} ms");
            }
        }
    }
}

/// Update events of the crash account, by type.
fn update_events(db: &Path) -> (usize, usize) {
    let histories = histories(db);
    let mut accepted = 0;
    let mut completed = 0;
    for (wf, events) in &histories {
        if wf != "crash-account" {
            continue;
        }
        for e in events {
            match e.attributes.name() {
                "WorkflowExecutionUpdateAccepted" => accepted += 1,
                "WorkflowExecutionUpdateCompleted" => completed += 1,
                _ => {}
            }
        }
    }
    (accepted, completed)
}

#[test]
fn updates_killed_midstream_and_retried_with_their_ids_apply_once() {
    const UPDATES: usize = 12;
    for kill_after in [1, 4, 9] {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("entity.db");
        let entity = |db: &Path| {
            let mut cmd = Command::new(BIN);
            cmd.args(["entity", "--db"])
                .arg(db)
                .args(["--steps", &UPDATES.to_string()])
                .stdout(Stdio::piped());
            cmd
        };
        let mut child = entity(&db).spawn().unwrap();
        let stdout = child.stdout.take().unwrap();
        let mut seen = 0;
        for line in BufReader::new(stdout).lines() {
            if line.unwrap().starts_with("update ") {
                seen += 1;
                if seen == kill_after {
                    child.kill().unwrap();
                    break;
                }
            }
        }
        child.wait().unwrap();
        assert_eq!(
            seen, kill_after,
            "the run ended before {kill_after} updates"
        );

        // The rerun sends every update again, with the same ids.
        let out = entity(&db).output().unwrap();
        assert!(
            out.status.success(),
            "rerun failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let stdout = String::from_utf8(out.stdout).unwrap();
        for i in 1..=UPDATES {
            // Each update returns the total after it, the first time and when
            // retried: applied exactly once, in order.
            assert!(
                stdout.contains(&format!("update {i} {i}\n")),
                "kill after {kill_after}: update {i} in\n{stdout}"
            );
        }
        assert!(stdout.contains(&format!("points {UPDATES}\n")), "{stdout}");
        assert_eq!(
            update_events(&db),
            (UPDATES, UPDATES),
            "kill after {kill_after}"
        );
    }
}

#[test]
fn a_stream_of_updates_and_signals_killed_and_retried_applies_each_once() {
    for kill_after in [1, 5, 9] {
        let dir = tempfile::tempdir().unwrap();
        stream_killed_and_retried(&Target::Db(dir.path().join("stream.db")), kill_after);
    }
}

/// Kills the stream of updates and signals after `kill_after` pairs, runs
/// it again with the same ids, and checks each counted once.
fn stream_killed_and_retried(target: &Target, kill_after: usize) {
    const PAIRS: usize = 10;
    let stream = || {
        let mut cmd = target.command("stream");
        cmd.args(["--steps", &PAIRS.to_string()])
            .stdout(Stdio::piped());
        cmd
    };
    let mut child = stream().spawn().unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut seen = 0;
    for line in BufReader::new(stdout).lines() {
        if line.unwrap().starts_with("pair ") {
            seen += 1;
            if seen == kill_after {
                child.kill().unwrap();
                break;
            }
        }
    }
    child.wait().unwrap();
    assert_eq!(seen, kill_after);
    let out = stream().output().unwrap();
    assert!(
        out.status.success(),
        "rerun failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    // Every update (+1) and every signal (+100) counted once.
    let expected = PAIRS * 101;
    assert!(
        stdout.contains(&format!("total {expected}\n")),
        "kill after {kill_after}:\n{stdout}"
    );
}

/// Spawns `crash_worker <mode> --db <db> --steps <steps>` and SIGKILLs it
/// once it has printed `lines` lines starting with `prefix`.
fn kill_after_lines(
    mode: &str,
    target: &Target,
    side: &Path,
    steps: u32,
    prefix: &str,
    lines: usize,
) {
    let mut child = target
        .command(mode)
        .args(["--steps", &steps.to_string()])
        .env(SIDE_FILE_ENV, side)
        .env(GENERATION_ENV, "1")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut seen = 0;
    for line in BufReader::new(stdout).lines() {
        if line.unwrap().starts_with(prefix) {
            seen += 1;
            if seen == lines {
                child.kill().unwrap();
                break;
            }
        }
    }
    child.wait().unwrap();
    assert_eq!(seen, lines, "{mode} ended before {lines} {prefix:?} lines");
}

fn rerun(mode: &str, target: &Target, side: &Path, steps: u32) -> String {
    let out = target
        .command(mode)
        .args(["--steps", &steps.to_string()])
        .env(SIDE_FILE_ENV, side)
        .env(GENERATION_ENV, "2")
        .output()
        .unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(out.status.success(), "{mode} rerun failed:\n{stdout}");
    stdout
}

#[test]
fn a_timer_pending_at_the_kill_fires_once_at_its_time() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("nap.db");
    timer_pending_at_the_kill(&Target::Db(db.clone()), dir.path(), || histories(&db));
}

/// Kills the nap once its timer is in history; run again, the timer fires
/// once, at its time.
fn timer_pending_at_the_kill(
    target: &Target,
    dir: &Path,
    read: impl Fn() -> HashMap<String, Vec<Event>>,
) {
    const MILLIS: u32 = 1500;
    let side = dir.join("side.log");
    kill_after_lines("nap", target, &side, MILLIS, "armed", 1);
    let stdout = rerun("nap", target, &side, MILLIS);
    let slept: u64 = stdout
        .lines()
        .find_map(|l| l.strip_prefix("slept "))
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no result in\n{stdout}"));
    assert!(slept >= u64::from(MILLIS), "slept {slept} ms");
    let events = &read()["crash-nap"];
    assert_well_formed("crash-nap", events);
    let started: Vec<&Event> = events
        .iter()
        .filter(|e| matches!(e.attributes, EventAttributes::TimerStarted { .. }))
        .collect();
    let fired: Vec<&Event> = events
        .iter()
        .filter(|e| matches!(e.attributes, EventAttributes::TimerFired { .. }))
        .collect();
    assert_eq!(
        (started.len(), fired.len()),
        (1, 1),
        "one timer, fired once"
    );
    let waited = fired[0]
        .event_time
        .duration_since(started[0].event_time)
        .unwrap();
    assert!(
        waited >= Duration::from_millis(u64::from(MILLIS)),
        "fired after {waited:?}"
    );
    assert!(matches!(
        events.last().map(|e| &e.attributes),
        Some(EventAttributes::WorkflowExecutionCompleted { .. })
    ));
}

#[test]
fn a_heartbeating_activity_killed_resumes_from_its_last_heartbeat() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("beats.db");
    heartbeating_activity_killed(&Target::Db(db.clone()), dir.path(), || histories(&db));
}

/// Kills the heartbeating activity after 12 beats; run again, its next
/// attempt goes on from a heartbeat that was durable.
fn heartbeating_activity_killed(
    target: &Target,
    dir: &Path,
    read: impl Fn() -> HashMap<String, Vec<Event>>,
) {
    const BEATS: u32 = 30;
    let side = dir.join("side.log");
    // 12 beats take about 600 ms: several throttled heartbeats are durable.
    kill_after_lines("beats", target, &side, BEATS, "beat ", 12);
    let stdout = rerun("beats", target, &side, BEATS);
    let resumed: u32 = stdout
        .lines()
        .find_map(|l| l.strip_prefix("resumed-from "))
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no result in\n{stdout}"));
    // The attempt after the kill started from a durable heartbeat, not from 0.
    assert!(resumed > 0 && resumed < 12, "resumed from {resumed}");
    let log = std::fs::read_to_string(&side).unwrap();
    let beats: Vec<(u32, u32)> = log
        .lines()
        .filter_map(|l| {
            let mut parts = l.split_whitespace().skip(1);
            Some((parts.next()?.parse().ok()?, parts.next()?.parse().ok()?))
        })
        .collect();
    // Before the kill: 0.. in generation 1; after it: resumed.. in generation 2.
    let second: Vec<u32> = beats
        .iter()
        .filter(|(_, g)| *g == 2)
        .map(|(i, _)| *i)
        .collect();
    assert_eq!(second, (resumed..BEATS).collect::<Vec<_>>());
    for i in 0..BEATS {
        assert!(beats.iter().any(|(b, _)| *b == i), "beat {i} never ran");
    }
    let events = &read()["crash-beats"];
    assert_well_formed("crash-beats", events);
}

/// A schedule taking an action every second, its process SIGKILLed after
/// 1 and after 3 actions and run again on the same file: every second from
/// the first action on has exactly one workflow (none skipped: the outage
/// is within the catch-up window; none twice: a time and its workflow
/// commit together).
#[test]
fn a_schedule_killed_and_restarted_neither_skips_nor_repeats_an_action() {
    const ACTIONS: u32 = 7;
    for kill_after in [1, 3] {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("schedule.db");
        let side = dir.path().join("side.log");
        let target = Target::Db(db.clone());
        kill_after_lines("schedule", &target, &side, ACTIONS, "action ", kill_after);
        let stdout = rerun("schedule", &target, &side, ACTIONS);
        let mut nominal: Vec<(u64, String)> = stdout
            .lines()
            .filter_map(|l| l.strip_prefix("nominal "))
            .map(|l| {
                let (secs, id) = l.split_once(' ').unwrap();
                (secs.parse().unwrap(), id.to_string())
            })
            .collect();
        nominal.sort();
        assert!(
            nominal.len() >= ACTIONS as usize,
            "kill after {kill_after}:\n{stdout}"
        );
        for pair in nominal.windows(2) {
            assert_eq!(
                pair[1].0,
                pair[0].0 + 1,
                "kill after {kill_after}: a second without its action:\n{stdout}"
            );
        }
        let store = SqliteStore::open_read_only(&db).unwrap();
        let mut ids: Vec<String> = store
            .list_executions()
            .unwrap()
            .into_iter()
            .map(|e| e.workflow_id)
            .collect();
        ids.sort();
        let recalled: Vec<String> = nominal.into_iter().map(|(_, id)| id).collect();
        assert_eq!(
            ids, recalled,
            "kill after {kill_after}: one workflow per action, once"
        );
    }
}

/// The getting-started chapter, as a user runs it: the program is killed
/// while its workflow waits, run again, and finishes without reserving
/// twice.
#[test]
fn getting_started_resumes_after_a_kill() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("orders.db");
    let start = || {
        Command::new(env!("CARGO_BIN_EXE_getting_started"))
            .arg(&db)
            .arg("2")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap()
    };
    let mut first = start();
    let mut lines = BufReader::new(first.stdout.take().unwrap()).lines();
    let reserved = lines.next().unwrap().unwrap();
    assert_eq!(reserved, "reserved 3 apples for order 1; shipping in 2 s");
    // Killed while its workflow waits for its timer: once the timer is in
    // history (read from the file; no call waits for that from outside).
    let waits = |events: &[Event]| {
        events
            .iter()
            .any(|e| matches!(e.attributes, EventAttributes::TimerStarted { .. }))
    };
    let timer_started = (0..1000).any(|_| {
        let started = histories(&db).get("order-1").is_some_and(|h| waits(h));
        if !started {
            std::thread::sleep(Duration::from_millis(10));
        }
        started
    });
    assert!(timer_started, "the workflow never started its timer");
    first.kill().unwrap();
    first.wait().unwrap();
    let second = start().wait_with_output().unwrap();
    assert!(second.status.success());
    let out = String::from_utf8(second.stdout).unwrap();
    // No new reservation: the run resumed at its timer.
    assert_eq!(
        out,
        "shipping 3 apples for order 1\nshipped 3 apples for order 1\n"
    );
}

/// The same kills with the worker on a Temporal dev server: the server
/// keeps the runs, the killed worker's tasks and activity attempts time out
/// there, and a new worker process finishes them.
#[cfg(feature = "temporal")]
mod temporal {
    use weft::Client;
    use weft::backend::BackendError;
    use weft_examples::crash::CrashFlow;

    use super::*;

    /// A dev server per kill point, so no run of one is seen by the next;
    /// `None` when the test is skipped (no `temporal` binary).
    fn server(rt: &tokio::runtime::Runtime) -> Option<(temporal_support::DevServer, Client)> {
        let server = rt.block_on(temporal_support::start(&[]))?;
        let client = rt.block_on(server.client());
        Some((server, client))
    }

    /// The histories of the runs of `ids` that have started.
    fn histories(
        rt: &tokio::runtime::Runtime,
        client: &Client,
        ids: &[String],
    ) -> HashMap<String, Vec<Event>> {
        rt.block_on(async {
            let mut all = HashMap::new();
            for id in ids {
                let id = id.clone();
                match client
                    .workflow_handle::<CrashFlow>(&id, None)
                    .history()
                    .await
                {
                    Ok(events) => {
                        all.insert(id, events);
                    }
                    Err(weft::ClientError::Backend(BackendError::NotFound { .. })) => {}
                    Err(e) => panic!("{id}: {e}"),
                }
            }
            all
        })
    }

    #[test]
    fn killed_workers_resume_and_never_rerun_committed_activities() {
        let rt = tokio::runtime::Runtime::new().unwrap();
        for kill_after in [3, 13] {
            let Some((server, client)) = server(&rt) else {
                return;
            };
            let dir = tempfile::tempdir().unwrap();
            let target = Target::Temporal(server.target.clone());
            let ids: Vec<String> = (0..WORKFLOWS).map(|n| format!("crash-{n}")).collect();
            kill_and_resume(&target, dir.path(), kill_after, || {
                histories(&rt, &client, &ids)
            });
        }
    }

    #[test]
    fn a_stream_of_updates_and_signals_killed_and_retried_applies_each_once() {
        let rt = tokio::runtime::Runtime::new().unwrap();
        for kill_after in [2, 7] {
            let Some((server, _client)) = server(&rt) else {
                return;
            };
            stream_killed_and_retried(&Target::Temporal(server.target.clone()), kill_after);
        }
    }

    #[test]
    fn a_timer_pending_at_the_kill_fires_once_at_its_time() {
        let rt = tokio::runtime::Runtime::new().unwrap();
        let Some((server, client)) = server(&rt) else {
            return;
        };
        let dir = tempfile::tempdir().unwrap();
        let target = Target::Temporal(server.target.clone());
        let ids = ["crash-nap".to_string()];
        timer_pending_at_the_kill(&target, dir.path(), || histories(&rt, &client, &ids));
    }

    #[test]
    fn a_heartbeating_activity_killed_resumes_from_its_last_heartbeat() {
        let rt = tokio::runtime::Runtime::new().unwrap();
        let Some((server, client)) = server(&rt) else {
            return;
        };
        let dir = tempfile::tempdir().unwrap();
        let target = Target::Temporal(server.target.clone());
        let ids = ["crash-beats".to_string()];
        heartbeating_activity_killed(&target, dir.path(), || histories(&rt, &client, &ids));
    }
}
