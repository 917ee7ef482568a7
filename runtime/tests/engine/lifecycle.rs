//! Starting runs under id policies, refusing oversized payloads, and shutting down.

use super::retries::run_with_activity;
use super::*;

both_stores!(start_policies, payload_limits_refused, shutdown_ends_polls,);

async fn start_policies(sqlite: bool) {
    let h = Harness::new(sqlite, EngineOptions::default());
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
    assert!(
        err.to_string()
            .contains("workflow \"w\" already started (run "),
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
    assert!(
        err.to_string().contains("workflow id must not be empty"),
        "{err}"
    );
    let err = e
        .start_workflow(request(&"x".repeat(1001), "r8"))
        .await
        .unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("workflow id is 1001 bytes, over the limit of 1000"),
        "{text}"
    );
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

async fn payload_limits_refused(sqlite: bool) {
    let options = EngineOptions {
        payload_limits: PayloadLimits {
            warn_bytes: 50,
            max_bytes: 100,
        },
        ..EngineOptions::default()
    };
    let h = Harness::new(sqlite, options);
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

async fn shutdown_ends_polls(sqlite: bool) {
    let h = Harness::new(sqlite, EngineOptions::default());
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
