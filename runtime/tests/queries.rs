//! Queries end to end: a hand-written `Workflow::query`, answered by a
//! worker from the cached run or a replay, on running and closed runs,
//! never recorded, on both stores.

mod support;

use support::counter::Counter;
use support::{env, names, strict, within};

use std::time::Duration;

use weft::backend::BackendError;
use weft::converter;
use weft::{Client, ClientError, Failure, WorkerOptions, Workflow, WorkflowOptions};

const QUEUE: &str = "queries";

fn worker(client: &Client, options: WorkerOptions) -> weft::worker::WorkerHandle {
    support::start_worker::<Counter>(client, QUEUE, options)
}

fn message(failure: &Failure) -> String {
    format!("{failure:#}")
}

both_stores! {
    queries_see_the_state_during_the_run_between_updates_and_after_completion(sqlite) {
        for cache in [1000, 0] {
            let env = env(sqlite).await;
            let w = worker(&env.client, strict(cache));
            let id = format!("q-{cache}");
            let h = env
                .client
                .start_workflow(Counter::run, id.clone(), WorkflowOptions::new(&id, QUEUE))
                .await
                .unwrap();
            // Before the first task completes the query waits for it.
            assert_eq!(within(h.query::<i64>("total", &())).await.unwrap(), 0);
            assert_eq!(within(h.update::<i64>("add", &5)).await.unwrap(), 5);
            assert_eq!(within(h.query::<i64>("total", &())).await.unwrap(), 5);
            assert_eq!(within(h.query::<i64>("plus", &10)).await.unwrap(), 15);
            assert_eq!(within(h.update::<i64>("add", &2)).await.unwrap(), 7);
            assert_eq!(within(h.query::<i64>("total", &())).await.unwrap(), 7);
            let before = h.history().await.unwrap();
            for _ in 0..3 {
                assert_eq!(within(h.query::<u32>("applied", &())).await.unwrap(), 2);
            }
            // Queries leave no trace in history.
            assert_eq!(h.history().await.unwrap(), before);
            h.signal("finish", &()).await.unwrap();
            let totals = within(h.result()).await.unwrap();
            assert_eq!(totals.total, 7);
            // A closed run answers from a replay of its history.
            assert_eq!(within(h.query::<i64>("total", &())).await.unwrap(), 7);
            let latest = env.client.workflow_handle::<Counter>(&id, None);
            assert_eq!(within(latest.query::<i64>("plus", &1)).await.unwrap(), 8);
            let events = h.history().await.unwrap();
            assert!(names(&events).iter().all(|n| !n.contains("Query")));
            w.shutdown().await;
        }
    }

    unknown_query_bad_input_and_failing_handler_error_clearly(sqlite) {
        let env = env(sqlite).await;
        let w = worker(&env.client, WorkerOptions::default());
        let h = env
            .client
            .start_workflow(Counter::run, "bad".to_string(), WorkflowOptions::new("bad", QUEUE))
            .await
            .unwrap();
        match within(h.query::<i64>("no_such_query", &())).await {
            Err(ClientError::Query(f)) => {
                let m = message(&f);
                assert!(m.contains("unknown query") && m.contains("no_such_query"), "{m}");
            }
            other => panic!("expected a query error, got {other:?}"),
        }
        match within(h.query::<i64>("plus", &"not a number")).await {
            Err(ClientError::Query(f)) => assert!(!message(&f).is_empty()),
            other => panic!("expected a query error, got {other:?}"),
        }
        match within(h.query_payloads("plus", vec![])).await {
            Err(ClientError::Query(f)) => assert!(message(&f).contains("argument"), "{f:#}"),
            other => panic!("expected a query error, got {other:?}"),
        }
        match within(h.query::<i64>("fail", &())).await {
            Err(ClientError::Query(f)) => assert!(message(&f).contains("always fails"), "{f:#}"),
            other => panic!("expected a query error, got {other:?}"),
        }
        // The workflow keeps running.
        assert_eq!(within(h.update::<i64>("add", &3)).await.unwrap(), 3);
        assert_eq!(within(h.query::<i64>("total", &())).await.unwrap(), 3);
        h.signal("finish", &()).await.unwrap();
        assert_eq!(within(h.result()).await.unwrap().total, 3);
        // Unknown workflow: NotFound, not a hang.
        let missing = env.client.workflow_handle::<Counter>("nobody", None);
        assert!(matches!(
            within(missing.query::<i64>("total", &())).await,
            Err(ClientError::Backend(BackendError::NotFound { .. }))
        ));
        w.shutdown().await;
    }

    a_query_waits_for_a_worker(sqlite) {
        let env = env(sqlite).await;
        let h = env
            .client
            .start_workflow(Counter::run, "wait".to_string(), WorkflowOptions::new("wait", QUEUE))
            .await
            .unwrap();
        let early = tokio::time::timeout(Duration::from_millis(200), h.query::<i64>("total", &())).await;
        assert!(early.is_err(), "no worker: the query waits");
        let pending = tokio::spawn({
            let h = h.clone();
            async move { h.query::<i64>("plus", &4).await }
        });
        let w = worker(&env.client, WorkerOptions::default());
        assert_eq!(within(pending).await.unwrap().unwrap(), 4);
        let encoded = within(h.query_payloads("total", vec![])).await.unwrap();
        assert_eq!(converter::decode::<i64>(&encoded).unwrap(), 0);
        w.shutdown().await;
    }
}

mod engine_level {
    //! The engine alone, driven through `Backend`: when query tasks go out.

    use std::time::Duration;

    use weft::backend::{
        Backend, BackendError, IdConflictPolicy, IdReusePolicy, QueryRequest, SignalRequest,
        StartWorkflowRequest, WorkflowTask, WorkflowTaskCompletion,
    };
    use weft::converter::{self, Payload};
    use weft::engine::Engine;
    use weft::{ApplicationError, Failure};

    const TQ: &str = "engine-queries";

    async fn poll(engine: &Engine, wait: Duration) -> Option<WorkflowTask> {
        tokio::time::timeout(wait, engine.poll_workflow_task("default", TQ))
            .await
            .ok()
            .map(|r| r.unwrap().expect("a task"))
    }

    async fn complete(engine: &Engine, task: &WorkflowTask) {
        engine
            .complete_workflow_task(WorkflowTaskCompletion {
                token: task.token.clone(),
                commands: vec![],
                sdk_flags: vec![],
                identity: "test".into(),
            })
            .await
            .unwrap();
    }

    fn query(name: &str) -> QueryRequest {
        QueryRequest {
            namespace: "default".into(),
            workflow_id: "wf".into(),
            run_id: None,
            query_name: name.into(),
            input: vec![],
        }
    }

    fn spawn_query(
        engine: &Engine,
        name: &str,
    ) -> tokio::task::JoinHandle<Result<Payload, BackendError>> {
        let engine = engine.clone();
        let request = query(name);
        tokio::spawn(async move { engine.query_workflow(request).await })
    }

    #[tokio::test]
    async fn query_tasks_wait_for_the_workflow_task_in_flight() {
        let engine = Engine::memory().await.unwrap();
        engine
            .start_workflow(StartWorkflowRequest {
                namespace: "default".into(),
                workflow_id: "wf".into(),
                workflow_type: "W".into(),
                task_queue: TQ.into(),
                input: vec![],
                request_id: "r".into(),
                id_reuse_policy: IdReusePolicy::AllowDuplicate,
                id_conflict_policy: IdConflictPolicy::Fail,
                run_options: Default::default(),
            })
            .await
            .unwrap();
        let first = poll(&engine, Duration::from_secs(5)).await.unwrap();
        assert!(first.query.is_none());
        // The first workflow task is in flight: the query waits.
        let q = spawn_query(&engine, "a");
        assert!(poll(&engine, Duration::from_millis(100)).await.is_none());
        complete(&engine, &first).await;
        let task = poll(&engine, Duration::from_secs(5)).await.unwrap();
        let request = task.query.clone().expect("a query task");
        assert_eq!(request.query_name, "a");
        assert_eq!(task.first_event_id, 2);
        assert!(task.updates.is_empty());
        let answer = converter::encode(&42).unwrap();
        engine
            .respond_query(task.token.clone(), Ok(answer.clone()))
            .await
            .unwrap();
        assert_eq!(q.await.unwrap().unwrap(), answer);
        // Answered once only.
        assert!(matches!(
            engine
                .respond_query(task.token.clone(), Ok(answer.clone()))
                .await,
            Err(BackendError::TaskNotFound(_))
        ));
        // A signal schedules a task; while it runs, queries wait again.
        engine
            .signal_workflow(SignalRequest {
                namespace: "default".into(),
                workflow_id: "wf".into(),
                run_id: None,
                signal_name: "s".into(),
                input: vec![],
                request_id: "s1".into(),
            })
            .await
            .unwrap();
        let second = poll(&engine, Duration::from_secs(5)).await.unwrap();
        assert!(second.query.is_none());
        let q = spawn_query(&engine, "b");
        assert!(poll(&engine, Duration::from_millis(100)).await.is_none());
        complete(&engine, &second).await;
        let task = poll(&engine, Duration::from_secs(5)).await.unwrap();
        assert_eq!(task.query.as_ref().unwrap().query_name, "b");
        let failure: Failure = ApplicationError::new("no").into();
        engine
            .respond_query(task.token.clone(), Err(failure.clone()))
            .await
            .unwrap();
        assert_eq!(q.await.unwrap(), Err(BackendError::QueryFailed(failure)));
        // Nothing of it is in history.
        let history = engine.history("default", "wf", None).await.unwrap();
        assert!(
            history
                .iter()
                .all(|e| !e.attributes.name().contains("Query"))
        );
        engine.shutdown().await;
    }
}
