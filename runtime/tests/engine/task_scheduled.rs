//! Where a workflow task's `WorkflowTaskScheduled` lands: before what
//! arrives while the task waits for a worker, after what signal-with-start
//! writes with the start, and before a close from outside; a task running
//! at such a close is recorded as force-closed. Temporal's histories have
//! these shapes.

use super::*;

both_stores!(
    facts_arriving_while_a_task_waits_follow_its_scheduled_event,
    a_failed_task_keeps_the_scheduled_event_written_while_it_waited,
    signal_with_start_writes_the_signal_before_the_first_task,
    a_run_terminated_before_its_first_task,
    a_run_terminated_while_its_task_runs,
    a_run_timed_out_while_its_task_runs,
    the_next_task_starts_after_what_the_last_one_was_handed,
);

/// The task events' ids: each started and completed event names the
/// scheduled event before it, and ids run 1, 2, 3, ...
fn assert_task_links(hist: &[Event]) {
    let mut scheduled = None;
    for (i, e) in hist.iter().enumerate() {
        assert_eq!(e.event_id, i as i64 + 1, "ids run without gaps");
        match &e.attributes {
            EventAttributes::WorkflowTaskScheduled { .. } => scheduled = Some(e.event_id),
            EventAttributes::WorkflowTaskStarted {
                scheduled_event_id, ..
            }
            | EventAttributes::WorkflowTaskCompleted {
                scheduled_event_id, ..
            }
            | EventAttributes::WorkflowTaskFailed {
                scheduled_event_id, ..
            } => assert_eq!(Some(*scheduled_event_id), scheduled, "event {}", e.event_id),
            _ => {}
        }
    }
}

async fn facts_arriving_while_a_task_waits_follow_its_scheduled_event(sqlite: bool) {
    let h = Harness::new(sqlite, EngineOptions::default());
    let e = &h.engine;
    start(e, "w").await;
    e.signal_workflow(signal("w", "s1")).await.unwrap();
    e.signal_workflow(signal("w", "s2")).await.unwrap();
    assert_eq!(
        names(&history(e, "w").await),
        [
            "WorkflowExecutionStarted",
            "WorkflowTaskScheduled",
            "WorkflowExecutionSignaled",
            "WorkflowExecutionSignaled",
        ]
    );
    let t = poll_wft(e).await;
    assert_eq!(names(&t.events).len(), 4, "the task carries all of it");
    complete(e, &t, vec![activity(1, quick_retries())])
        .await
        .unwrap();
    // A fact arriving after the task completed makes a task ready; the
    // next one is written after the scheduled event of that task.
    let a = poll_act(e).await;
    e.complete_activity_task(a.token, ActivityTaskResult::Completed(encode(&1).unwrap()))
        .await
        .unwrap();
    e.signal_workflow(signal("w", "s3")).await.unwrap();
    let t = poll_wft(e).await;
    complete(e, &t, vec![done("ok")]).await.unwrap();
    let hist = history(e, "w").await;
    assert_eq!(
        names(&hist[4..]),
        [
            "WorkflowTaskStarted",
            "WorkflowTaskCompleted",
            "ActivityTaskScheduled",
            "ActivityTaskStarted",
            "ActivityTaskCompleted",
            "WorkflowTaskScheduled",
            "WorkflowExecutionSignaled",
            "WorkflowTaskStarted",
            "WorkflowTaskCompleted",
            "WorkflowExecutionCompleted",
        ]
    );
    assert_task_links(&hist);
    e.shutdown().await;
}

async fn a_failed_task_keeps_the_scheduled_event_written_while_it_waited(sqlite: bool) {
    let h = Harness::new(sqlite, EngineOptions::default());
    let e = &h.engine;
    start(e, "w").await;
    e.signal_workflow(signal("w", "s1")).await.unwrap();
    let t = poll_wft(e).await;
    e.fail_workflow_task(t.token.clone(), app_failure("bug"), false)
        .await
        .unwrap();
    let t = poll_wft(e).await;
    assert_eq!(t.attempt, 2);
    complete(e, &t, vec![done("ok")]).await.unwrap();
    let hist = history(e, "w").await;
    assert_eq!(
        names(&hist),
        [
            "WorkflowExecutionStarted",
            "WorkflowTaskScheduled",
            "WorkflowExecutionSignaled",
            "WorkflowTaskStarted",
            "WorkflowTaskFailed",
            "WorkflowTaskScheduled",
            "WorkflowTaskStarted",
            "WorkflowTaskCompleted",
            "WorkflowExecutionCompleted",
        ]
    );
    assert_task_links(&hist);
    e.shutdown().await;
}

async fn signal_with_start_writes_the_signal_before_the_first_task(sqlite: bool) {
    let h = Harness::new(sqlite, EngineOptions::default());
    let e = &h.engine;
    e.signal_with_start(request("w", "r"), "add".into(), vec![encode(&"a").unwrap()])
        .await
        .unwrap();
    // A second signal finds the task waiting: it follows the scheduled
    // event.
    e.signal_workflow(signal("w", "s2")).await.unwrap();
    let hist = history(e, "w").await;
    assert_eq!(
        names(&hist),
        [
            "WorkflowExecutionStarted",
            "WorkflowExecutionSignaled",
            "WorkflowTaskScheduled",
            "WorkflowExecutionSignaled",
        ]
    );
    let t = poll_wft(e).await;
    complete(e, &t, vec![done("ok")]).await.unwrap();
    assert_task_links(&history(e, "w").await);
    e.shutdown().await;
}

fn terminate(workflow_id: &str) -> weft::backend::TerminateRequest {
    weft::backend::TerminateRequest {
        namespace: NS.into(),
        workflow_id: workflow_id.into(),
        run_id: None,
        reason: "enough".into(),
        details: Vec::new(),
    }
}

async fn a_run_terminated_before_its_first_task(sqlite: bool) {
    let h = Harness::new(sqlite, EngineOptions::default());
    let e = &h.engine;
    start(e, "w").await;
    e.terminate_workflow(terminate("w")).await.unwrap();
    assert_eq!(
        names(&history(e, "w").await),
        [
            "WorkflowExecutionStarted",
            "WorkflowTaskScheduled",
            "WorkflowExecutionTerminated",
        ]
    );
    e.shutdown().await;
}

/// The cause and message of the run's one `WorkflowTaskFailed`.
fn task_failure(hist: &[Event]) -> (WorkflowTaskFailedCause, String) {
    let failed = hist.iter().find_map(|e| match &e.attributes {
        EventAttributes::WorkflowTaskFailed { cause, failure, .. } => {
            Some((*cause, failure.to_string()))
        }
        _ => None,
    });
    failed.expect("a WorkflowTaskFailed event")
}

async fn a_run_terminated_while_its_task_runs(sqlite: bool) {
    let h = Harness::new(sqlite, EngineOptions::default());
    let e = &h.engine;
    start(e, "w").await;
    let t = poll_wft(e).await;
    e.signal_workflow(signal("w", "s1")).await.unwrap();
    e.terminate_workflow(terminate("w")).await.unwrap();
    let hist = history(e, "w").await;
    assert_eq!(
        names(&hist),
        [
            "WorkflowExecutionStarted",
            "WorkflowTaskScheduled",
            "WorkflowTaskStarted",
            "WorkflowTaskFailed",
            "WorkflowExecutionSignaled",
            "WorkflowExecutionTerminated",
        ]
    );
    assert_task_links(&hist);
    let (cause, message) = task_failure(&hist);
    assert_eq!(cause, WorkflowTaskFailedCause::ForceCloseCommand);
    assert!(message.contains("terminated"), "{message}");
    // The task's worker learns the run is gone when it completes.
    assert!(matches!(
        complete(e, &t, vec![done("late")]).await,
        Err(BackendError::TaskNotFound(_))
    ));
    assert_eq!(history(e, "w").await.len(), hist.len());
    e.shutdown().await;
}

async fn a_run_timed_out_while_its_task_runs(sqlite: bool) {
    let h = Harness::new(sqlite, EngineOptions::default());
    let e = &h.engine;
    let mut req = request("w", "r");
    req.run_options.run_timeout = Some(Duration::from_millis(300));
    e.start_workflow(req).await.unwrap();
    let _held = poll_wft(e).await;
    let outcome = e.wait_result(NS, "w", None).await.unwrap();
    assert!(matches!(outcome, RunOutcome::TimedOut(_)), "{outcome:?}");
    let hist = history(e, "w").await;
    assert_eq!(
        names(&hist),
        [
            "WorkflowExecutionStarted",
            "WorkflowTaskScheduled",
            "WorkflowTaskStarted",
            "WorkflowTaskFailed",
            "WorkflowExecutionTimedOut",
        ]
    );
    let (cause, message) = task_failure(&hist);
    assert_eq!(cause, WorkflowTaskFailedCause::ForceCloseCommand);
    assert!(message.contains("timed out"), "{message}");
    e.shutdown().await;
}

/// A scheduled event written while the task waited survives a restart:
/// the task handed out after it is completed against that event, and none
/// is written twice.
#[tokio::test]
async fn a_scheduled_event_written_before_a_restart_is_used_after_it() {
    let h = Harness::new(true, EngineOptions::default());
    let e = &h.engine;
    start(e, "w").await;
    e.signal_workflow(signal("w", "s1")).await.unwrap();
    e.shutdown().await;

    let e = Engine::start(SqliteStore::open(h.db()).unwrap(), EngineOptions::default()).unwrap();
    let t = poll_wft(&e).await;
    assert_eq!(
        names(&t.events),
        [
            "WorkflowExecutionStarted",
            "WorkflowTaskScheduled",
            "WorkflowExecutionSignaled",
        ]
    );
    complete(&e, &t, vec![done("ok")]).await.unwrap();
    let hist = history(&e, "w").await;
    assert_eq!(
        names(&hist),
        [
            "WorkflowExecutionStarted",
            "WorkflowTaskScheduled",
            "WorkflowExecutionSignaled",
            "WorkflowTaskStarted",
            "WorkflowTaskCompleted",
            "WorkflowExecutionCompleted",
        ]
    );
    assert_task_links(&hist);
    e.shutdown().await;
}

/// A worker that keeps the run cached has applied every event a task
/// handed it, its scheduled event included when that was written while the
/// task waited: the next task starts right after them (else the worker
/// would take its cache for stale and replay the whole history).
async fn the_next_task_starts_after_what_the_last_one_was_handed(sqlite: bool) {
    let h = Harness::new(sqlite, EngineOptions::default());
    let e = &h.engine;
    start(e, "w").await;
    e.signal_workflow(signal("w", "s1")).await.unwrap();
    let t1 = poll_wft(e).await;
    let seen = t1.events.last().map(|e| e.event_id).unwrap();
    assert_eq!(seen, 3, "started, scheduled, signaled");
    let timer = Command::StartTimer {
        seq: 1,
        duration: Duration::from_secs(3600),
    };
    complete(e, &t1, vec![timer]).await.unwrap();
    e.signal_workflow(signal("w", "s2")).await.unwrap();
    let t2 = poll_wft(e).await;
    assert_eq!(t2.first_event_id, seen + 1);
    assert_eq!(t2.events.first().map(|e| e.event_id), Some(seen + 1));
    assert_eq!(
        names(&t2.events),
        [
            "WorkflowTaskStarted",
            "WorkflowTaskCompleted",
            "TimerStarted",
            "WorkflowExecutionSignaled",
        ]
    );
    e.shutdown().await;
}
