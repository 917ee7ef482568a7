//! Heartbeats, activity cancellation, cancel requests and termination, at
//! the engine, driven through the `Backend` trait on both stores.

mod support;

use std::time::Duration;

use weft::backend::{
    ActivityTask, ActivityTaskResult, Backend, BackendError, CancelRequest, RunOutcome, RunStatus,
    TerminateRequest,
};
use weft::converter::{Payload, decode, encode};
use weft::engine::{Engine, EngineOptions};
use weft::failure::{Failure, TimeoutType};
use weft::history::EventAttributes;
use weft::protocol::Command;
use weft::retry::RetryPolicy;

use support::backend::*;

both_stores!(
    heartbeat_timeout_retries_with_last_details,
    heartbeats_keep_an_attempt_alive,
    cancel_reaches_a_running_activity_through_its_heartbeat,
    cancel_of_an_unstarted_activity_is_immediate,
    cancel_request_is_recorded_once,
    terminate_closes_the_run_at_once,
    a_cancel_requested_activity_is_not_retried,
);

/// An activity with a heartbeat timeout and quick retries.
fn heartbeating(seq: u32, heartbeat: Duration) -> Command {
    let mut sa = schedule_activity(seq, quick_retries());
    sa.options.heartbeat_timeout = Some(heartbeat);
    Command::ScheduleActivity(sa)
}

/// Starts run "w" with one heartbeating activity (seq 1, 30 s heartbeat
/// timeout) and hands its first attempt out.
async fn running_activity(e: &Engine) -> ActivityTask {
    start(e, "w").await;
    let t = poll_wft(e).await;
    complete(e, &t, vec![heartbeating(1, Duration::from_secs(30))])
        .await
        .unwrap();
    poll_act(e).await
}

/// Wakes run "w" with a signal, and its next task asks for the
/// cancellation of activity 1.
async fn cancel_activity_in_next_task(e: &Engine) {
    e.signal_workflow(weft::backend::SignalRequest {
        namespace: NS.into(),
        workflow_id: "w".into(),
        run_id: None,
        signal_name: "stop".into(),
        input: Vec::new(),
        request_id: "s1".into(),
    })
    .await
    .unwrap();
    let t = poll_wft(e).await;
    complete(e, &t, vec![Command::RequestCancelActivity { seq: 1 }])
        .await
        .unwrap();
}

fn cancel_request(workflow_id: &str) -> CancelRequest {
    CancelRequest {
        namespace: NS.into(),
        workflow_id: workflow_id.into(),
        run_id: None,
        reason: "test".into(),
    }
}

async fn heartbeat_timeout_retries_with_last_details(sqlite: bool) {
    let h = Harness::new(sqlite, EngineOptions::default());
    let e = &h.engine;
    start(e, "w").await;
    let t = poll_wft(e).await;
    complete(e, &t, vec![heartbeating(1, Duration::from_millis(300))])
        .await
        .unwrap();
    let a1 = poll_act(e).await;
    assert_eq!(a1.attempt, 1);
    assert!(a1.heartbeat_details.is_empty());
    for progress in [1u32, 2, 3] {
        let answer = e
            .record_activity_heartbeat(a1.token.clone(), vec![encode(&progress).unwrap()])
            .await
            .unwrap();
        assert!(!answer.cancel_requested);
    }
    // Attempt 1 goes silent: its heartbeat timeout fails it and attempt 2
    // starts with the last details.
    let a2 = poll_act(e).await;
    assert_eq!(a2.attempt, 2);
    assert_eq!(decode::<u32>(&a2.heartbeat_details[0]).unwrap(), 3);
    // The timed-out attempt's late result is refused, and its heartbeats
    // are told to stop.
    assert!(matches!(
        e.complete_activity_task(
            a1.token.clone(),
            ActivityTaskResult::Completed(encode(&"late").unwrap())
        )
        .await,
        Err(BackendError::TaskNotFound(_))
    ));
    assert!(
        e.record_activity_heartbeat(a1.token, Vec::new())
            .await
            .unwrap()
            .cancel_requested
    );
    e.complete_activity_task(
        a2.token,
        ActivityTaskResult::Completed(encode(&"done").unwrap()),
    )
    .await
    .unwrap();
    let t = poll_wft(e).await;
    match &t.events.last().map(|e| &e.attributes) {
        Some(EventAttributes::ActivityTaskCompleted { .. }) => {}
        other => panic!("{other:?}"),
    }
    // The retry added no events; the started event carries the heartbeat
    // timeout as the previous failure, without the details (as Temporal
    // records it: attempt 2 was handed them as its own).
    let events = history(e, "w").await;
    let started = events
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
    assert_eq!(started.0, 2);
    match started.1 {
        Some(Failure::Timeout(t)) => {
            assert_eq!(t.timeout_type, TimeoutType::Heartbeat);
            assert!(t.last_heartbeat_details.is_empty(), "{t:?}");
        }
        other => panic!("{other:?}"),
    }
    e.shutdown().await;
}

async fn heartbeats_keep_an_attempt_alive(sqlite: bool) {
    let h = Harness::new(sqlite, EngineOptions::default());
    let e = &h.engine;
    start(e, "w").await;
    let t = poll_wft(e).await;
    let policy = RetryPolicy::default().with_maximum_attempts(1);
    let mut sa = schedule_activity(1, policy);
    sa.options.heartbeat_timeout = Some(Duration::from_millis(200));
    complete(e, &t, vec![Command::ScheduleActivity(sa)])
        .await
        .unwrap();
    let a = poll_act(e).await;
    // Heartbeating every 50 ms for 600 ms (three heartbeat timeouts) keeps
    // the attempt current: its result is accepted.
    let mut ticker = tokio::time::interval(Duration::from_millis(50));
    for i in 0..12u32 {
        ticker.tick().await;
        let answer = e
            .record_activity_heartbeat(a.token.clone(), vec![encode(&i).unwrap()])
            .await
            .unwrap();
        assert!(!answer.cancel_requested, "heartbeat {i} told to stop");
    }
    e.complete_activity_task(
        a.token,
        ActivityTaskResult::Completed(encode(&"ok").unwrap()),
    )
    .await
    .unwrap();
    let t = poll_wft(e).await;
    assert!(matches!(
        t.events.last().map(|e| &e.attributes),
        Some(EventAttributes::ActivityTaskCompleted { .. })
    ));
    e.shutdown().await;
}

async fn cancel_reaches_a_running_activity_through_its_heartbeat(sqlite: bool) {
    let h = Harness::new(sqlite, EngineOptions::default());
    let e = &h.engine;
    let a = running_activity(e).await;
    cancel_activity_in_next_task(e).await;
    let answer = e
        .record_activity_heartbeat(a.token.clone(), vec![encode(&7u32).unwrap()])
        .await
        .unwrap();
    assert!(answer.cancel_requested);
    e.complete_activity_task(
        a.token,
        ActivityTaskResult::Canceled(vec![encode(&"stopped").unwrap()]),
    )
    .await
    .unwrap();
    let t = poll_wft(e).await;
    let requested = history(e, "w")
        .await
        .iter()
        .find(|ev| {
            matches!(
                ev.attributes,
                EventAttributes::ActivityTaskCancelRequested { .. }
            )
        })
        .map(|ev| ev.event_id)
        .unwrap();
    match t.events.last().map(|e| &e.attributes) {
        Some(EventAttributes::ActivityTaskCanceled {
            latest_cancel_requested_event_id,
            started_event_id,
            details,
            ..
        }) => {
            assert_eq!(*latest_cancel_requested_event_id, requested);
            assert!(*started_event_id > 0);
            assert_eq!(decode::<String>(&details[0]).unwrap(), "stopped");
        }
        other => panic!("{other:?}"),
    }
    e.shutdown().await;
}

async fn cancel_of_an_unstarted_activity_is_immediate(sqlite: bool) {
    let h = Harness::new(sqlite, EngineOptions::default());
    let e = &h.engine;
    start(e, "w").await;
    let t = poll_wft(e).await;
    // Scheduled on a queue nobody polls, then cancelled in the same task.
    let mut sa = schedule_activity(1, quick_retries());
    sa.task_queue = "nobody".into();
    complete(
        e,
        &t,
        vec![
            Command::ScheduleActivity(sa),
            Command::RequestCancelActivity { seq: 1 },
        ],
    )
    .await
    .unwrap();
    let t = poll_wft(e).await;
    // The new task's events: the last task's (written at its completion),
    // then its commands' events, the cancellation among them.
    assert_eq!(
        names(&t.events),
        [
            "WorkflowTaskScheduled",
            "WorkflowTaskStarted",
            "WorkflowTaskCompleted",
            "ActivityTaskScheduled",
            "ActivityTaskCancelRequested",
            "ActivityTaskCanceled"
        ]
    );
    let d = e.describe(NS, "w", None).await.unwrap();
    assert_eq!(d.pending_activities, 0);
    e.shutdown().await;
}

async fn cancel_request_is_recorded_once(sqlite: bool) {
    let h = Harness::new(sqlite, EngineOptions::default());
    let e = &h.engine;
    start(e, "w").await;
    // Asked while the first workflow task runs: buffered, then one event.
    let t = poll_wft(e).await;
    e.request_cancel_workflow(cancel_request("w"))
        .await
        .unwrap();
    e.request_cancel_workflow(cancel_request("w"))
        .await
        .unwrap();
    complete(e, &t, vec![]).await.unwrap();
    let t = poll_wft(e).await;
    assert_eq!(
        names(&t.events),
        [
            "WorkflowTaskScheduled",
            "WorkflowTaskStarted",
            "WorkflowTaskCompleted",
            "WorkflowExecutionCancelRequested"
        ]
    );
    // The workflow ends canceled.
    complete(e, &t, vec![Command::CancelWorkflow { details: vec![] }])
        .await
        .unwrap();
    let outcome = e.wait_result(NS, "w", None).await.unwrap();
    assert!(
        matches!(outcome, RunOutcome::Canceled(Failure::Canceled(_))),
        "{outcome:?}"
    );
    assert_eq!(
        e.describe(NS, "w", None).await.unwrap().status,
        RunStatus::Canceled
    );
    assert_eq!(
        names(&history(e, "w").await).last(),
        Some(&"WorkflowExecutionCanceled")
    );
    // A closed run takes no cancel request.
    assert!(matches!(
        e.request_cancel_workflow(cancel_request("w")).await,
        Err(BackendError::NotFound { .. })
    ));
    e.shutdown().await;
}

async fn terminate_closes_the_run_at_once(sqlite: bool) {
    let h = Harness::new(sqlite, EngineOptions::default());
    let e = &h.engine;
    let a = running_activity(e).await;
    let terminate = TerminateRequest {
        namespace: NS.into(),
        workflow_id: "w".into(),
        run_id: None,
        reason: "operator".into(),
        details: Vec::new(),
    };
    e.terminate_workflow(terminate.clone()).await.unwrap();
    match e.wait_result(NS, "w", None).await.unwrap() {
        RunOutcome::Terminated(Failure::Terminated(t)) => assert_eq!(t.reason, "operator"),
        other => panic!("{other:?}"),
    }
    let d = e.describe(NS, "w", None).await.unwrap();
    assert_eq!(d.status, RunStatus::Terminated);
    assert_eq!(d.pending_activities, 0);
    assert_eq!(
        names(&history(e, "w").await).last(),
        Some(&"WorkflowExecutionTerminated")
    );
    // Its activity is told to stop, and its result goes nowhere.
    assert!(
        e.record_activity_heartbeat(a.token.clone(), Vec::new())
            .await
            .unwrap()
            .cancel_requested
    );
    assert!(
        e.complete_activity_task(a.token, ActivityTaskResult::Completed(Payload::default()))
            .await
            .is_err()
    );
    assert!(matches!(
        e.terminate_workflow(terminate).await,
        Err(BackendError::NotFound { .. })
    ));
    e.shutdown().await;
}

async fn a_cancel_requested_activity_is_not_retried(sqlite: bool) {
    let h = Harness::new(sqlite, EngineOptions::default());
    let e = &h.engine;
    let a = running_activity(e).await;
    cancel_activity_in_next_task(e).await;
    // The attempt fails instead of acknowledging the cancellation: with
    // quick unlimited retries it would run again, but its cancellation was
    // asked, so it closes with this failure.
    e.complete_activity_task(a.token, ActivityTaskResult::Failed(app_failure("gave up")))
        .await
        .unwrap();
    let t = poll_wft(e).await;
    match t.events.last().map(|e| &e.attributes) {
        Some(EventAttributes::ActivityTaskFailed { retry_state, .. }) => {
            assert_eq!(*retry_state, weft::failure::RetryState::CancelRequested)
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        e.describe(NS, "w", None).await.unwrap().pending_activities,
        0
    );
    e.shutdown().await;
}

/// An attempt running when the engine stopped, whose cancellation was
/// asked: after the restart no worker holds it, so it is cancelled, not
/// handed out again.
#[tokio::test]
async fn a_cancel_requested_attempt_lost_in_a_restart_is_cancelled() {
    let h = Harness::new(true, EngineOptions::default());
    {
        let e = &h.engine;
        let _running = running_activity(e).await;
        cancel_activity_in_next_task(e).await;
        e.shutdown().await;
    }
    let e = weft::engine::Engine::sqlite(h.db()).await.unwrap();
    // A worker polls the activity queue: the lost attempt is not given to it.
    let poller = {
        let e = e.clone();
        tokio::spawn(async move { e.poll_activity_task(NS, TQ).await })
    };
    let t = poll_wft(&e).await;
    match t.events.last().map(|e| &e.attributes) {
        Some(EventAttributes::ActivityTaskCanceled { .. }) => {}
        other => panic!("{other:?}"),
    }
    e.shutdown().await;
    // The poll ends with the engine, empty-handed.
    assert!(matches!(poller.await.unwrap(), Ok(None)));
}
