//! Each pattern example's behaviour, on SQLite and on memory, with its
//! history pinned by a snapshot.

mod common;

use weft::Client;
use weft::engine::Engine;

use weft::history::{Event, EventAttributes};
use weft::replay::Replayer;
use weft_examples::{
    activity_choice, child_workflow, continue_as_new, custom_metrics, encryption, exceptions,
    local_activity, long_running_entity, parallel_activity, polling_frequent, polling_infrequent,
    tour, validated_models,
};

async fn history(client: &Client, id: &str) -> Vec<Event> {
    client
        .workflow_handle::<activity_choice::PurchaseFruits>(id, None)
        .history()
        .await
        .unwrap()
}

/// One line per event, without ids' values or times, for snapshots.
fn render(events: &[Event]) -> String {
    events
        .iter()
        .map(|e| {
            let detail = match &e.attributes {
                EventAttributes::ActivityTaskScheduled {
                    activity_type,
                    activity_id,
                    ..
                } => {
                    format!(" {activity_type} id={activity_id}")
                }
                EventAttributes::ActivityTaskStarted { attempt, .. } => {
                    format!(" attempt={attempt}")
                }
                EventAttributes::ActivityTaskFailed { retry_state, .. } => {
                    format!(" {retry_state:?}")
                }
                EventAttributes::MarkerRecorded { marker_name, .. } => format!(" {marker_name}"),
                EventAttributes::StartChildWorkflowExecutionInitiated {
                    workflow_type,
                    workflow_id,
                    parent_close_policy,
                    ..
                } => format!(" {workflow_type} id={workflow_id} {parent_close_policy:?}"),
                EventAttributes::ChildWorkflowExecutionStarted {
                    initiated_event_id, ..
                }
                | EventAttributes::ChildWorkflowExecutionCompleted {
                    initiated_event_id, ..
                } => {
                    format!(" initiated={initiated_event_id}")
                }
                EventAttributes::WorkflowTaskScheduled { attempt, .. } => {
                    format!(" attempt={attempt}")
                }
                _ => String::new(),
            };
            format!("{:>2} {}{detail}", e.event_id, e.attributes.name())
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn names(events: &[Event]) -> Vec<&'static str> {
    events.iter().map(|e| e.attributes.name()).collect()
}

each_backend! {
    activity_choice_orders_and_rejects_cherries(backend) {
        let env = on(backend).await;
        let w = activity_choice::worker(&env.client).start().unwrap();
        let lines = tour::activity_choice_run(&env.client).await.unwrap();
        assert_eq!(lines[0], "Ordered 8 Apples...Ordered 5 Bananas...");
        assert!(lines[1].contains("Unrecognized fruit: Cherry"), "{}", lines[1]);
        let events = history(&env.client, "activity-choice-1").await;
        insta::assert_snapshot!("activity_choice", render(&events));
        let failed = history(&env.client, "activity-choice-2").await;
        insta::assert_snapshot!("activity_choice_cherry", render(&failed));
        let mut replayer = Replayer::new();
        replayer.register_workflow::<activity_choice::PurchaseFruits>();
        replayer.replay(&events).unwrap();
        replayer.replay(&failed).unwrap();
        w.shutdown().await;
        env.shutdown().await;
    }

    parallel_activity_schedules_all_three_first(backend) {
        let env = on(backend).await;
        let w = parallel_activity::worker(&env.client).start().unwrap();
        let lines = tour::parallel_activity_run(&env.client).await.unwrap();
        assert_eq!(lines, ["Hello, user1!", "Hello, user2!", "Hello, user3!"]);
        let events = history(&env.client, "parallel-activity").await;
        let n = names(&events);
        assert_eq!(&n[..7], [
            "WorkflowExecutionStarted", "WorkflowTaskScheduled", "WorkflowTaskStarted",
            "WorkflowTaskCompleted", "ActivityTaskScheduled", "ActivityTaskScheduled",
            "ActivityTaskScheduled",
        ]);
        // The activities finish in any order, and how many workflow tasks
        // that takes varies, so the part after the three schedules is pinned
        // as counts of the other event types.
        let mut tail: Vec<&str> = n[7..]
            .iter()
            .copied()
            .filter(|name| !name.starts_with("WorkflowTask"))
            .collect();
        tail.sort();
        tail.dedup();
        let counts: Vec<String> = tail
            .iter()
            .map(|name| format!("{name} x{}", n[7..].iter().filter(|m| *m == name).count()))
            .collect();
        insta::assert_snapshot!(
            "parallel_activity",
            format!("{}\n-- then --\n{}", render(&events[..7]), counts.join("\n"))
        );
        let mut replayer = Replayer::new();
        replayer.register_workflow::<parallel_activity::SayHello>();
        replayer.replay(&events).unwrap();
        w.shutdown().await;
    }

    child_workflow_greets_through_two_children(backend) {
        let env = on(backend).await;
        let w = child_workflow::worker(&env.client).start().unwrap();
        let lines = child_workflow::run(&env.client).await.unwrap();
        assert_eq!(lines, ["Hello, World!", "Hi, World!"]);
        let parent = history(&env.client, "greeting-workflow").await;
        insta::assert_snapshot!("child_workflow_parent", render(&parent));
        let child = history(&env.client, "greeting-child-workflow-id").await;
        insta::assert_snapshot!("child_workflow_child", render(&child));
        let advanced = history(&env.client, "advanced-parent-workflow").await;
        assert_eq!(render(&advanced).replace("Abandon", "Terminate"), render(&parent).replace("greeting-child-workflow-id", "advanced-child-workflow-id").replace("Abandon", "Terminate"));
        let mut replayer = Replayer::new();
        replayer.register_workflow::<child_workflow::GreetingWorkflow>();
        replayer.register_workflow::<child_workflow::AdvancedParentWorkflow>();
        replayer.register_workflow::<child_workflow::ComposeGreetingWorkflow>();
        replayer.replay(&parent).unwrap();
        replayer.replay(&advanced).unwrap();
        replayer.replay(&child).unwrap();
        w.shutdown().await;
    }

    exceptions_prints_the_chain_with_three_attempts(backend) {
        let env = on(backend).await;
        let w = exceptions::worker(&env.client).start().unwrap();
        let lines = tour::exceptions_run(&env.client).await.unwrap();
        assert_eq!(lines[0], "WorkflowFailureError: Workflow execution failed");
        assert!(lines[1].contains("ActivityError: Activity task failed"), "{lines:?}");
        // Temporal's activity failure carries no attempt count (the book's
        // "Running on Temporal" lists it).
        let attempts = if backend.is_temporal() { "attempts: 0" } else { "attempts: 3" };
        assert!(lines[1].contains(attempts), "{lines:?}");
        assert!(lines[2].contains("ApplicationError: Processing failed for: test-data (type: RuntimeError)"), "{lines:?}");
        // What `main() -> Result<(), Box<dyn Error>>` prints: the chain.
        let err = exceptions::run(&env.client).await.unwrap_err();
        let debug = format!("{err:?}");
        assert!(debug.starts_with("WorkflowFailureError: Workflow execution failed\n\nCaused by:\n    0: ActivityError"), "{debug}");
        assert!(debug.ends_with("1: ApplicationError: Processing failed for: test-data (type: RuntimeError)"), "{debug}");
        let events = history(&env.client, "exception-workflow-id").await;
        assert_eq!(events.len(), 11, "retries add no events");
        insta::assert_snapshot!("exceptions", render(&events));
        w.shutdown().await;
    }

    continue_as_new_carries_state_across_runs(backend) {
        let env = on(backend).await;
        let w = continue_as_new::worker(&env.client).start().unwrap();
        let lines = tour::continue_as_new_run(&env.client).await.unwrap();
        assert_eq!(lines, ["3 runs, 30 iterations, processed_items 300"]);
        let handle = env.client.workflow_handle::<continue_as_new::LongRunningWorkflow>("long-running", None);
        assert_eq!(handle.describe().await.unwrap().run_chain.len(), 3);
        w.shutdown().await;
    }

    long_running_entity_updates_queries_and_closes(backend) {
        let env = on(backend).await;
        let w = long_running_entity::worker(&env.client).start().unwrap();
        let lines = tour::long_running_entity_run(&env.client).await.unwrap();
        assert_eq!(lines[0], "after adding 600: level Gold, 600 points, active");
        assert_eq!(lines[1], "after adding 500: level Platinum, 1100 points, active");
        assert!(lines[2].starts_with("rejected: "), "{lines:?}");
        assert!(lines[2].contains("Points must be a non-zero integer."), "{lines:?}");
        assert_eq!(lines[3], "query: level Platinum, 1100 points, active");
        assert_eq!(lines[4], "cancel: level Platinum, 1100 points, closed");
        assert_eq!(lines[5], "final: level Platinum, 1100 points, closed");
        let events = history(&env.client, "reward-account-42").await;
        let n = names(&events);
        // Three accepted updates, none for the rejected one; queries leave no trace.
        let accepted = n.iter().filter(|n| **n == "WorkflowExecutionUpdateAccepted").count();
        assert_eq!(accepted, 3, "{n:?}");
        let mut replayer = Replayer::new();
        replayer.register_workflow::<long_running_entity::CustomerRewardAccount>();
        replayer.replay(&events).unwrap();
        w.shutdown().await;
    }

    long_running_entity_opens_by_update_with_start(backend) {
        use long_running_entity::{
            AccountInput, AddPoints, CustomerRewardAccount, CustomerRewardAccountHandle, Level,
            TASK_QUEUE,
        };
        use weft::prelude::{IdConflictPolicy, WorkflowOptions};
        let env = on(backend).await;
        let client = &env.client;
        let w = long_running_entity::worker(client).start().unwrap();
        let input = AccountInput {
            user_id: "user-7".into(),
            starting_points: 0,
            starting_level: Level::Basic,
        };
        let steps = async {
            // ANCHOR: update_with_start
            let account = client.update_with_start(
                CustomerRewardAccount::run,
                input,
                WorkflowOptions::new("reward-account-7", TASK_QUEUE)
                    .id_conflict_policy(IdConflictPolicy::UseExisting)
                    .request_id("open-account-7"),
            )?;
            let status = account
                .with_update_id("welcome-points")
                .add_points(AddPoints { points: 100 })
                .await?;
            // ANCHOR_END: update_with_start
            assert_eq!(status.points, 100);
            // Sent again: neither a second run nor the points twice.
            let again = account
                .with_update_id("welcome-points")
                .add_points(AddPoints { points: 100 })
                .await?;
            assert_eq!(again.points, 100);
            let closed = account.with_update_id("close").cancel_account().await?;
            assert!(!closed.is_active);
            assert_eq!(account.result().await?.points, 100);
            Ok::<(), weft::ClientError>(())
        };
        steps.await.unwrap();
        w.shutdown().await;
    }

    long_running_entity_ends_canceled_when_cancelled(backend) {
        use long_running_entity::{
            AccountInput, AddPoints, CustomerRewardAccount, CustomerRewardAccountHandle, Level,
            TASK_QUEUE,
        };
        use weft::prelude::WorkflowOptions;
        let env = on(backend).await;
        let w = long_running_entity::worker(&env.client).start().unwrap();
        let input = AccountInput {
            user_id: "user-9".into(),
            starting_points: 0,
            starting_level: Level::Basic,
        };
        let options = WorkflowOptions::new("reward-account-9", TASK_QUEUE);
        let account = env
            .client
            .start_workflow(CustomerRewardAccount::run, input, options)
            .await
            .unwrap();
        // The update's answer means the run waits in its condition.
        account.add_points(AddPoints { points: 10 }).await.unwrap();
        account.cancel().await.unwrap();
        match account.result().await {
            Err(weft::ClientError::Workflow(e)) => {
                assert!(matches!(e.cause, weft::Failure::Canceled(_)), "{e:?}")
            }
            other => panic!("expected a canceled run, got {other:?}"),
        }
        let events = history(&env.client, "reward-account-9").await;
        assert_eq!(names(&events).last(), Some(&"WorkflowExecutionCanceled"));
        let mut replayer = Replayer::new();
        replayer.register_workflow::<CustomerRewardAccount>();
        replayer.replay(&events).unwrap();
        w.shutdown().await;
    }

    local_activity_records_markers_only(backend) {
        let env = on(backend).await;
        let w = local_activity::worker(&env.client).start().unwrap();
        let lines = tour::local_activity_run(&env.client).await.unwrap();
        assert_eq!(lines, ["Hello, Temporal!"]);
        let events = history(&env.client, "local-activity").await;
        let n = names(&events);
        assert_eq!(n.iter().filter(|n| **n == "MarkerRecorded").count(), 2);
        assert!(!n.iter().any(|n| n.starts_with("ActivityTask")), "{n:?}");
        insta::assert_snapshot!("local_activity", render(&events));
        w.shutdown().await;
    }

    polling_frequent_polls_exactly_until_ready(backend) {
        use polling_frequent::{ExternalService, READY_AFTER};
        let env = on(backend).await;
        let service = std::sync::Arc::new(ExternalService::new(READY_AFTER));
        let w = polling_frequent::worker_with(&env.client, service.clone()).start().unwrap();
        let lines = tour::polling_frequent_run(&env.client).await.unwrap();
        assert_eq!(lines, ["result: ready", format!("polls: {READY_AFTER}").as_str()]);
        assert_eq!(service.calls(), READY_AFTER);
        let events = history(&env.client, polling_frequent::WORKFLOW_ID).await;
        // One attempt; heartbeats leave no events.
        insta::assert_snapshot!("polling_frequent", render(&events));
        let mut replayer = Replayer::new();
        replayer.register_workflow::<polling_frequent::FrequentPolling>();
        replayer.replay(&events).unwrap();
        w.shutdown().await;
        env.shutdown().await;
    }

    polling_infrequent_polls_by_retrying_without_history(backend) {
        use polling_infrequent::{READY_AFTER, StatusService};
        let env = on(backend).await;
        let service = std::sync::Arc::new(StatusService::new(READY_AFTER));
        let jobs = std::sync::Arc::new(polling_infrequent::example_jobs());
        let w = polling_infrequent::worker_with(&env.client, service.clone(), jobs)
            .start()
            .unwrap();
        let lines = tour::polling_infrequent_run(&env.client).await.unwrap();
        assert_eq!(lines[..2], ["result: ready", format!("polls: {READY_AFTER}").as_str()]);
        assert_eq!(service.calls(), READY_AFTER);
        let events = history(&env.client, polling_infrequent::WORKFLOW_ID).await;
        let activity_events: Vec<_> = names(&events)
            .into_iter()
            .filter(|n| n.starts_with("ActivityTask"))
            .collect();
        assert_eq!(
            activity_events,
            ["ActivityTaskScheduled", "ActivityTaskStarted", "ActivityTaskCompleted"],
            "{READY_AFTER} polls are one activity: its retries add no events"
        );
        let attempts: Vec<u32> = events
            .iter()
            .filter_map(|e| match &e.attributes {
                EventAttributes::ActivityTaskStarted { attempt, .. } => Some(*attempt),
                _ => None,
            })
            .collect();
        assert_eq!(attempts, [READY_AFTER]);
        insta::assert_snapshot!("polling_infrequent", render(&events));
        let mut replayer = Replayer::new();
        replayer.register_workflow::<polling_infrequent::InfrequentPolling>();
        replayer.replay(&events).unwrap();
        w.shutdown().await;
        env.shutdown().await;
    }

    job_monitoring_checks_until_done_and_stops_at_a_failed_job(backend) {
        use polling_infrequent::{JobEnd, JobSystem, StatusService, monitor_job};
        let env = on(backend).await;
        let service = std::sync::Arc::new(StatusService::new(1));
        let jobs = JobSystem::default()
            .with_job("done", 3, JobEnd::Completed)
            .with_job("broken", 2, JobEnd::Failed("disk full".into()));
        let w = polling_infrequent::worker_with(&env.client, service, std::sync::Arc::new(jobs))
            .start()
            .unwrap();
        assert!(monitor_job(&env.client, "done").await.unwrap());
        let started = |events: &[Event]| -> Vec<u32> {
            events
                .iter()
                .filter_map(|e| match &e.attributes {
                    EventAttributes::ActivityTaskStarted { attempt, .. } => Some(*attempt),
                    _ => None,
                })
                .collect()
        };
        let done = history(&env.client, "monitor-done").await;
        assert_eq!(started(&done), [3], "completed on its third check");
        // The failed job is not checked again: its failure type is listed
        // as non-retryable, so attempt 2 is the last.
        let Err(weft::ClientError::Workflow(failure)) = monitor_job(&env.client, "broken").await
        else {
            panic!("a failed job fails the workflow");
        };
        let chain = format!("{failure:#}");
        assert!(chain.contains("Job broken failed: disk full"), "{chain}");
        let weft::Failure::Activity(activity) = &failure.cause else {
            panic!("caused by the activity: {chain}");
        };
        assert_eq!(activity.retry_state, weft::RetryState::NonRetryableFailure);
        let broken = history(&env.client, "monitor-broken").await;
        assert_eq!(started(&broken), [2]);
        assert!(names(&broken).contains(&"ActivityTaskFailed"));
        // An unknown job fails at once, and says which.
        let Err(weft::ClientError::Workflow(unknown)) = monitor_job(&env.client, "ghost").await
        else {
            panic!("an unknown job fails the workflow");
        };
        assert!(format!("{unknown:#}").contains("no job ghost"), "{unknown:#}");
        let mut replayer = Replayer::new();
        replayer.register_workflow::<polling_infrequent::JobMonitoring>();
        for events in [&done, &broken] {
            replayer.replay(events).unwrap();
        }
        w.shutdown().await;
    }

    custom_metrics_scrapes_the_interceptors_metrics_over_http(backend) {
        let env = on(backend).await;
        let w = custom_metrics::worker(&env.client).start().unwrap();
        let lines = custom_metrics::run(&env.client).await.unwrap();
        assert!(lines[0].starts_with("Result: Hello, metrics! "), "{}", lines[0]);
        // The process's one registry is shared by this test's two stores:
        // look for the series, not for counts.
        let has = |prefix: &str| lines.iter().any(|l| l.starts_with(prefix));
        assert!(has("activity_schedule_to_start_latency_bucket{"), "{lines:#?}");
        assert!(has("activity_schedule_to_start_latency_count{"), "{lines:#?}");
        assert!(lines.iter().any(|l| l.contains("workflow_type=\"MyWorkflow\",activity_type=\"my_activity\"")), "{lines:#?}");
        assert!(has("activity_executions_total{service_name=\"weft\",status=\"started\"}"), "{lines:#?}");
        assert!(has("activity_executions_total{service_name=\"weft\",status=\"completed\"}"), "{lines:#?}");
        w.shutdown().await;
        env.shutdown().await;
    }

    encryption_stores_ciphertext_and_returns_the_plain_result(backend) {
        let env = on(backend).await;
        let w = encryption::worker(&env.client).start().unwrap();
        let lines = encryption::run(&env.client).await.unwrap();
        assert!(
            lines[0].starts_with("stored input: binary/encrypted (key production-key-id, "),
            "{}",
            lines[0]
        );
        assert_eq!(lines[1], "Result: Hello, encrypted world!");
        // As stored, no payload reads in plain text.
        let stored = history(&env.client, encryption::WORKFLOW_ID).await;
        let text = format!("{stored:?}");
        assert!(!text.contains("encrypted world"), "{text}");
        insta::assert_snapshot!("encryption", render(&stored));
        w.shutdown().await;
        env.shutdown().await;
    }

    validated_models_process_valid_users_and_refuse_an_invalid_one(backend) {
        let env = on(backend).await;
        let w = validated_models::worker(&env.client).start().unwrap();
        let lines = validated_models::run(&env.client).await.unwrap();
        assert_eq!(lines[0], "Processed 2 users");
        assert!(lines[1].starts_with("client refused: "), "{}", lines[1]);
        assert!(lines[1].contains("user_id must be positive"), "{}", lines[1]);
        assert!(lines[2].starts_with("worker refused: "), "{}", lines[2]);
        assert!(lines[2].contains("user_id must be positive"), "{}", lines[2]);
        assert!(lines[2].contains("ValidationError, non-retryable"), "{}", lines[2]);
        // The refused run failed in its first workflow task, before any
        // activity was scheduled.
        let refused = history(&env.client, "validated-models-3").await;
        insta::assert_snapshot!("validated_models_refused", render(&refused));
        let events = history(&env.client, "validated-models-1").await;
        insta::assert_snapshot!("validated_models", render(&events));
        w.shutdown().await;
        env.shutdown().await;
    }

    polling_frequent_resumes_from_the_last_heartbeat_after_a_heartbeat_timeout(backend) {
        use polling_frequent::{ExternalService, READY_AFTER};
        let env = on(backend).await;
        // Call 3 hangs: attempt 1 stops heartbeating, its heartbeat timeout
        // fails it, and attempt 2 (whose first call ends the hang) goes on
        // from the count of the last heartbeat the engine received: 2,
        // flushed by the throttle after the first one (1) went out at once.
        let service = std::sync::Arc::new(ExternalService::new(READY_AFTER).hanging_on_call(3));
        let w = polling_frequent::worker_with(&env.client, service.clone()).start().unwrap();
        let lines = tour::polling_frequent_run(&env.client).await.unwrap();
        // 2 from attempt 1, then calls 4 and 5; the hung call 3 was lost
        // with its attempt.
        assert_eq!(lines, ["result: ready", "polls: 4"]);
        let events = history(&env.client, polling_frequent::WORKFLOW_ID).await;
        let started = events
            .iter()
            .find_map(|e| match &e.attributes {
                EventAttributes::ActivityTaskStarted { attempt, last_failure, .. } => {
                    Some((*attempt, last_failure.clone()))
                }
                _ => None,
            })
            .unwrap();
        assert_eq!(started.0, 2);
        let Some(weft::Failure::Timeout(timeout)) = started.1 else {
            panic!("attempt 1 should have timed out: {:?}", started.1);
        };
        assert_eq!(timeout.timeout_type, weft::failure::TimeoutType::Heartbeat);
        // As Temporal records it, the retried attempt's last failure names
        // no heartbeat details: attempt 2 was handed them (2) as its own,
        // which the count of polls above shows.
        assert!(timeout.last_heartbeat_details.is_empty(), "{timeout:?}");
        // The worker stops only once attempt 1, told to stop by the answer
        // to its next heartbeat, has returned.
        w.shutdown().await;
        env.shutdown().await;
    }

    polling_frequent_stops_when_a_heartbeat_answer_says_so(backend) {
        use polling_frequent::{ExternalService, FrequentPolling, SERVICE_URL, TASK_QUEUE};
        let env = on(backend).await;
        let service = std::sync::Arc::new(ExternalService::new(u32::MAX));
        let w = polling_frequent::worker_with(&env.client, service.clone()).start().unwrap();
        let handle = env
            .client
            .start_workflow(
                FrequentPolling::run,
                SERVICE_URL.to_string(),
                weft::WorkflowOptions::new("polling-forever", TASK_QUEUE),
            )
            .await
            .unwrap();
        service.watch_calls().wait_for(|c| *c >= 2).await.unwrap();
        // The run is gone: the activity's next heartbeat is answered with
        // "stop", and the poll loop returns its cancellation error.
        handle.terminate("no longer needed").await.unwrap();
        // Shutdown waits for running activities, so returning at all means
        // the loop ended.
        tokio::time::timeout(std::time::Duration::from_secs(10), w.shutdown())
            .await
            .expect("the polling activity stopped");
        let calls = service.calls();
        assert!(calls >= 2, "{calls}");
        env.shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rerun_on_the_same_file_reads_stored_results_without_running_again() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tour.db");
    let first = {
        let engine = Engine::sqlite(&path).await.unwrap();
        let rows = weft_examples::tour::run(&Client::new(engine.clone()))
            .await
            .unwrap();
        engine.shutdown().await;
        rows
    };
    let engine = Engine::sqlite(&path).await.unwrap();
    let client = Client::new(engine.clone());
    let ids = [
        "exception-workflow-id",
        "reward-account-42",
        "activity-choice-1",
        polling_frequent::WORKFLOW_ID,
        polling_infrequent::WORKFLOW_ID,
        weft_examples::tour::CANCELLATION_ID,
        weft_examples::tour::MAINTENANCE_ID,
        custom_metrics::WORKFLOW_ID,
        encryption::WORKFLOW_ID,
        "validated-models-1",
    ];
    let mut lengths_before = Vec::new();
    for id in ids {
        lengths_before.push(history(&client, id).await.len());
    }
    let second = weft_examples::tour::run(&client).await.unwrap();
    for (a, b) in first.iter().zip(&second) {
        assert_eq!(a.pattern, b.pattern);
        let (Ok(a_lines), Ok(b_lines)) = (&a.result, &b.result) else {
            panic!("{}: {:?} / {:?}", a.pattern, a.result, b.result);
        };
        if a.pattern == "Custom Metrics" {
            // Metrics belong to the process that measured them: the second
            // run finds the workflow done and runs no activity to measure.
            assert_eq!(a_lines[0], b_lines[0]);
            continue;
        }
        for (x, y) in a_lines.iter().zip(b_lines) {
            // A rejected update leaves no trace, so on the closed account
            // the second run's one is refused for that reason instead; a
            // query reads the account as it is now: closed.
            if x.starts_with("rejected: ") {
                assert!(y.starts_with("rejected: "), "{y}");
            } else if x.starts_with("query: ") {
                assert!(y.ends_with("closed"), "{y}");
            } else {
                assert_eq!(x, y, "{}", a.pattern);
            }
        }
        assert_eq!(a_lines.len(), b_lines.len(), "{}", a.pattern);
    }
    for (id, before) in ids.iter().zip(lengths_before) {
        assert_eq!(history(&client, id).await.len(), before, "{id} ran again");
    }
    assert!(first.iter().all(|r| r.result.is_ok()), "{first:?}");
    engine.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn long_running_entity_continues_as_new_and_keeps_the_exact_total() {
    use weft::engine::{EngineOptions, SqliteStore};
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path().join("can.db")).unwrap();
    // A low threshold, so the account continues as new during the run.
    let options = EngineOptions {
        continue_as_new_suggested_events: 12,
        ..EngineOptions::default()
    };
    let engine = Engine::start(store, options).unwrap();
    let client = Client::new(engine.clone());
    let w = long_running_entity::worker(&client).start().unwrap();
    let lines = tour::long_running_entity_run(&client).await.unwrap();
    assert_eq!(lines[5], "final: level Platinum, 1100 points, closed");
    let handle = client
        .workflow_handle::<long_running_entity::CustomerRewardAccount>("reward-account-42", None);
    let chain = handle.describe().await.unwrap().run_chain;
    assert!(
        chain.len() >= 2,
        "continued as new at least once: {chain:?}"
    );
    w.shutdown().await;
    engine.shutdown().await;
}
