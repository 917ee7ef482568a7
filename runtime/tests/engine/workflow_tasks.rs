//! Workflow tasks: the layout of a completion in history, events that arrive while a task runs, stale tokens, failures and timeouts.

use super::*;

both_stores!(
    completion_layout,
    buffered_events_follow_commands,
    terminal_refused_while_events_wait,
    stale_tokens_refused,
    wft_failure_written_once,
    wft_timeout_redelivers,
    a_run_sets_its_own_task_timeout,
);

async fn completion_layout(sqlite: bool) {
    let h = Harness::new(sqlite, EngineOptions::default());
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
                input: vec![encode(&"k").unwrap()],
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

async fn buffered_events_follow_commands(sqlite: bool) {
    let h = Harness::new(sqlite, EngineOptions::default());
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

async fn terminal_refused_while_events_wait(sqlite: bool) {
    let h = Harness::new(sqlite, EngineOptions::default());
    let e = &h.engine;
    let (t2, a2) = two_activities_one_done(e).await;
    e.complete_activity_task(a2.token, ActivityTaskResult::Completed(encode(&2).unwrap()))
        .await
        .unwrap();
    let err = complete(e, &t2, vec![done("too early")]).await.unwrap_err();
    assert!(matches!(err, BackendError::UnhandledCommand(_)), "{err}");
    let hist = history(e, "w").await;
    // The refused task fails with Temporal's cause, then the buffered
    // events are written; the next task is a first attempt.
    assert_eq!(
        names(&hist[8..]),
        [
            "WorkflowTaskScheduled",
            "WorkflowTaskStarted",
            "WorkflowTaskFailed",
            "ActivityTaskStarted",
            "ActivityTaskCompleted"
        ]
    );
    assert!(matches!(
        hist[10].attributes,
        EventAttributes::WorkflowTaskFailed {
            cause: WorkflowTaskFailedCause::UnhandledCommand,
            ..
        }
    ));
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

async fn stale_tokens_refused(sqlite: bool) {
    let h = Harness::new(sqlite, EngineOptions::default());
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

async fn wft_failure_written_once(sqlite: bool) {
    let h = Harness::new(sqlite, EngineOptions::default());
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

async fn wft_timeout_redelivers(sqlite: bool) {
    let options = EngineOptions {
        workflow_task_timeout: Duration::from_millis(200),
        ..EngineOptions::default()
    };
    let h = Harness::new(sqlite, options);
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

/// A start's task timeout overrides the engine's: the task is handed out
/// again after it, and the scheduled event records it.
async fn a_run_sets_its_own_task_timeout(sqlite: bool) {
    let h = Harness::new(sqlite, EngineOptions::default());
    let e = &h.engine;
    let mut req = request("own-timeout", "r");
    req.run_options.task_timeout = Some(Duration::from_millis(200));
    e.start_workflow(req).await.unwrap();
    let t1 = poll_wft(e).await;
    assert_eq!(t1.timeout, Duration::from_millis(200));
    let t2 = poll_wft(e).await;
    assert_eq!(t2.attempt, 2);
    complete(e, &t2, vec![done("late")]).await.unwrap();
    let hist = history(e, "own-timeout").await;
    assert!(names(&hist).contains(&"WorkflowTaskTimedOut"));
    assert!(matches!(
        hist[1].attributes,
        EventAttributes::WorkflowTaskScheduled { start_to_close_timeout, .. }
            if start_to_close_timeout == Duration::from_millis(200)
    ));
    e.shutdown().await;
}
