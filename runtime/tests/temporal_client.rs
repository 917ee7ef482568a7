//! The client calls that reach Temporal's frontend beyond a run's own:
//! schedules, listing and counting runs, and update-with-start, each on a
//! dev server, answering as weft's engine answers them.
//!
//! Temporal takes a schedule's actions and indexes runs asynchronously,
//! so what they lead to is read until it shows, with a deadline.

mod temporal_support;

use std::future::Future;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use weft::backend::{BackendError, IdConflictPolicy, ListFilter, RunStatus};
use weft::prelude::*;
use weft::schedule::{
    Backfill, OverlapPolicy, Schedule, ScheduleAction, ScheduleDescription, ScheduleSpec,
};
use weft::search_attributes::{SearchAttributeKey, SearchAttributeValue};
use weft::{ClientError, Failure, ScheduleHandle};

const QUEUE: &str = "client-calls";

/// How long Temporal gets to show what it does asynchronously.
const DEADLINE: Duration = Duration::from_secs(60);

#[workflow]
async fn tick(ctx: WorkflowContext, data: String) -> WorkflowResult<String> {
    let _ = ctx;
    Ok(format!("Processed: {data}"))
}

#[workflow]
#[derive(Default)]
struct Tally {
    total: i64,
    done: bool,
}

#[workflow]
impl Tally {
    #[run]
    async fn run(ctx: WorkflowContext<Self>, _input: ()) -> WorkflowResult<i64> {
        ctx.wait_condition(|s| s.done).await?;
        Ok(ctx.state(|s| s.total))
    }

    #[update]
    fn add(&mut self, amount: i64) -> Result<i64, ApplicationError> {
        self.total += amount;
        Ok(self.total)
    }

    #[validator(add)]
    fn check_add(&self, amount: &i64) -> Result<(), ApplicationError> {
        if *amount < 0 {
            return Err(ApplicationError::new(format!("negative amount {amount}")));
        }
        Ok(())
    }

    #[signal]
    fn finish(&mut self) {
        self.done = true;
    }

    #[query]
    fn total(&self) -> i64 {
        self.total
    }
}

fn worker(client: &Client) -> Worker {
    Worker::new(client, QUEUE)
        .register_workflow::<Tick>()
        .register_workflow::<Tally>()
}

/// Calls `read` until `ready` holds of its answer, for at most
/// [`DEADLINE`]; `what` says what never showed.
async fn eventually<T: std::fmt::Debug, F: Future<Output = T>>(
    what: &str,
    mut read: impl FnMut() -> F,
    ready: impl Fn(&T) -> bool,
) -> T {
    let deadline = tokio::time::Instant::now() + DEADLINE;
    loop {
        let value = read().await;
        if ready(&value) {
            return value;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{what} within {DEADLINE:?}; last: {value:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn described(
    handle: &ScheduleHandle,
    what: &str,
    ready: impl Fn(&ScheduleDescription) -> bool,
) -> ScheduleDescription {
    eventually(what, || async { handle.describe().await.unwrap() }, ready).await
}

fn backend_error<T: std::fmt::Debug>(result: Result<T, ClientError>) -> BackendError {
    match result {
        Err(ClientError::Backend(e)) => e,
        other => panic!("expected a backend error, got {other:?}"),
    }
}

fn unix(secs: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(secs)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schedules_start_workflows_on_temporal() {
    let Some(server) = temporal_support::start(&[]).await else {
        return;
    };
    let client = server.client().await;
    let worker = worker(&client).start().unwrap();
    let action = ScheduleAction::start_workflow(tick, "scheduled".into(), "tick", QUEUE).unwrap();
    let every = Duration::from_secs(2);
    let schedule = Schedule::new(action, ScheduleSpec::every(every)).note("every 2 s");
    let handle = client
        .create_schedule("sched-1", schedule.clone())
        .await
        .unwrap();
    assert_eq!(
        backend_error(client.create_schedule("sched-1", schedule.clone()).await),
        BackendError::ScheduleAlreadyExists {
            schedule_id: "sched-1".into()
        }
    );
    let bad = Schedule::new(schedule.action.clone(), ScheduleSpec::cron("61 * * * *"));
    assert!(matches!(
        backend_error(client.create_schedule("sched-bad", bad).await),
        BackendError::InvalidArgument(m) if m.starts_with("schedule \"sched-bad\": spec:")
    ));

    let d = handle.describe().await.unwrap();
    assert_eq!(d.schedule.action, schedule.action);
    assert_eq!(d.schedule.spec.intervals, schedule.spec.intervals);
    assert_eq!(d.schedule.state, schedule.state);
    assert_eq!(d.info.next_action_times.len(), 10);
    assert!(
        d.info
            .next_action_times
            .windows(2)
            .all(|w| w[1].duration_since(w[0]).ok() == Some(every))
    );

    // The schedule starts a workflow by itself; it runs on the worker.
    let d = described(&handle, "no scheduled workflow completed", |d| {
        d.info
            .recent_actions
            .iter()
            .any(|a| a.status == RunStatus::Completed)
    })
    .await;
    let first = &d.info.recent_actions[0];
    assert_eq!(
        first.workflow.workflow_id,
        format!(
            "tick-{}",
            chrono::DateTime::<chrono::Utc>::from(first.nominal_time)
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
        )
    );
    let run = client.workflow_handle::<Tick>(
        &first.workflow.workflow_id,
        Some(first.workflow.run_id.clone()),
    );
    assert_eq!(run.result().await.unwrap(), "Processed: scheduled");

    // Paused, it is still triggered and backfilled by hand.
    handle.pause(Some("by hand")).await.unwrap();
    let d = handle.describe().await.unwrap();
    assert!(d.schedule.state.paused);
    assert_eq!(d.schedule.state.note, "by hand");
    let before = d.info.num_actions;
    handle
        .trigger_with(Some(OverlapPolicy::AllowAll))
        .await
        .unwrap();
    described(&handle, "the trigger took no action", |d| {
        d.info.num_actions == before + 1
    })
    .await;
    // Both ends of the range are included, as on weft's engine.
    let start = unix(1_800_000_000);
    handle
        .backfill([Backfill {
            start_at: start,
            end_at: start + 2 * every,
            overlap: Some(OverlapPolicy::AllowAll),
        }])
        .await
        .unwrap();
    let d = described(&handle, "the backfill took no 3 actions", |d| {
        d.info.num_actions >= before + 4
    })
    .await;
    assert_eq!(d.info.num_actions, before + 4);
    for t in [start, start + every, start + 2 * every] {
        assert!(
            d.info.recent_actions.iter().any(|a| a.nominal_time == t),
            "no action for {t:?}: {:?}",
            d.info.recent_actions
        );
    }
    let backwards = Backfill {
        start_at: start + every,
        end_at: start,
        overlap: None,
    };
    assert!(matches!(
        backend_error(handle.backfill([backwards]).await),
        BackendError::InvalidArgument(_)
    ));
    handle.unpause(None).await.unwrap();
    let d = handle.describe().await.unwrap();
    assert!(!d.schedule.state.paused);
    assert_eq!(d.schedule.state.note, "Unpaused via weft");

    // An update based on a stale description is refused.
    let stale = d.conflict_token;
    let backend = client.backend();
    let mut changed = d.schedule.clone();
    changed.state.note = "updated".into();
    backend
        .update_schedule(
            "default".into(),
            "sched-1".into(),
            changed.clone(),
            Some(stale),
        )
        .await
        .unwrap();
    changed.state.note = "stale".into();
    assert_eq!(
        backend
            .update_schedule("default".into(), "sched-1".into(), changed, Some(stale))
            .await,
        Err(BackendError::ScheduleConflict {
            schedule_id: "sched-1".into()
        })
    );
    handle
        .update(|current| {
            let mut s = current.schedule.clone();
            s.spec.intervals[0].every = Duration::from_secs(3600);
            Some(s)
        })
        .await
        .unwrap();
    let d = handle.describe().await.unwrap();
    assert_eq!(d.schedule.state.note, "updated");
    assert_eq!(
        d.schedule.spec.intervals[0].every,
        Duration::from_secs(3600)
    );
    assert_ne!(d.conflict_token, stale);

    // Listed through Temporal's visibility, which catches up.
    let listed = eventually(
        "sched-1 not listed as updated",
        || async { client.list_schedules().await.unwrap() },
        |l| {
            l.iter()
                .any(|e| e.schedule_id == "sched-1" && e.note == "updated")
        },
    )
    .await;
    let entry = listed.iter().find(|e| e.schedule_id == "sched-1").unwrap();
    assert_eq!(entry.workflow_type, "Tick");
    assert!(!entry.paused);

    handle.delete().await.unwrap();
    let missing = BackendError::ScheduleNotFound {
        schedule_id: "sched-1".into(),
    };
    assert_eq!(backend_error(handle.describe().await), missing);
    assert_eq!(backend_error(handle.delete().await), missing);
    assert_eq!(backend_error(handle.trigger().await), missing);
    assert_eq!(backend_error(handle.pause(None).await), missing);
    let nobody = client.schedule_handle("nobody");
    assert!(matches!(
        backend_error(nobody.update(|d| Some(d.schedule.clone())).await),
        BackendError::ScheduleNotFound { .. }
    ));
    worker.shutdown().await;
}

fn team() -> SearchAttributeKey<String> {
    SearchAttributeKey::new("Team")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn runs_are_listed_and_counted_on_temporal() {
    let Some(server) = temporal_support::start(&["Team=Keyword"]).await else {
        return;
    };
    let client = server.client().await;
    let worker = worker(&client).start().unwrap();
    let start = |id: &'static str, team_name: &'static str| {
        let client = client.clone();
        async move {
            let options =
                WorkflowOptions::new(id, QUEUE).search_attribute(&team(), team_name.to_string());
            client
                .start_workflow(Tally::run, (), options)
                .await
                .unwrap()
        }
    };
    let open = start("vis-open", "red").await;
    let done = start("vis-done", "red").await;
    let ended = start("vis-ended", "blue").await;
    done.finish().await.unwrap();
    assert_eq!(done.result().await.unwrap(), 0);
    ended.terminate("enough").await.unwrap();

    let grouped = eventually(
        "the three runs not counted by status",
        || async {
            client
                .count_workflows("WorkflowId STARTS_WITH 'vis-' GROUP BY ExecutionStatus")
                .await
                .unwrap()
        },
        |c| c.count == 3 && c.groups.len() == 3,
    )
    .await;
    let mut groups: Vec<(String, u64)> = grouped
        .groups
        .iter()
        .map(|g| match &g.values[..] {
            [SearchAttributeValue::Keyword(status)] => (status.clone(), g.count),
            other => panic!("a status, got {other:?}"),
        })
        .collect();
    groups.sort();
    assert_eq!(
        groups,
        [
            ("Completed".into(), 1),
            ("Running".into(), 1),
            ("Terminated".into(), 1)
        ]
    );

    let red = client.list_workflows("Team = 'red'").await.unwrap();
    let mut ids: Vec<&str> = red.iter().map(|r| r.workflow_id.as_str()).collect();
    ids.sort();
    assert_eq!(ids, ["vis-done", "vis-open"]);
    let running = client
        .list_workflows("Team = 'red' AND ExecutionStatus = 'Running'")
        .await
        .unwrap();
    assert_eq!(running.len(), 1);
    assert_eq!(running[0].workflow_type, "Tally");
    assert_eq!(running[0].task_queue, QUEUE);
    assert_eq!(running[0].namespace, "default");
    assert_eq!(
        running[0].search_attributes.get(&team()),
        Some("red".to_string())
    );
    assert_eq!(
        client.count_workflows("Team = 'blue'").await.unwrap().count,
        1
    );
    let bad = backend_error(client.list_workflows("Team = ").await);
    assert!(
        matches!(&bad, BackendError::InvalidArgument(m) if m.contains("invalid query")),
        "{bad:?}"
    );
    assert!(matches!(
        backend_error(client.count_workflows("Nobody = 'x'").await),
        BackendError::InvalidArgument(_)
    ));

    // list_runs: the filter's fields as a query, the newest first.
    let all = client
        .list_runs(ListFilter {
            workflow_type: Some("Tally".into()),
            ..ListFilter::default()
        })
        .await
        .unwrap();
    let ids: Vec<&str> = all.iter().map(|r| r.workflow_id.as_str()).collect();
    assert_eq!(ids, ["vis-ended", "vis-done", "vis-open"]);
    assert!(all[1].history_length > 4);
    assert_eq!(all[1].status, RunStatus::Completed);
    let newest = client
        .list_runs(ListFilter {
            workflow_type: Some("Tally".into()),
            limit: Some(2),
            ..ListFilter::default()
        })
        .await
        .unwrap();
    assert_eq!(newest, all[..2]);
    let running = client
        .list_runs(ListFilter {
            status: Some(RunStatus::Running),
            workflow_id: Some("vis-open".into()),
            ..ListFilter::default()
        })
        .await
        .unwrap();
    assert_eq!(running.len(), 1);
    assert_eq!(running[0].run_id, open.describe().await.unwrap().run_id);
    let after = all[1].start_time;
    let later = client
        .list_runs(ListFilter {
            started_after: Some(after),
            ..ListFilter::default()
        })
        .await
        .unwrap();
    let ids: Vec<&str> = later.iter().map(|r| r.workflow_id.as_str()).collect();
    assert_eq!(ids, ["vis-ended", "vis-done"]);
    open.finish().await.unwrap();
    worker.shutdown().await;
}

fn uws_options(id: &str) -> WorkflowOptions {
    WorkflowOptions::new(id, QUEUE).id_conflict_policy(IdConflictPolicy::UseExisting)
}

fn update_failure(result: Result<i64, ClientError>) -> String {
    match result {
        Err(ClientError::Update(Failure::Application(e))) => e.message,
        other => panic!("expected a failed update, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn update_with_start_starts_once_and_applies_once_on_temporal() {
    let Some(server) = temporal_support::start(&[]).await else {
        return;
    };
    let client = server.client().await;
    let worker = worker(&client).start().unwrap();
    let call =
        |options: WorkflowOptions| client.update_with_start(Tally::run, (), options).unwrap();

    // A new run, started with its update.
    let h = call(uws_options("uws").request_id("uws-1"));
    assert_eq!(h.with_update_id("u-1").add(5).await.unwrap(), 5);
    let run_id = h.run_id().expect("the run the update went to").to_string();
    let events = h.history().await.unwrap();
    let completed = |events: &[weft::history::Event]| {
        events
            .iter()
            .filter(|e| {
                matches!(
                    e.attributes,
                    weft::history::EventAttributes::WorkflowExecutionUpdateCompleted { .. }
                )
            })
            .count()
    };
    assert_eq!(completed(&events), 1);

    // Retried (same request id, same update id): the first outcome, no
    // second run, nothing applied again.
    let retry = call(uws_options("uws").request_id("uws-1"));
    assert_eq!(retry.with_update_id("u-1").add(5).await.unwrap(), 5);
    assert_eq!(retry.run_id(), Some(run_id.as_str()));
    assert_eq!(completed(&h.history().await.unwrap()), 1);
    let retry = call(WorkflowOptions::new("uws", QUEUE).request_id("uws-1"));
    assert_eq!(
        retry.with_update_id("u-1").add(5).await.unwrap(),
        5,
        "retried under Fail"
    );

    // Another caller's update-with-start reaches the open run.
    let other = call(uws_options("uws"));
    assert_eq!(other.add(2).await.unwrap(), 7);
    assert_eq!(other.run_id(), Some(run_id.as_str()));

    // Under Fail an open run refuses the call, and the update is not applied.
    let refused = call(WorkflowOptions::new("uws", QUEUE));
    assert_eq!(
        backend_error(refused.add(100).await),
        BackendError::WorkflowAlreadyStarted {
            workflow_id: "uws".into(),
            run_id: run_id.clone()
        }
    );
    assert_eq!(h.total().await.unwrap(), 7);

    // Rejected by the validator: the run started, the update not applied.
    let rejected = call(uws_options("uws-rejected"));
    assert!(update_failure(rejected.add(-1).await).contains("negative amount -1"));
    assert_eq!(
        rejected.describe().await.unwrap().status,
        RunStatus::Running
    );
    // Invalid (no name): refused before anything starts.
    let invalid = call(uws_options("uws-invalid"));
    assert!(matches!(
        backend_error(invalid.update_payloads("", vec![], None).await),
        BackendError::InvalidArgument(_)
    ));
    assert!(matches!(
        backend_error(invalid.describe().await),
        BackendError::NotFound { .. }
    ));

    h.finish().await.unwrap();
    assert_eq!(h.result().await.unwrap(), 7);
    // The run has closed: the same request id finds it, and a known
    // update id still returns its outcome.
    let closed = call(uws_options("uws").request_id("uws-1"));
    assert_eq!(closed.with_update_id("u-1").add(5).await.unwrap(), 5);
    assert_eq!(closed.run_id(), Some(run_id.as_str()));
    assert_eq!(h.describe().await.unwrap().status, RunStatus::Completed);
    rejected.finish().await.unwrap();
    worker.shutdown().await;
}
