//! The embedded engine, driven through the `Backend` trait alone (no
//! worker), on both stores.

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use weft::backend::{
    ActivityTask, ActivityTaskResult, Backend, BackendError, IdConflictPolicy, IdReusePolicy,
    QueryRequest, RunOutcome, RunStatus, SignalRequest, WorkflowTask, WorkflowTaskCompletion,
};
use weft::converter::{Payload, PayloadLimits, encode};
use weft::engine::{Engine, EngineOptions, SqliteStore, StoreOp};
use weft::failure::{ApplicationError, Failure, RetryState, TimeoutType};
use weft::history::{Event, EventAttributes, LOCAL_ACTIVITY_MARKER};
use weft::protocol::{Command, Resolution};
use weft::retry::RetryPolicy;

use support::backend::*;

both!(
    start_policies,
    completion_layout,
    buffered_events_follow_commands,
    terminal_refused_while_events_wait,
    stale_tokens_refused,
    wft_failure_written_once,
    wft_timeout_redelivers,
    activity_retries_add_no_events,
    maximum_attempts,
    non_retryable_failure,
    start_to_close_timeout_retried,
    payload_limits_refused,
    shutdown_ends_polls,
);

async fn start_policies(kind: Kind) {
    let h = Harness::new(kind, EngineOptions::default());
    let e = &h.engine;
    let first = e.start_workflow(request("w", "r1")).await.unwrap();
    assert!(first.started);
    // Same request id: the same run, not started again.
    let again = e.start_workflow(request("w", "r1")).await.unwrap();
    assert_eq!(again.run_id, first.run_id);
    assert!(!again.started);
    // Open run, other request id.
    let err = e.start_workflow(request("w", "r2")).await.unwrap_err();
    assert!(
        matches!(err, BackendError::WorkflowAlreadyStarted { .. }),
        "{err}"
    );
    let mut use_existing = request("w", "r3");
    use_existing.id_conflict_policy = IdConflictPolicy::UseExisting;
    let r = e.start_workflow(use_existing).await.unwrap();
    assert_eq!(
        (r.run_id.as_str(), r.started),
        (first.run_id.as_str(), false)
    );
    // Close it.
    let task = poll_wft(e).await;
    complete(e, &task, vec![done("hi")]).await.unwrap();
    let outcome = e.wait_result(NS, "w", None).await.unwrap();
    assert_eq!(outcome, RunOutcome::Completed(encode(&"hi").unwrap()));
    // Closed run: reuse policies.
    let mut reject = request("w", "r4");
    reject.id_reuse_policy = IdReusePolicy::RejectDuplicate;
    assert!(matches!(
        e.start_workflow(reject).await,
        Err(BackendError::WorkflowAlreadyStarted { .. })
    ));
    let mut failed_only = request("w", "r5");
    failed_only.id_reuse_policy = IdReusePolicy::AllowDuplicateFailedOnly;
    assert!(matches!(
        e.start_workflow(failed_only).await,
        Err(BackendError::WorkflowAlreadyStarted { .. })
    ));
    // A closed run's request id still returns it.
    let r = e.start_workflow(request("w", "r1")).await.unwrap();
    assert_eq!(
        (r.run_id.as_str(), r.started),
        (first.run_id.as_str(), false)
    );
    let second = e.start_workflow(request("w", "r6")).await.unwrap();
    assert!(second.started);
    assert_ne!(second.run_id, first.run_id);
    let d = e.describe(NS, "w", None).await.unwrap();
    assert_eq!(
        (d.run_id.as_str(), d.status),
        (second.run_id.as_str(), RunStatus::Running)
    );
    let d = e.describe(NS, "w", Some(&first.run_id)).await.unwrap();
    assert_eq!(d.status, RunStatus::Completed);
    assert_eq!(d.history_length, 5);
    assert!(d.close_time.is_some());
    assert_eq!(d.run_chain, vec![first.run_id.clone()]);
    // Bad ids.
    let err = e.start_workflow(request("", "r7")).await.unwrap_err();
    assert!(matches!(err, BackendError::InvalidArgument(_)), "{err}");
    let err = e
        .start_workflow(request(&"x".repeat(1001), "r8"))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("over the limit"), "{err}");
    assert!(matches!(
        e.describe(NS, "nope", None).await,
        Err(BackendError::NotFound { .. })
    ));
    assert!(matches!(
        e.describe(NS, "w", Some("no-such-run")).await,
        Err(BackendError::NotFound { .. })
    ));
    e.shutdown().await;
}

async fn completion_layout(kind: Kind) {
    let h = Harness::new(kind, EngineOptions::default());
    let e = &h.engine;
    start(e, "w").await;
    let t1 = poll_wft(e).await;
    assert_eq!(
        (t1.first_event_id, t1.attempt, t1.history_length),
        (1, 1, 1)
    );
    assert_eq!(names(&t1.events), ["WorkflowExecutionStarted"]);
    complete(
        e,
        &t1,
        vec![
            activity(1, quick_retries()),
            Command::StartTimer {
                seq: 7,
                duration: Duration::from_secs(3600),
            },
            Command::RecordLocalActivityMarker {
                seq: 2,
                activity_type: "Lookup".into(),
                attempt: 1,
                result: Resolution::Completed(encode(&42).unwrap()),
            },
        ],
    )
    .await
    .unwrap();
    let hist = history(e, "w").await;
    assert_eq!(
        names(&hist),
        [
            "WorkflowExecutionStarted",
            "WorkflowTaskScheduled",
            "WorkflowTaskStarted",
            "WorkflowTaskCompleted",
            "ActivityTaskScheduled",
            "TimerStarted",
            "MarkerRecorded",
        ]
    );
    assert_eq!(ms(hist[2].event_time), ms(t1.started_time));
    match &hist[1].attributes {
        EventAttributes::WorkflowTaskScheduled { attempt, .. } => assert_eq!(*attempt, 1),
        other => panic!("{other:?}"),
    }
    match &hist[3].attributes {
        EventAttributes::WorkflowTaskCompleted {
            scheduled_event_id,
            started_event_id,
            sdk_flags,
            identity,
        } => {
            assert_eq!((*scheduled_event_id, *started_event_id), (2, 3));
            assert_eq!(sdk_flags, &vec![1]);
            assert_eq!(identity, "test-worker");
        }
        other => panic!("{other:?}"),
    }
    match &hist[5].attributes {
        EventAttributes::TimerStarted {
            timer_id,
            workflow_task_completed_event_id,
            ..
        } => assert_eq!(
            (timer_id.as_str(), *workflow_task_completed_event_id),
            ("7", 4)
        ),
        other => panic!("{other:?}"),
    }
    match &hist[6].attributes {
        EventAttributes::MarkerRecorded {
            marker_name,
            details,
            failure,
            ..
        } => {
            assert_eq!(marker_name, LOCAL_ACTIVITY_MARKER);
            assert_eq!(details["seq"], vec![encode(&2u32).unwrap()]);
            assert_eq!(details["activity_type"], vec![encode(&"Lookup").unwrap()]);
            assert_eq!(details["attempt"], vec![encode(&1u32).unwrap()]);
            assert_eq!(details["result"], vec![encode(&42).unwrap()]);
            assert!(failure.is_none());
        }
        other => panic!("{other:?}"),
    }
    let d = e.describe(NS, "w", None).await.unwrap();
    assert_eq!((d.pending_activities, d.history_length), (1, 7));

    let a = poll_act(e).await;
    assert_eq!(
        (a.token.task_id, a.attempt, a.activity_type.as_str()),
        (5, 1, "Charge")
    );
    e.complete_activity_task(
        a.token.clone(),
        ActivityTaskResult::Completed(encode(&"ok").unwrap()),
    )
    .await
    .unwrap();
    let t2 = poll_wft(e).await;
    assert_eq!(t2.first_event_id, 2);
    assert_eq!(
        names(&t2.events),
        [
            "WorkflowTaskScheduled",
            "WorkflowTaskStarted",
            "WorkflowTaskCompleted",
            "ActivityTaskScheduled",
            "TimerStarted",
            "MarkerRecorded",
            "ActivityTaskStarted",
            "ActivityTaskCompleted",
        ]
    );
    assert_eq!(t2.history_length, 9);
    complete(e, &t2, vec![done("fin")]).await.unwrap();
    let hist = history(e, "w").await;
    assert_eq!(hist.len(), 13);
    assert_eq!(hist[12].attributes.name(), "WorkflowExecutionCompleted");
    assert_eq!(hist[12].attributes.command_of(), Some(12));
    assert_eq!(
        e.wait_result(NS, "w", None).await.unwrap(),
        RunOutcome::Completed(encode(&"fin").unwrap())
    );
    e.shutdown().await;
}

/// Schedules two activities; completes the first; starts the second
/// workflow task; returns it with the second activity still pending.
async fn two_activities_one_done(e: &Engine) -> (WorkflowTask, ActivityTask) {
    start(e, "w").await;
    let t1 = poll_wft(e).await;
    complete(
        e,
        &t1,
        vec![activity(1, quick_retries()), activity(2, quick_retries())],
    )
    .await
    .unwrap();
    let a1 = poll_act(e).await;
    let a2 = poll_act(e).await;
    e.complete_activity_task(a1.token, ActivityTaskResult::Completed(encode(&1).unwrap()))
        .await
        .unwrap();
    let t2 = poll_wft(e).await;
    (t2, a2)
}

async fn buffered_events_follow_commands(kind: Kind) {
    let h = Harness::new(kind, EngineOptions::default());
    let e = &h.engine;
    let (t2, a2) = two_activities_one_done(e).await;
    // Arrives while t2 runs: buffered.
    e.complete_activity_task(a2.token, ActivityTaskResult::Completed(encode(&2).unwrap()))
        .await
        .unwrap();
    assert_eq!(history(e, "w").await.len(), 8);
    complete(
        e,
        &t2,
        vec![Command::StartTimer {
            seq: 1,
            duration: Duration::from_secs(3600),
        }],
    )
    .await
    .unwrap();
    let hist = history(e, "w").await;
    assert_eq!(
        names(&hist[8..]),
        [
            "WorkflowTaskScheduled",
            "WorkflowTaskStarted",
            "WorkflowTaskCompleted",
            "TimerStarted",
            "ActivityTaskStarted",
            "ActivityTaskCompleted",
        ]
    );
    // The buffered events made a new task, carrying them.
    let t3 = poll_wft(e).await;
    assert_eq!(t3.first_event_id, 9);
    assert_eq!(t3.events.len(), 6);
    e.shutdown().await;
}

async fn terminal_refused_while_events_wait(kind: Kind) {
    let h = Harness::new(kind, EngineOptions::default());
    let e = &h.engine;
    let (t2, a2) = two_activities_one_done(e).await;
    e.complete_activity_task(a2.token, ActivityTaskResult::Completed(encode(&2).unwrap()))
        .await
        .unwrap();
    let err = complete(e, &t2, vec![done("too early")]).await.unwrap_err();
    assert!(matches!(err, BackendError::UnhandledCommand(_)), "{err}");
    let hist = history(e, "w").await;
    // Nothing for the refused task; the buffered events are written.
    assert_eq!(
        names(&hist[8..]),
        ["ActivityTaskStarted", "ActivityTaskCompleted"]
    );
    let t3 = poll_wft(e).await;
    assert_eq!(t3.attempt, 1);
    assert_eq!(
        t3.events.last().unwrap().attributes.name(),
        "ActivityTaskCompleted"
    );
    complete(e, &t3, vec![done("now")]).await.unwrap();
    assert_eq!(
        e.describe(NS, "w", None).await.unwrap().status,
        RunStatus::Completed
    );
    e.shutdown().await;
}

async fn stale_tokens_refused(kind: Kind) {
    let h = Harness::new(kind, EngineOptions::default());
    let e = &h.engine;
    start(e, "w").await;
    let t = poll_wft(e).await;
    let mut wrong = t.clone();
    wrong.token.task_id += 1;
    assert!(matches!(
        complete(e, &wrong, vec![]).await,
        Err(BackendError::TaskNotFound(_))
    ));
    let mut old = t.clone();
    old.token.incarnation ^= 1;
    assert!(matches!(
        complete(e, &old, vec![]).await,
        Err(BackendError::TaskNotFound(_))
    ));
    complete(e, &t, vec![activity(1, quick_retries())])
        .await
        .unwrap();
    assert!(matches!(
        complete(e, &t, vec![]).await,
        Err(BackendError::TaskNotFound(_))
    ));
    let a = poll_act(e).await;
    let mut wrong = a.token.clone();
    wrong.attempt = 2;
    assert!(matches!(
        e.complete_activity_task(wrong, ActivityTaskResult::Completed(Payload::default()))
            .await,
        Err(BackendError::TaskNotFound(_))
    ));
    // Commands the engine must refuse leave the task started.
    let local = match activity(2, quick_retries()) {
        Command::ScheduleActivity(sa) => Command::ScheduleLocalActivity(sa),
        _ => unreachable!(),
    };
    e.complete_activity_task(a.token, ActivityTaskResult::Completed(Payload::default()))
        .await
        .unwrap();
    let t2 = poll_wft(e).await;
    assert!(matches!(
        complete(e, &t2, vec![local]).await,
        Err(BackendError::InvalidArgument(_))
    ));
    // A refused completion fails the task; a new attempt follows.
    let t3 = poll_wft(e).await;
    assert_eq!(t3.attempt, 2);
    let mut no_timeout = activity(3, quick_retries());
    if let Command::ScheduleActivity(sa) = &mut no_timeout {
        sa.options.start_to_close_timeout = None;
    }
    let err = complete(e, &t3, vec![no_timeout]).await.unwrap_err();
    assert!(err.to_string().contains("start_to_close_timeout"), "{err}");
    let t4 = poll_wft(e).await;
    complete(e, &t4, vec![done("x")]).await.unwrap();
    e.shutdown().await;
}

async fn wft_failure_written_once(kind: Kind) {
    let h = Harness::new(kind, EngineOptions::default());
    let e = &h.engine;
    start(e, "w").await;
    let t = poll_wft(e).await;
    e.fail_workflow_task(t.token.clone(), app_failure("bug 1"), false)
        .await
        .unwrap();
    let hist = history(e, "w").await;
    assert_eq!(
        names(&hist),
        [
            "WorkflowExecutionStarted",
            "WorkflowTaskScheduled",
            "WorkflowTaskStarted",
            "WorkflowTaskFailed",
        ]
    );
    let d = e.describe(NS, "w", None).await.unwrap();
    assert_eq!(d.workflow_task_attempt, 2);
    assert!(d.last_workflow_task_failure.unwrap().contains("bug 1"));
    let t = poll_wft(e).await;
    assert_eq!(t.attempt, 2);
    e.fail_workflow_task(t.token.clone(), app_failure("bug 2"), true)
        .await
        .unwrap();
    assert_eq!(history(e, "w").await.len(), 4);
    let d = e.describe(NS, "w", None).await.unwrap();
    assert_eq!(d.workflow_task_attempt, 3);
    assert!(d.last_workflow_task_failure.unwrap().contains("bug 2"));
    let t = poll_wft(e).await;
    assert_eq!(t.attempt, 3);
    complete(e, &t, vec![activity(1, quick_retries())])
        .await
        .unwrap();
    let hist = history(e, "w").await;
    assert_eq!(
        names(&hist[4..]),
        [
            "WorkflowTaskScheduled",
            "WorkflowTaskStarted",
            "WorkflowTaskCompleted",
            "ActivityTaskScheduled",
        ]
    );
    match &hist[4].attributes {
        EventAttributes::WorkflowTaskScheduled { attempt, .. } => assert_eq!(*attempt, 3),
        other => panic!("{other:?}"),
    }
    let d = e.describe(NS, "w", None).await.unwrap();
    assert_eq!(
        (d.workflow_task_attempt, d.last_workflow_task_failure),
        (1, None)
    );
    e.shutdown().await;
}

async fn wft_timeout_redelivers(kind: Kind) {
    let options = EngineOptions {
        workflow_task_timeout: Duration::from_millis(200),
        ..EngineOptions::default()
    };
    let h = Harness::new(kind, options);
    let e = &h.engine;
    start(e, "w").await;
    let t1 = poll_wft(e).await;
    // Not completed: handed out again after the timeout.
    let t2 = poll_wft(e).await;
    assert_eq!(t2.attempt, 2);
    assert!(matches!(
        complete(e, &t1, vec![]).await,
        Err(BackendError::TaskNotFound(_))
    ));
    let t3 = poll_wft(e).await;
    assert_eq!(t3.attempt, 3);
    let hist = history(e, "w").await;
    assert_eq!(
        names(&hist),
        [
            "WorkflowExecutionStarted",
            "WorkflowTaskScheduled",
            "WorkflowTaskStarted",
            "WorkflowTaskTimedOut",
        ]
    );
    complete(e, &t3, vec![done("late")]).await.unwrap();
    e.shutdown().await;
}

/// Starts a run whose first task schedules one activity with `policy`.
async fn run_with_activity(e: &Engine, policy: RetryPolicy) {
    start(e, "w").await;
    let t = poll_wft(e).await;
    complete(e, &t, vec![activity(1, policy)]).await.unwrap();
}

async fn activity_retries_add_no_events(kind: Kind) {
    let h = Harness::new(kind, EngineOptions::default());
    let e = &h.engine;
    run_with_activity(e, quick_retries()).await;
    let a = poll_act(e).await;
    e.complete_activity_task(a.token, ActivityTaskResult::Failed(app_failure("first")))
        .await
        .unwrap();
    let a = poll_act(e).await;
    assert_eq!(a.attempt, 2);
    e.complete_activity_task(a.token, ActivityTaskResult::Failed(app_failure("second")))
        .await
        .unwrap();
    assert_eq!(history(e, "w").await.len(), 5);
    assert_eq!(
        e.describe(NS, "w", None).await.unwrap().pending_activities,
        1
    );
    let a = poll_act(e).await;
    assert_eq!(a.attempt, 3);
    e.complete_activity_task(a.token, ActivityTaskResult::Completed(encode(&3).unwrap()))
        .await
        .unwrap();
    let hist = history(e, "w").await;
    assert_eq!(
        names(&hist[5..]),
        ["ActivityTaskStarted", "ActivityTaskCompleted"]
    );
    match &hist[5].attributes {
        EventAttributes::ActivityTaskStarted {
            attempt,
            last_failure,
            ..
        } => {
            assert_eq!(*attempt, 3);
            assert_eq!(last_failure.as_ref(), Some(&app_failure("second")));
        }
        other => panic!("{other:?}"),
    }
    e.shutdown().await;
}

async fn fail_until_closed(e: &Engine, attempts: u32, failure: Failure) -> Event {
    for attempt in 1..=attempts {
        let a = poll_act(e).await;
        assert_eq!(a.attempt, attempt);
        e.complete_activity_task(a.token, ActivityTaskResult::Failed(failure.clone()))
            .await
            .unwrap();
    }
    let hist = history(e, "w").await;
    assert_eq!(
        names(&hist[5..]),
        ["ActivityTaskStarted", "ActivityTaskFailed"]
    );
    // The close makes a workflow task.
    let t = poll_wft(e).await;
    assert_eq!(t.events.last(), hist.last());
    hist[6].clone()
}

async fn maximum_attempts(kind: Kind) {
    let h = Harness::new(kind, EngineOptions::default());
    let e = &h.engine;
    run_with_activity(e, quick_retries().with_maximum_attempts(2)).await;
    let closed = fail_until_closed(e, 2, app_failure("nope")).await;
    match closed.attributes {
        EventAttributes::ActivityTaskFailed {
            retry_state,
            failure,
            started_event_id,
            ..
        } => {
            assert_eq!(retry_state, RetryState::MaximumAttemptsReached);
            assert_eq!(failure, app_failure("nope"));
            assert_eq!(started_event_id, 6);
        }
        other => panic!("{other:?}"),
    }
    e.shutdown().await;
}

async fn non_retryable_failure(kind: Kind) {
    let h = Harness::new(kind, EngineOptions::default());
    let e = &h.engine;
    run_with_activity(e, quick_retries()).await;
    let failure: Failure = ApplicationError::new("bad input").non_retryable().into();
    let closed = fail_until_closed(e, 1, failure).await;
    match closed.attributes {
        EventAttributes::ActivityTaskFailed { retry_state, .. } => {
            assert_eq!(retry_state, RetryState::NonRetryableFailure)
        }
        other => panic!("{other:?}"),
    }
    e.shutdown().await;
}

async fn start_to_close_timeout_retried(kind: Kind) {
    let h = Harness::new(kind, EngineOptions::default());
    let e = &h.engine;
    start(e, "w").await;
    let t = poll_wft(e).await;
    let mut cmd = activity(1, quick_retries().with_maximum_attempts(2));
    if let Command::ScheduleActivity(sa) = &mut cmd {
        sa.options.start_to_close_timeout = Some(Duration::from_millis(200));
    }
    complete(e, &t, vec![cmd]).await.unwrap();
    let a1 = poll_act(e).await;
    assert_eq!(a1.start_to_close_timeout, Some(Duration::from_millis(200)));
    // Not completed: attempt 2 follows the timeout.
    let a2 = poll_act(e).await;
    assert_eq!(a2.attempt, 2);
    assert!(matches!(
        e.complete_activity_task(a1.token, ActivityTaskResult::Completed(Payload::default()))
            .await,
        Err(BackendError::TaskNotFound(_))
    ));
    // Attempt 2 times out too: closed, and a workflow task follows.
    let t = poll_wft(e).await;
    let last = t.events.last().unwrap();
    match &last.attributes {
        EventAttributes::ActivityTaskTimedOut {
            failure: Failure::Timeout(timeout),
            retry_state,
            ..
        } => {
            assert_eq!(timeout.timeout_type, TimeoutType::StartToClose);
            assert_eq!(*retry_state, RetryState::MaximumAttemptsReached);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        names(&history(e, "w").await[5..]),
        ["ActivityTaskStarted", "ActivityTaskTimedOut"]
    );
    e.shutdown().await;
}

async fn payload_limits_refused(kind: Kind) {
    let options = EngineOptions {
        payload_limits: PayloadLimits {
            warn_bytes: 50,
            max_bytes: 100,
        },
        ..EngineOptions::default()
    };
    let h = Harness::new(kind, options);
    let e = &h.engine;
    let big = encode(&"x".repeat(200)).unwrap();
    let mut req = request("w", "r1");
    req.input = vec![big.clone()];
    let err = e.start_workflow(req).await.unwrap_err();
    assert!(matches!(err, BackendError::PayloadTooLarge(_)), "{err}");
    assert!(err.to_string().contains("workflow input is"), "{err}");
    run_with_activity(e, quick_retries()).await;
    let a = poll_act(e).await;
    // An oversized result fails its attempt at once, without retries.
    e.complete_activity_task(a.token.clone(), ActivityTaskResult::Completed(big.clone()))
        .await
        .unwrap();
    let err = e
        .complete_activity_task(a.token, ActivityTaskResult::Completed(encode(&1).unwrap()))
        .await
        .unwrap_err();
    assert!(matches!(err, BackendError::TaskNotFound(_)), "{err}");
    let t = poll_wft(e).await;
    assert!(names(&t.events).contains(&"ActivityTaskFailed"));
    let err = complete(e, &t, vec![Command::CompleteWorkflow { result: big }])
        .await
        .unwrap_err();
    assert!(err.to_string().contains("workflow result"), "{err}");
    // The refusal failed the task, with the reason; a new attempt follows.
    let t = poll_wft(e).await;
    complete(e, &t, vec![done("small")]).await.unwrap();
    e.shutdown().await;
}

async fn shutdown_ends_polls(kind: Kind) {
    let h = Harness::new(kind, EngineOptions::default());
    let e = h.engine.clone();
    let parked = tokio::spawn(async move { e.poll_workflow_task(NS, TQ).await });
    // Let the poll reach the engine before shutting down.
    tokio::task::yield_now().await;
    start(&h.engine, "other").await;
    let got = parked.await.unwrap().unwrap();
    assert!(got.is_some());
    let e = h.engine.clone();
    let parked = tokio::spawn(async move { e.poll_activity_task(NS, TQ).await });
    tokio::task::yield_now().await;
    h.engine.shutdown().await;
    assert!(parked.await.unwrap().unwrap().is_none());
    assert!(h.engine.poll_workflow_task(NS, TQ).await.unwrap().is_none());
    assert!(matches!(
        h.engine.start_workflow(request("x", "y")).await,
        Err(BackendError::Stopped(_))
    ));
}

#[tokio::test]
async fn restart_resumes_runs_activities_and_timers() {
    let h = Harness::new(Kind::Sqlite, EngineOptions::default());
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
    assert!(err.to_string().contains("newer"), "{err}");
    assert!(SqliteStore::open_read_only(&path).is_err());
}

#[tokio::test]
async fn failed_commit_stops_the_engine() {
    let fail = Arc::new(AtomicBool::new(false));
    let failing = fail.clone();
    let store = Hooked::new(move |_| {
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

/// Commits allowed (`usize::MAX`: all), and a signal when that changes.
type Permits = Arc<(std::sync::Mutex<usize>, std::sync::Condvar)>;

/// A store whose commits wait for permits the test hands out (none at
/// first).
fn gated() -> (Hooked, Permits) {
    let permits: Permits = Arc::new((std::sync::Mutex::new(0), std::sync::Condvar::new()));
    let held = permits.clone();
    let store = Hooked::new(move |_| {
        let (lock, changed) = &*held;
        let mut left = lock.lock().unwrap();
        while *left == 0 {
            left = changed.wait(left).unwrap();
        }
        if *left != usize::MAX {
            *left -= 1;
        }
        Ok(())
    });
    (store, permits)
}

fn allow(permits: &Permits, commits: usize) {
    let (lock, changed) = &**permits;
    *lock.lock().unwrap() = commits;
    changed.notify_all();
}

/// A workflow task only computes, so it is handed out while the commit that
/// scheduled it is still on its way; the start's acknowledgement, the
/// completion's, the activity it schedules and `wait_durable` wait for
/// their commits.
#[tokio::test]
async fn workflow_tasks_are_handed_out_before_their_commit_but_activities_wait() {
    use futures::poll;

    let (store, permits) = gated();
    let e = Engine::start(store, EngineOptions::default()).unwrap();
    let mut started = Box::pin(e.start_workflow(request("w", "r")));
    assert!(poll!(&mut started).is_pending());
    // Nothing is durable yet, and the task is out.
    let task = poll_wft(&e).await;
    assert_eq!(names(&task.events), ["WorkflowExecutionStarted"]);
    assert!(
        poll!(&mut started).is_pending(),
        "acknowledged before durable"
    );

    let completion = WorkflowTaskCompletion {
        token: task.token.clone(),
        commands: vec![activity(1, quick_retries())],
        sdk_flags: vec![1],
        identity: "test-worker".into(),
    };
    let mut completed = Box::pin(e.complete_workflow_task(completion));
    assert!(poll!(&mut completed).is_pending());
    let mut act = Box::pin(e.poll_activity_task(NS, TQ));
    assert!(poll!(&mut act).is_pending());
    let mut durable = Box::pin(e.wait_durable());
    assert!(poll!(&mut durable).is_pending());
    // The engine handles requests in order: once a later start's task is
    // out, the activity poll has been handled, and its task must still be
    // held back.
    let mut later = Box::pin(e.start_workflow(request("w2", "r2")));
    assert!(poll!(&mut later).is_pending());
    let second = poll_wft(&e).await;
    assert_eq!(second.workflow_id, "w2");
    assert!(
        poll!(&mut act).is_pending(),
        "activity dispatched before its schedule was durable"
    );
    assert!(
        poll!(&mut completed).is_pending(),
        "completion acknowledged before durable"
    );
    assert!(
        poll!(&mut durable).is_pending(),
        "wait_durable returned early"
    );

    allow(&permits, usize::MAX);
    durable.await.unwrap();
    assert!(started.await.unwrap().started);
    completed.await.unwrap();
    let act = match act.await {
        Ok(Some(act)) => act,
        other => panic!("expected the activity task, got {other:?}"),
    };
    assert_eq!(act.activity_type, "Charge");
    assert!(later.await.unwrap().started);
    e.shutdown().await;
}

/// A query is answered from what the worker has seen; the query task waits
/// until that is durable, so no client reads a signal or a completion that
/// a crash could still take back.
#[tokio::test]
async fn query_tasks_wait_for_the_commit_of_what_they_could_see() {
    use futures::poll;

    let (store, permits) = gated();
    allow(&permits, usize::MAX);
    let options = EngineOptions {
        group_commit: false,
        ..EngineOptions::default()
    };
    let e = Engine::start(store, options).unwrap();
    start(&e, "w").await;
    let t0 = poll_wft(&e).await;
    complete(&e, &t0, vec![]).await.unwrap();

    allow(&permits, 0);
    // A batch in flight that has nothing to do with the run.
    let mut other = request("w2", "r2");
    other.task_queue = "elsewhere".into();
    let mut other = Box::pin(e.start_workflow(other));
    assert!(poll!(&mut other).is_pending());
    // The query waits for that batch before it joins the run's queue.
    let mut answer = Box::pin(e.query_workflow(QueryRequest {
        namespace: NS.into(),
        workflow_id: "w".into(),
        run_id: None,
        query_name: "state".into(),
        input: vec![],
    }));
    assert!(poll!(&mut answer).is_pending());
    // A signal, not durable yet; its workflow task goes out at once.
    let mut signaled = Box::pin(e.signal_workflow(SignalRequest {
        namespace: NS.into(),
        workflow_id: "w".into(),
        run_id: None,
        signal_name: "s".into(),
        input: vec![],
        request_id: "sig-1".into(),
    }));
    assert!(poll!(&mut signaled).is_pending());
    let t1 = poll_wft(&e).await;
    assert!(t1.query.is_none());
    // Only the unrelated batch commits: the query joins the queue.
    allow(&permits, 1);
    assert!(other.await.unwrap().started);
    // The workflow task that saw the signal completes, not durable yet.
    let mut completed = Box::pin(complete(&e, &t1, vec![]));
    assert!(poll!(&mut completed).is_pending());
    let mut query_task = Box::pin(e.poll_workflow_task(NS, TQ));
    assert!(poll!(&mut query_task).is_pending());
    // Requests are handled in order: once a later start's task is out on
    // another queue, the poll has been handled.
    let mut barrier = request("w3", "r3");
    barrier.task_queue = "barrier".into();
    let mut barrier = Box::pin(e.start_workflow(barrier));
    assert!(poll!(&mut barrier).is_pending());
    poll_wft_on(&e, "barrier").await;
    assert!(
        poll!(&mut query_task).is_pending(),
        "query task handed out before the signal it sees was durable"
    );

    allow(&permits, usize::MAX);
    let task = match query_task.await {
        Ok(Some(task)) => task,
        other => panic!("expected the query task, got {other:?}"),
    };
    assert!(task.query.is_some());
    signaled.await.unwrap();
    completed.await.unwrap();
    e.respond_query(task.token.clone(), Ok(encode(&"seen").unwrap()))
        .await
        .unwrap();
    assert_eq!(answer.await.unwrap(), encode(&"seen").unwrap());
    assert!(barrier.await.unwrap().started);
    e.shutdown().await;
}

/// A file written by format version 1 kept a run's pending activities in
/// its state; opened by this version, the activity resumes, and the next
/// write moves it to a row of its own.
#[tokio::test]
async fn version_1_state_with_activities_is_read_and_moved() {
    let h = Harness::new(Kind::Sqlite, EngineOptions::default());
    let e = &h.engine;
    start(e, "w").await;
    let t = poll_wft(e).await;
    complete(
        e,
        &t,
        vec![activity(1, quick_retries()), activity(2, quick_retries())],
    )
    .await
    .unwrap();
    e.shutdown().await;
    // Turn the file into what version 1 wrote: the activities inside the
    // state, no activities table.
    {
        let conn = rusqlite::Connection::open(h.db()).unwrap();
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

    let e = Engine::start(SqliteStore::open(h.db()).unwrap(), EngineOptions::default()).unwrap();
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
        let conn = rusqlite::Connection::open(h.db()).unwrap();
        let state: Vec<u8> = conn
            .query_row("SELECT state FROM executions", [], |r| r.get(0))
            .unwrap();
        let state: serde_json::Value = serde_json::from_slice(&state).unwrap();
        assert!(state.get("activities").is_none(), "{state}");
        let rows: i64 = conn
            .query_row("SELECT count(*) FROM activities", [], |r| r.get(0))
            .unwrap();
        assert_eq!(rows, 2);
        let version: u32 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(version, 2);
    }
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
        e.wait_result(NS, "w", None).await.unwrap(),
        RunOutcome::Completed(_)
    ));
    e.shutdown().await;
    // Closed activities leave no rows.
    let conn = rusqlite::Connection::open(h.db()).unwrap();
    let rows: i64 = conn
        .query_row("SELECT count(*) FROM activities", [], |r| r.get(0))
        .unwrap();
    assert_eq!(rows, 0);
}

/// The activity writes in `batches`: (ids put, ids deleted).
fn activity_writes(batches: &[Vec<StoreOp>]) -> (Vec<i64>, Vec<i64>) {
    let (mut puts, mut deletes) = (Vec::new(), Vec::new());
    for op in batches.iter().flatten() {
        match op {
            StoreOp::PutActivity { id, .. } => puts.push(*id),
            StoreOp::DeleteActivity { id, .. } => deletes.push(*id),
            _ => {}
        }
    }
    (puts, deletes)
}

/// A step writes the activities it changed, not every pending one; a
/// closed run leaves no activity rows behind.
#[tokio::test]
async fn a_step_writes_only_the_activities_it_changed() {
    let batches = Arc::new(std::sync::Mutex::new(Vec::new()));
    let recorded = batches.clone();
    let store = Hooked::new(move |ops| {
        recorded.lock().unwrap().push(ops.to_vec());
        Ok(())
    });
    let e = Engine::start(store, EngineOptions::default()).unwrap();
    start(&e, "w").await;
    let t = poll_wft(&e).await;
    let three = (1..=3).map(|seq| activity(seq, quick_retries())).collect();
    complete(&e, &t, three).await.unwrap();
    let (puts, deletes) = activity_writes(&batches.lock().unwrap());
    assert_eq!((puts.len(), deletes.len()), (3, 0), "{puts:?}");

    let a = poll_act(&e).await;
    let seen = batches.lock().unwrap().len();
    e.complete_activity_task(
        a.token.clone(),
        ActivityTaskResult::Completed(encode(&1).unwrap()),
    )
    .await
    .unwrap();
    let (puts, deletes) = activity_writes(&batches.lock().unwrap()[seen..]);
    assert_eq!(puts, Vec::<i64>::new());
    assert_eq!(deletes, [a.token.task_id]);

    // Handing an attempt out is stored with the run's next write; a
    // heartbeat that changes no details is not.
    let b = poll_act(&e).await;
    let signal = |id: &str| SignalRequest {
        namespace: NS.into(),
        workflow_id: "w".into(),
        run_id: None,
        signal_name: "poke".into(),
        input: vec![],
        request_id: id.into(),
    };
    let seen = batches.lock().unwrap().len();
    e.signal_workflow(signal("s1")).await.unwrap();
    let (puts, _) = activity_writes(&batches.lock().unwrap()[seen..]);
    assert_eq!(puts, [b.token.task_id]);
    e.record_activity_heartbeat(b.token.clone(), vec![])
        .await
        .unwrap();
    let seen = batches.lock().unwrap().len();
    e.signal_workflow(signal("s2")).await.unwrap();
    let (puts, deletes) = activity_writes(&batches.lock().unwrap()[seen..]);
    assert_eq!((puts.len(), deletes.len()), (0, 0), "{puts:?}");

    // The run closes with two activities pending: their rows go with it.
    let t = poll_wft(&e).await;
    let seen = batches.lock().unwrap().len();
    complete(&e, &t, vec![done("early")]).await.unwrap();
    let (puts, mut deletes) = activity_writes(&batches.lock().unwrap()[seen..]);
    deletes.sort_unstable();
    assert_eq!(puts, Vec::<i64>::new());
    assert_eq!(deletes.len(), 2, "{deletes:?}");
    assert!(!deletes.contains(&a.token.task_id));
    e.shutdown().await;
}
