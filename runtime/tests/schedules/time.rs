//! Time: schedules in a named time zone across a DST change (as Temporal
//! documents: literal matching of the clock), and a restart after an
//! outage, within and past the catch-up window.

use super::*;

fn utc(text: &str) -> SystemTime {
    SystemTime::from(chrono::DateTime::parse_from_rfc3339(text).unwrap())
}

/// An engine whose virtual clock stands at `at`.
async fn skipping_at(sqlite: bool, at: &str) -> Skipping {
    let clock = VirtualClock::new();
    assert!(clock.skip_to(utc(at)), "the clock is past {at}");
    Skipping::at(sqlite, clock).await
}

/// Runs a daily New York schedule at `clock` (`minute hour`) from `from`
/// to `to`, expecting `n` actions, and returns their nominal times in UTC.
async fn daily_in_new_york(sqlite: bool, clock: &str, from: &str, to: &str, n: u64) -> Vec<String> {
    let s = skipping_at(sqlite, from).await;
    let spec = ScheduleSpec {
        end_at: Some(utc(to)),
        ..ScheduleSpec::cron(format!("{clock} * * *")).in_time_zone("America/New_York")
    };
    let h = s
        .client
        .create_schedule("ny", nap("ny", 0, spec))
        .await
        .unwrap();
    let d = described(&h, |d| {
        d.info.num_actions == n
            && d.info.running_actions.is_empty()
            && d.info.next_action_times.is_empty()
    })
    .await;
    let mut times = Vec::new();
    for action in &d.info.recent_actions {
        assert_eq!(
            action.workflow.workflow_id,
            scheduled_id("ny", action.nominal_time)
        );
        assert_eq!(action.status, RunStatus::Completed);
        times.push(
            scheduled_id("", action.nominal_time)
                .trim_start_matches('-')
                .to_string(),
        );
    }
    s.shutdown().await;
    times
}

both_stores! {
    // 2027-03-14: New York springs from 02:00 EST to 03:00 EDT; a daily
    // 02:30 action does not run that day.
    a_daily_action_in_the_hour_a_spring_forward_skips_does_not_run(sqlite) {
        let times = daily_in_new_york(sqlite, "30 2", "2027-03-12T12:00:00Z", "2027-03-16T12:00:00Z", 3).await;
        assert_eq!(times, [
            "2027-03-13T07:30:00Z", // 02:30 EST
            "2027-03-15T06:30:00Z", // 02:30 EDT; none on the 14th
            "2027-03-16T06:30:00Z",
        ]);
    }

    // 2027-11-07: New York falls back from 02:00 EDT to 01:00 EST; a daily
    // 01:30 action runs twice that day, once at each 01:30.
    a_daily_action_in_the_hour_a_fall_back_repeats_runs_twice(sqlite) {
        let times = daily_in_new_york(sqlite, "30 1", "2027-11-06T12:00:00Z", "2027-11-08T12:00:00Z", 3).await;
        assert_eq!(times, [
            "2027-11-07T05:30:00Z", // 01:30 EDT
            "2027-11-07T06:30:00Z", // 01:30 EST, the repeated hour
            "2027-11-08T06:30:00Z",
        ]);
    }
}

/// Stopped for 5 minutes with a one-minute catch-up window, every 10 s:
/// after the restart the times of the last minute run, once each, in
/// order; the older ones are counted as missed; nothing runs twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_catches_up_within_the_window_and_counts_the_rest() {
    let every = Duration::from_secs(10);
    let window = Duration::from_secs(60);
    let s = Skipping::new(true).await;
    let mut schedule = nap("catch", 0, ScheduleSpec::every(every)).overlap(OverlapPolicy::AllowAll);
    schedule.policies.catchup_window = window;
    let h = s
        .client
        .create_schedule("catch-up", schedule)
        .await
        .unwrap();
    let first = h.describe().await.unwrap().info.next_action_times[0];
    started::<Nap>(&s.client, &scheduled_id("catch", first))
        .await
        .result()
        .await
        .unwrap();
    let dir = s.dir.as_ref().unwrap().path().to_path_buf();
    let clock = s.clock.clone();
    let Skipping {
        engine,
        worker: old,
        dir: keep,
        ..
    } = s;
    old.unwrap().shutdown().await;
    engine.shutdown().await;

    // Five minutes pass while nothing runs.
    let outage = Duration::from_secs(300);
    assert!(clock.skip_to(clock.now() + outage));
    let restarted_at = clock.now();
    let engine = Engine::start(
        SqliteStore::open(dir.join("weft.db")).unwrap(),
        options(&clock),
    )
    .unwrap();
    let client = Client::new(engine.clone());
    let worker = worker(&client);
    let h = client.schedule_handle("catch-up");
    let d = described(&h, |d| d.info.missed_catchup_window > 0).await;
    // Caught up: due while the engine was down, started after the restart
    // (time goes on skipping from there, so later actions follow).
    let caught_up: Vec<SystemTime> = d
        .info
        .recent_actions
        .iter()
        .filter(|a| a.started_at >= restarted_at && a.nominal_time < restarted_at)
        .map(|a| a.nominal_time)
        .collect();
    // The outage held about 30 times: about 6 within the window ran, the
    // others were counted.
    assert!((5..=7).contains(&caught_up.len()), "{caught_up:?}");
    assert!(d.info.missed_catchup_window >= 20, "{:?}", d.info);
    for t in &caught_up {
        assert!(
            *t + window + Duration::from_secs(1) >= restarted_at,
            "{t:?} is outside the window"
        );
    }
    for pair in caught_up.windows(2) {
        assert_eq!(
            pair[1].duration_since(pair[0]).unwrap(),
            every,
            "in order, none skipped"
        );
    }
    worker.shutdown().await;
    engine.shutdown().await;
    // Each workflow id ran once.
    let store = SqliteStore::open_read_only(dir.join("weft.db")).unwrap();
    let runs = store.list_executions().unwrap();
    let mut ids: Vec<&str> = runs.iter().map(|r| r.workflow_id.as_str()).collect();
    let all = ids.len();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), all, "a workflow id started twice");
    drop(keep);
}
