//! A schedule's life: its actions' workflows and ids, describe, triggers,
//! backfills, errors shown, pause and unpause, update, limited actions,
//! pause on failure, list and delete.

use super::*;
use weft::protocol::RunOptions;
use weft::schedule::{Backfill, SchedulePolicies, ScheduleState};
use weft::{activity, workflow};

/// A workflow whose activity waits on a task queue no worker polls: while
/// it waits, the time-skipping clock does not skip, so a test can act
/// between two moments. Terminated to let time skip again.
#[activity]
async fn never_polled(_x: u32) -> Result<(), ApplicationError> {
    Ok(())
}

#[workflow]
#[derive(Default)]
pub struct Hold;

#[workflow]
impl Hold {
    #[run]
    pub async fn run(ctx: WorkflowContext<Self>, _input: ()) -> WorkflowResult<()> {
        ctx.activity(NEVER_POLLED, 0)
            .task_queue("nobody")
            .start_to_close_timeout(Duration::from_secs(3600))
            .await?;
        Ok(())
    }
}

/// Holds time still until the returned handle is terminated.
async fn hold_time(s: &Skipping) -> WorkflowHandle<Hold> {
    let w = Worker::new(&s.client, "hold").register_workflow::<Hold>();
    let w = w.start().unwrap();
    let h = s
        .client
        .start_workflow(Hold::run, (), WorkflowOptions::new("hold", "hold"))
        .await
        .unwrap();
    for _ in 0..6000 {
        if h.describe().await.unwrap().pending_activities == 1 {
            w.shutdown().await;
            return h;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    panic!("the hold's activity was never scheduled");
}

fn utc(text: &str) -> SystemTime {
    SystemTime::from(chrono::DateTime::parse_from_rfc3339(text).unwrap())
}

both_stores! {
    actions_start_workflows_named_by_their_time(sqlite) {
        let s = Skipping::new(sqlite).await;
        let hold = hold_time(&s).await;
        let hour = Duration::from_secs(3600);
        let h = s
            .client
            .create_schedule("hourly", nap("hourly-nap", 1_000, ScheduleSpec::every(hour)).note("Runs every hour"))
            .await
            .unwrap();
        let d = h.describe().await.unwrap();
        let first = boundary(&s.clock, Duration::ZERO, hour);
        assert_eq!(d.info.next_action_times.len(), 10);
        assert_eq!(d.info.next_action_times[0], first);
        for pair in d.info.next_action_times.windows(2) {
            assert_eq!(pair[1].duration_since(pair[0]).unwrap(), hour);
        }
        assert_eq!(d.schedule.state.note, "Runs every hour");
        assert!(d.info.created_at.is_some() && d.info.last_updated_at.is_none());
        assert_eq!(d.info.num_actions, 0);
        hold.terminate("released").await.unwrap();
        // The first action's workflow: `<action id>-<time>`, as on Temporal.
        let id = scheduled_id("hourly-nap", first);
        assert!(id.starts_with("hourly-nap-") && id.ends_with(":00:00Z"), "{id}");
        let run = started::<Nap>(&s.client, &id).await;
        assert_eq!(run.result().await.unwrap(), 1_000);
        // Time goes on skipping from action to action; the first is kept.
        let d = described(&h, |d| d.info.recent_actions[0].status == RunStatus::Completed).await;
        let action = &d.info.recent_actions[0];
        assert_eq!((action.nominal_time, action.scheduled_at), (first, first));
        assert!(action.started_at >= first);
        assert_eq!(action.workflow.workflow_id, id);
        assert!(d.info.num_actions >= 1);
        s.shutdown().await;
    }

    triggers_and_backfills_take_actions_now(sqlite) {
        let s = Skipping::new(sqlite).await;
        let hold = hold_time(&s).await;
        let paused = Schedule {
            state: ScheduleState { paused: true, ..ScheduleState::default() },
            policies: SchedulePolicies { overlap: OverlapPolicy::AllowAll, ..SchedulePolicies::default() },
            ..nap("bf", 0, ScheduleSpec::every(Duration::from_secs(600)))
        };
        let h = s.client.create_schedule("backfilled", paused).await.unwrap();
        // Both ends included, as measured on Temporal: 4 actions.
        h.backfill([Backfill {
            start_at: utc("2026-12-01T07:00:00Z"),
            end_at: utc("2026-12-01T07:30:00Z"),
            overlap: None,
        }])
        .await
        .unwrap();
        for time in ["07:00", "07:10", "07:20", "07:30"] {
            let id = format!("bf-2026-12-01T{time}:00Z");
            started::<Nap>(&s.client, &id).await;
        }
        let d = h.describe().await.unwrap();
        assert_eq!(d.info.num_actions, 4);
        // Two hours at 30 minutes: 5 actions.
        let half_hour = Schedule {
            policies: SchedulePolicies { overlap: OverlapPolicy::AllowAll, ..SchedulePolicies::default() },
            ..nap("half", 0, ScheduleSpec::every(Duration::from_secs(1800)))
        };
        let h2 = s.client.create_schedule("half-hourly", half_hour).await.unwrap();
        h2.backfill([Backfill {
            start_at: utc("2026-12-01T10:00:00Z"),
            end_at: utc("2026-12-01T12:00:00Z"),
            overlap: None,
        }])
        .await
        .unwrap();
        assert_eq!(h2.describe().await.unwrap().info.num_actions, 5);
        // A paused schedule is triggered too; under Skip, a trigger while
        // its workflow runs is skipped.
        let long = Schedule {
            state: ScheduleState { paused: true, ..ScheduleState::default() },
            ..nap("long", 3_600_000, ScheduleSpec::default())
        };
        let h3 = s.client.create_schedule("triggered", long).await.unwrap();
        h3.trigger().await.unwrap();
        let d = h3.describe().await.unwrap();
        assert_eq!((d.info.num_actions, d.info.running_actions.len()), (1, 1));
        h3.trigger().await.unwrap();
        let d = h3.describe().await.unwrap();
        assert_eq!((d.info.num_actions, d.info.overlap_skipped), (1, 1));
        hold.terminate("released").await.unwrap();
        s.shutdown().await;
    }

    a_start_that_fails_is_shown_in_describe(sqlite) {
        let s = Skipping::new(sqlite).await;
        // Held still: the clock would otherwise skip to the clashing run's
        // timer before the schedule exists.
        let hold = hold_time(&s).await;
        let hour = Duration::from_secs(3600);
        let first = boundary(&s.clock, Duration::from_secs(1), hour);
        // Someone else holds the id the first action would use.
        let taken = scheduled_id("clash", first);
        s.client
            .start_workflow(Nap::run, 7_200_000, WorkflowOptions::new(taken.clone(), QUEUE))
            .await
            .unwrap();
        let spec = ScheduleSpec { start_at: Some(first), end_at: Some(first), ..ScheduleSpec::every(hour) };
        let h = s.client.create_schedule("clashing", nap("clash", 0, spec)).await.unwrap();
        hold.terminate("released").await.unwrap();
        let d = described(&h, |d| !d.info.errors.is_empty()).await;
        let error = &d.info.errors[0];
        assert!(error.contains(&taken) && error.contains("already started"), "{error}");
        assert_eq!(d.info.num_actions, 0);
        s.shutdown().await;
    }

    pause_unpause_update_list_and_delete(sqlite) {
        let s = Skipping::new(sqlite).await;
        let hold = hold_time(&s).await;
        let hour = Duration::from_secs(3600);
        let h = s
            .client
            .create_schedule("managed", nap("managed", 0, ScheduleSpec::every(hour)).note("Runs every hour"))
            .await
            .unwrap();
        h.pause(Some("maintenance")).await.unwrap();
        let d = h.describe().await.unwrap();
        assert!(d.schedule.state.paused);
        assert_eq!(d.schedule.state.note, "maintenance");
        assert_eq!(d.info.next_action_times.len(), 10, "listed while paused too");
        h.unpause(None).await.unwrap();
        let d = h.describe().await.unwrap();
        assert!(!d.schedule.state.paused);
        assert_eq!(d.schedule.state.note, "Unpaused via weft");
        // An update that returns None changes nothing.
        let token = d.conflict_token;
        h.update(|_| None).await.unwrap();
        let d = h.describe().await.unwrap();
        assert_eq!((d.conflict_token, d.info.last_updated_at), (token, None));
        h.update(|current| {
            let mut schedule = current.schedule.clone();
            schedule.spec = ScheduleSpec::every(hour / 2);
            schedule.policies.overlap = OverlapPolicy::BufferOne;
            schedule.state.note = "Updated schedule".into();
            Some(schedule)
        })
        .await
        .unwrap();
        let d = h.describe().await.unwrap();
        assert_eq!(d.schedule.state.note, "Updated schedule");
        assert_eq!(d.schedule.policies.overlap, OverlapPolicy::BufferOne);
        assert!(d.info.last_updated_at.is_some());
        let times = &d.info.next_action_times;
        assert_eq!(times[1].duration_since(times[0]).unwrap(), hour / 2);
        // An update based on an old description is refused.
        let stale = s
            .engine
            .clone();
        let refused = weft::backend::Backend::update_schedule(
            &stale, "default".into(), "managed".into(), d.schedule.clone(), Some(token),
        )
        .await;
        assert!(matches!(refused, Err(BackendError::ScheduleConflict { .. })), "{refused:?}");
        let list = s.client.list_schedules().await.unwrap();
        assert_eq!(list.len(), 1);
        assert_eq!((list[0].schedule_id.as_str(), list[0].workflow_type.as_str()), ("managed", "Nap"));
        assert_eq!(list[0].next_action_times.len(), 5);
        let again = s.client.create_schedule("managed", nap("x", 0, ScheduleSpec::every(hour))).await;
        assert!(matches!(again, Err(ClientError::Backend(BackendError::ScheduleAlreadyExists { .. }))));
        h.delete().await.unwrap();
        let gone = h.describe().await.unwrap_err();
        assert!(gone.to_string().contains("schedule \"managed\" not found"), "{gone}");
        assert!(matches!(h.delete().await, Err(ClientError::Backend(BackendError::ScheduleNotFound { .. }))));
        assert!(s.client.list_schedules().await.unwrap().is_empty());
        hold.terminate("released").await.unwrap();
        s.shutdown().await;
    }

    a_schedule_that_cannot_work_is_refused_with_the_reason(sqlite) {
        let s = Skipping::new(sqlite).await;
        let bad = nap("bad", 0, ScheduleSpec::cron("0 9 * * MONDAY"));
        let e = s.client.create_schedule("bad", bad).await.unwrap_err().to_string();
        assert!(e.contains("schedule \"bad\": spec: cron expression \"0 9 * * MONDAY\""), "{e}");
        let zone = nap("tz", 0, ScheduleSpec::cron("0 9 * * *").in_time_zone("Europe/Atlantis"));
        let e = s.client.create_schedule("tz", zone).await.unwrap_err().to_string();
        assert!(e.contains("unknown time zone \"Europe/Atlantis\""), "{e}");
        let e = s.client.create_schedule("", nap("x", 0, ScheduleSpec::default())).await.unwrap_err();
        assert!(e.to_string().contains("schedule id must not be empty"), "{e}");
        assert!(s.client.list_schedules().await.unwrap().is_empty());
        s.shutdown().await;
    }

    limited_actions_stop_after_the_last(sqlite) {
        let s = Skipping::new(sqlite).await;
        let every = Duration::from_secs(2);
        let first = boundary(&s.clock, Duration::from_secs(4), every);
        let limited = Schedule {
            state: ScheduleState { remaining_actions: Some(2), ..ScheduleState::default() },
            ..nap("limited", 0, ScheduleSpec { start_at: Some(first), ..ScheduleSpec::every(every) })
        };
        let hold = hold_time(&s).await;
        let h = s.client.create_schedule("limited", limited).await.unwrap();
        assert_eq!(h.describe().await.unwrap().info.next_action_times.len(), 2);
        hold.terminate("released").await.unwrap();
        for k in 0..2 {
            started::<Nap>(&s.client, &scheduled_id("limited", first + every * k)).await;
        }
        let d = described(&h, |d| d.info.running_actions.is_empty() && d.info.num_actions == 2).await;
        assert_eq!(d.schedule.state.remaining_actions, Some(0));
        assert!(d.info.next_action_times.is_empty());
        assert!(!d.schedule.state.paused);
        s.shutdown().await;
    }

    a_failed_workflow_pauses_the_schedule_when_asked(sqlite) {
        let s = Skipping::new(sqlite).await;
        let action = ScheduleAction::start_workflow(Fails::run, (), "failing", QUEUE).unwrap();
        let mut schedule = Schedule::new(action, ScheduleSpec::every(Duration::from_secs(2)));
        schedule.policies.pause_on_failure = true;
        let h = s.client.create_schedule("fragile", schedule).await.unwrap();
        let d = described(&h, |d| d.schedule.state.paused).await;
        let failed = &d.info.recent_actions[0].workflow.workflow_id;
        let note = &d.schedule.state.note;
        assert!(note.starts_with(&format!("paused due to workflow failure: {failed}: ")), "{note}");
        assert!(note.contains("scheduled failure"), "{note}");
        assert_eq!(d.info.num_actions, 1);
        assert_eq!(d.info.recent_actions[0].status, RunStatus::Failed);
        assert!(d.info.running_actions.is_empty());
        s.shutdown().await;
    }

    a_timed_out_workflow_pauses_the_schedule_and_its_options_reach_it(sqlite) {
        let s = Skipping::new(sqlite).await;
        let options = RunOptions {
            run_timeout: Some(Duration::from_secs(1)),
            memo: [("owner".to_string(), weft::converter::encode(&"ops").unwrap())].into(),
            ..RunOptions::default()
        };
        let action = ScheduleAction::start_workflow(Nap::run, 5_000, "slow", QUEUE)
            .unwrap()
            .with_run_options(options);
        let mut schedule = Schedule::new(action, ScheduleSpec::every(Duration::from_secs(600)));
        schedule.policies.pause_on_failure = true;
        let h = s.client.create_schedule("slow", schedule).await.unwrap();
        let d = described(&h, |d| d.schedule.state.paused).await;
        let slow = &d.info.recent_actions[0].workflow.workflow_id;
        let note = &d.schedule.state.note;
        assert!(note.starts_with(&format!("paused due to workflow failure: {slow}: ")), "{note}");
        assert_eq!(d.info.recent_actions[0].status, RunStatus::TimedOut);
        let handle = s.client.workflow_handle::<Nap>(slow.clone(), None);
        let run = handle.describe().await.unwrap();
        assert_eq!(run.status, RunStatus::TimedOut);
        assert!(run.memo.contains_key("owner"), "{:?}", run.memo);
        s.shutdown().await;
    }

    pausing_drops_buffered_starts(sqlite) {
        let s = Skipping::new(sqlite).await;
        let hold = hold_time(&s).await;
        let schedule = nap("buffered", 5_000, ScheduleSpec::every(Duration::from_secs(600)))
            .overlap(OverlapPolicy::BufferAll);
        let h = s.client.create_schedule("buffered", schedule).await.unwrap();
        h.backfill([Backfill {
            start_at: utc("2026-12-01T07:00:00Z"),
            end_at: utc("2026-12-01T07:30:00Z"),
            overlap: None,
        }])
        .await
        .unwrap();
        let d = h.describe().await.unwrap();
        assert_eq!((d.info.num_actions, d.info.buffer_size), (1, 3));
        h.pause(None).await.unwrap();
        let d = h.describe().await.unwrap();
        assert_eq!((d.info.buffer_size, d.info.buffer_dropped), (0, 0));
        assert_eq!(d.schedule.state.note, "Paused via weft");
        hold.terminate("released").await.unwrap();
        let first = started::<Nap>(&s.client, "buffered-2026-12-01T07:00:00Z").await;
        first.result().await.unwrap();
        let d = described(&h, |d| d.info.running_actions.is_empty()).await;
        assert_eq!(d.info.num_actions, 1);
        s.shutdown().await;
    }
}
