//! Activity retries: none reach history; attempts, non-retryable failures and timeouts end them.

use super::*;

both_stores!(
    activity_retries_add_no_events,
    maximum_attempts,
    non_retryable_failure,
    start_to_close_timeout_retried,
);

/// Starts a run whose first task schedules one activity with `policy`.
pub(crate) async fn run_with_activity(e: &Engine, policy: RetryPolicy) {
    start(e, "w").await;
    let t = poll_wft(e).await;
    complete(e, &t, vec![activity(1, policy)]).await.unwrap();
}

async fn activity_retries_add_no_events(sqlite: bool) {
    let h = Harness::new(sqlite, EngineOptions::default());
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

async fn maximum_attempts(sqlite: bool) {
    let h = Harness::new(sqlite, EngineOptions::default());
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

async fn non_retryable_failure(sqlite: bool) {
    let h = Harness::new(sqlite, EngineOptions::default());
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

async fn start_to_close_timeout_retried(sqlite: bool) {
    let h = Harness::new(sqlite, EngineOptions::default());
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
