//! Every overlap policy with a workflow that outlives its interval: every
//! 2 s, workflows that sleep 4.9 s, 7 times. As in the reference's
//! measurements on Temporal (5 s sleeps, which closed just before a later
//! nominal time there), bounded by `end_at` instead of a pause.

use super::*;

const EVERY: Duration = Duration::from_secs(2);
const TIMES: u32 = 7;

/// Creates the schedule under `policy` and returns it with the ids of the
/// workflows its 7 times would start.
async fn seven_naps(
    s: &Skipping,
    id: &str,
    policy: OverlapPolicy,
) -> (weft::ScheduleHandle, Vec<String>) {
    let first = boundary(&s.clock, Duration::from_secs(4), EVERY);
    let last = first + EVERY * (TIMES - 1);
    let spec = ScheduleSpec {
        start_at: Some(first),
        end_at: Some(last),
        ..ScheduleSpec::every(EVERY)
    };
    let handle = s
        .client
        .create_schedule(id, nap(id, 4_900, spec).overlap(policy))
        .await
        .unwrap();
    let ids = (0..TIMES)
        .map(|k| scheduled_id(id, first + EVERY * k))
        .collect();
    (handle, ids)
}

fn pick(ids: &[String], which: &[usize]) -> Vec<String> {
    which.iter().map(|&i| ids[i].clone()).collect()
}

/// Which of the 7 workflows exist once the schedule is done.
async fn existing(client: &Client, ids: &[String]) -> Vec<usize> {
    let mut out = Vec::new();
    for (i, id) in ids.iter().enumerate() {
        if client
            .workflow_handle::<Nap>(id, None)
            .describe()
            .await
            .is_ok()
        {
            out.push(i);
        }
    }
    out
}

both_stores! {
    skip_starts_only_when_nothing_runs(sqlite) {
        let s = Skipping::new(sqlite).await;
        let (h, ids) = seven_naps(&s, "ov-skip", OverlapPolicy::Skip).await;
        // :02 runs to :06.9, so :04 and :06 are skipped; :08 runs to
        // :12.9; :14.
        let ran = pick(&ids, &[0, 3, 6]);
        assert_eq!(statuses(&s.client, &ran).await, [RunStatus::Completed; 3]);
        let d = described(&h, |d| d.info.running_actions.is_empty()).await;
        assert_eq!((d.info.num_actions, d.info.overlap_skipped), (3, 4));
        assert_eq!(existing(&s.client, &ids).await, [0, 3, 6]);
        s.shutdown().await;
    }

    buffer_one_keeps_one_start_waiting(sqlite) {
        let s = Skipping::new(sqlite).await;
        let (h, ids) = seven_naps(&s, "ov-buffer-one", OverlapPolicy::BufferOne).await;
        // :04 waits for :02 (starts at :06.9), :06 is skipped, :08 waits
        // for :04 (starts at :11.8), :10 is skipped, :12 waits, :14 is
        // skipped: Temporal's table, and :12 runs once :08 closes.
        let ran = pick(&ids, &[0, 1, 3, 5]);
        assert_eq!(statuses(&s.client, &ran).await, [RunStatus::Completed; 4]);
        let started_at = |i: usize| {
            let id = ids[i].clone();
            let client = s.client.clone();
            async move {
                client.workflow_handle::<Nap>(&id, None).describe().await.unwrap().start_time
            }
        };
        // Each buffered start went when the one before closed.
        for (before, after) in [(0, 1), (1, 3), (3, 5)] {
            let gap = started_at(after).await.duration_since(started_at(before).await).unwrap();
            assert!(gap >= Duration::from_millis(4_900), "{before} -> {after}: {gap:?}");
        }
        let d = described(&h, |d| d.info.running_actions.is_empty()).await;
        assert_eq!((d.info.num_actions, d.info.overlap_skipped), (4, 3));
        assert_eq!(existing(&s.client, &ids).await, [0, 1, 3, 5]);
        s.shutdown().await;
    }

    buffer_all_runs_each_one_after_another(sqlite) {
        let s = Skipping::new(sqlite).await;
        let (h, ids) = seven_naps(&s, "ov-buffer-all", OverlapPolicy::BufferAll).await;
        assert_eq!(statuses(&s.client, &ids).await, [RunStatus::Completed; 7]);
        let mut previous_close = None;
        for id in &ids {
            let d = s.client.workflow_handle::<Nap>(id, None).describe().await.unwrap();
            if let Some(closed) = previous_close {
                assert!(d.start_time >= closed, "{id} started before the one before closed");
            }
            previous_close = d.close_time;
        }
        let d = described(&h, |d| d.info.running_actions.is_empty()).await;
        assert_eq!((d.info.num_actions, d.info.overlap_skipped), (7, 0));
        assert_eq!(d.info.buffer_size, 0);
        s.shutdown().await;
    }

    cancel_other_cancels_the_running_one_and_starts_each(sqlite) {
        let s = Skipping::new(sqlite).await;
        let (h, ids) = seven_naps(&s, "ov-cancel", OverlapPolicy::CancelOther).await;
        let mut expected = vec![RunStatus::Canceled; 6];
        expected.push(RunStatus::Completed);
        assert_eq!(statuses(&s.client, &ids).await, expected);
        let d = described(&h, |d| d.info.running_actions.is_empty()).await;
        assert_eq!((d.info.num_actions, d.info.overlap_skipped), (7, 0));
        let recent: Vec<RunStatus> = d.info.recent_actions.iter().map(|a| a.status).collect();
        assert_eq!(recent, expected);
        s.shutdown().await;
    }

    terminate_other_terminates_the_running_one_and_starts_each(sqlite) {
        let s = Skipping::new(sqlite).await;
        let (h, ids) = seven_naps(&s, "ov-terminate", OverlapPolicy::TerminateOther).await;
        let mut expected = vec![RunStatus::Terminated; 6];
        expected.push(RunStatus::Completed);
        assert_eq!(statuses(&s.client, &ids).await, expected);
        let d = described(&h, |d| d.info.running_actions.is_empty()).await;
        assert_eq!((d.info.num_actions, d.info.overlap_skipped), (7, 0));
        s.shutdown().await;
    }

    allow_all_starts_each_on_time_and_watches_none(sqlite) {
        let s = Skipping::new(sqlite).await;
        let (h, ids) = seven_naps(&s, "ov-allow-all", OverlapPolicy::AllowAll).await;
        let d = described(&h, |d| d.info.num_actions == 7).await;
        // Not watched: never listed as running, their actions stay Running.
        assert!(d.info.running_actions.is_empty());
        assert!(d.info.recent_actions.iter().all(|a| a.status == RunStatus::Running));
        assert_eq!(statuses(&s.client, &ids).await, [RunStatus::Completed; 7]);
        // Each started at its own time, overlapping the ones before.
        for pair in d.info.recent_actions.windows(2) {
            let gap = pair[1].started_at.duration_since(pair[0].started_at).unwrap();
            assert!(gap < Duration::from_secs(5), "{gap:?}");
        }
        s.shutdown().await;
    }
}
