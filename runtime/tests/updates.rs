//! Updates end to end: hand-written `Workflow::validate`/`update`,
//! acceptance and completion events, rejection without a trace, dedup by
//! update id (across a restart too), replay, closed runs, on both stores.

mod support;

use support::counter::{Counter, REPLAYED, Totals};
use support::{env, names, strict, within};

use std::time::Duration;

use weft::backend::{BackendError, IdConflictPolicy};
use weft::converter;
use weft::engine::Engine;
use weft::history::{Event, EventAttributes};
use weft::replay::Replayer;
use weft::{Client, ClientError, WorkerOptions, Workflow, WorkflowOptions};

const QUEUE: &str = "updates";

fn worker(client: &Client, options: WorkerOptions) -> weft::worker::WorkerHandle {
    support::start_worker::<Counter>(client, QUEUE, options)
}

async fn start(client: &Client, id: &str) -> weft::WorkflowHandle<Counter> {
    client
        .start_workflow(
            Counter::run,
            id.to_string(),
            WorkflowOptions::new(id, QUEUE),
        )
        .await
        .unwrap()
}

fn update_failure(result: Result<i64, ClientError>) -> String {
    match result {
        Err(ClientError::Update(f)) => format!("{f:#}"),
        other => panic!("expected an update failure, got {other:?}"),
    }
}

fn update_ids(events: &[Event], accepted: bool) -> Vec<String> {
    events
        .iter()
        .filter_map(|e| match &e.attributes {
            EventAttributes::WorkflowExecutionUpdateAccepted { update_id, .. } if accepted => {
                Some(update_id.clone())
            }
            EventAttributes::WorkflowExecutionUpdateCompleted { update_id, .. } if !accepted => {
                Some(update_id.clone())
            }
            _ => None,
        })
        .collect()
}

fn replay(tag: &str, events: &[Event]) -> Totals {
    REPLAYED.with(|r| r.borrow_mut().remove(tag));
    let mut r = Replayer::new();
    r.register_workflow::<Counter>();
    r.replay(events).expect("replay matches history");
    REPLAYED
        .with(|r| r.borrow_mut().remove(tag))
        .expect("the replay ran the workflow to its end")
}

both_stores! {
    an_update_applies_and_returns_its_value(sqlite) {
        let env = env(sqlite).await;
        let w = worker(&env.client, strict(1000));
        let h = start(&env.client, "apply").await;
        assert_eq!(within(h.update::<i64>("add", &5)).await.unwrap(), 5);
        // An async handler: accepted in one task, completed in a later one.
        assert_eq!(within(h.update::<i64>("slow_add", &10)).await.unwrap(), 15);
        let payload = within(h.update_payloads("add", vec![converter::encode(&1).unwrap()], Some("u-1".into())))
            .await
            .unwrap();
        assert_eq!(converter::decode::<i64>(&payload).unwrap(), 16);
        // A handler failure is the update's outcome, recorded.
        let failed = update_failure(within(h.update::<i64>("fail", &())).await);
        assert!(failed.contains("the handler failed"), "{failed}");
        let events = h.history().await.unwrap();
        assert_eq!(update_ids(&events, true).len(), 4);
        assert_eq!(update_ids(&events, false).len(), 4);
        assert!(update_ids(&events, true).contains(&"u-1".to_string()));
        let outcome = events.iter().find_map(|e| match &e.attributes {
            EventAttributes::WorkflowExecutionUpdateCompleted { update_id, outcome, .. } if update_id == "u-1" => Some(outcome.clone()),
            _ => None,
        });
        assert_eq!(outcome, Some(Ok(converter::encode(&16i64).unwrap())));
        h.signal("finish", &()).await.unwrap();
        assert_eq!(within(h.result()).await.unwrap(), Totals { total: 16, applied: 3 });
        w.shutdown().await;
    }

    a_rejected_update_returns_the_validator_error_and_writes_nothing(sqlite) {
        let env = env(sqlite).await;
        let w = worker(&env.client, strict(1000));
        let h = start(&env.client, "reject").await;
        assert_eq!(within(h.update::<i64>("add", &4)).await.unwrap(), 4);
        let before = h.history().await.unwrap();
        let m = update_failure(within(h.update::<i64>("add", &-3)).await);
        assert!(m.contains("negative amount -3"), "{m}");
        // An unknown update is rejected too.
        let m = update_failure(within(h.update::<i64>("no_such_update", &1)).await);
        assert!(m.contains("unknown update") && m.contains("no_such_update"), "{m}");
        // A malformed payload is rejected with the decoding error.
        let m = update_failure(within(h.update::<i64>("add", &"five")).await);
        assert!(!m.is_empty());
        let m = update_failure(within(h.update_payloads("add", vec![], None)).await.map(|_| 0));
        assert!(m.contains("argument"), "{m}");
        // Speculative tasks: history is exactly as it was, state unchanged.
        assert_eq!(h.history().await.unwrap(), before);
        assert_eq!(within(h.query::<i64>("total", &())).await.unwrap(), 4);
        // The workflow keeps running.
        assert_eq!(within(h.update::<i64>("add", &1)).await.unwrap(), 5);
        h.signal("finish", &()).await.unwrap();
        assert_eq!(within(h.result()).await.unwrap(), Totals { total: 5, applied: 2 });
        w.shutdown().await;
    }

    the_same_update_id_twice_returns_the_first_result(sqlite) {
        let env = env(sqlite).await;
        let w = worker(&env.client, WorkerOptions::default());
        let h = start(&env.client, "dedup").await;
        let one = vec![converter::encode(&7).unwrap()];
        let first = within(h.update_payloads("add", one.clone(), Some("same".into()))).await.unwrap();
        assert_eq!(within(h.update::<i64>("add", &1)).await.unwrap(), 8);
        let again = within(h.update_payloads("add", one.clone(), Some("same".into()))).await.unwrap();
        assert_eq!(first, again);
        assert_eq!(converter::decode::<i64>(&again).unwrap(), 7);
        // Concurrent duplicates of a new id: one handler run, one outcome.
        let calls: Vec<_> = (0..5)
            .map(|_| {
                let h = h.clone();
                let one = one.clone();
                tokio::spawn(async move { h.update_payloads("slow_add", one, Some("dup".into())).await })
            })
            .collect();
        let mut outcomes = Vec::new();
        for c in calls {
            outcomes.push(within(c).await.unwrap().unwrap());
        }
        assert!(outcomes.windows(2).all(|w| w[0] == w[1]));
        assert_eq!(converter::decode::<i64>(&outcomes[0]).unwrap(), 15);
        assert_eq!(within(h.query::<u32>("applied", &())).await.unwrap(), 3);
        let events = h.history().await.unwrap();
        let accepted = update_ids(&events, true);
        assert_eq!(accepted.iter().filter(|id| *id == "same").count(), 1);
        assert_eq!(accepted.iter().filter(|id| *id == "dup").count(), 1);
        w.shutdown().await;
    }

    a_hundred_updates_in_a_row_add_up_exactly(sqlite) {
        let env = env(sqlite).await;
        let w = worker(&env.client, WorkerOptions::default());
        let h = start(&env.client, "hundred").await;
        let mut expected = 0;
        for i in 1..=100i64 {
            expected += i;
            assert_eq!(within(h.update::<i64>("add", &i)).await.unwrap(), expected);
        }
        h.signal("finish", &()).await.unwrap();
        assert_eq!(within(h.result()).await.unwrap(), Totals { total: 5050, applied: 100 });
        let events = h.history().await.unwrap();
        assert_eq!(update_ids(&events, false).len(), 100);
        assert_eq!(replay("hundred", &events), Totals { total: 5050, applied: 100 });
        w.shutdown().await;
    }

    replay_with_no_cache_reproduces_the_state(sqlite) {
        let env = env(sqlite).await;
        let tag = format!("nocache-{sqlite}");
        let w = worker(&env.client, strict(0));
        let h = start(&env.client, &tag).await;
        assert_eq!(within(h.update::<i64>("add", &1)).await.unwrap(), 1);
        let m = update_failure(within(h.update::<i64>("add", &-1)).await);
        assert!(m.contains("negative"), "{m}");
        assert_eq!(within(h.update::<i64>("slow_add", &2)).await.unwrap(), 3);
        assert_eq!(within(h.query::<i64>("total", &())).await.unwrap(), 3);
        h.signal("finish", &()).await.unwrap();
        let expected = Totals { total: 3, applied: 2 };
        assert_eq!(within(h.result()).await.unwrap(), expected);
        let events = h.history().await.unwrap();
        assert_eq!(replay(&tag, &events), expected);
        let json = h.history_json().await.unwrap();
        assert_eq!(replay(&tag, &weft::history::from_json(&json).unwrap()), expected);
        w.shutdown().await;
    }

    an_update_to_a_closed_run_errors_clearly(sqlite) {
        let env = env(sqlite).await;
        let w = worker(&env.client, WorkerOptions::default());
        let h = start(&env.client, "closed").await;
        let one = vec![converter::encode(&2).unwrap()];
        within(h.update_payloads("add", one.clone(), Some("before".into()))).await.unwrap();
        h.signal("finish", &()).await.unwrap();
        within(h.result()).await.unwrap();
        match within(h.update::<i64>("add", &1)).await {
            Err(ClientError::Backend(BackendError::NotFound { detail: Some(d), .. })) => {
                assert!(d.contains("closed"), "{d}")
            }
            other => panic!("expected NotFound(closed), got {other:?}"),
        }
        // A known id still returns its first outcome.
        let again = within(h.update_payloads("add", one, Some("before".into()))).await.unwrap();
        assert_eq!(converter::decode::<i64>(&again).unwrap(), 2);
        let missing = env.client.workflow_handle::<Counter>("nobody", None);
        assert!(matches!(
            within(missing.update::<i64>("add", &1)).await,
            Err(ClientError::Backend(BackendError::NotFound { .. }))
        ));
        w.shutdown().await;
    }
}

fn uws_options(id: &str) -> WorkflowOptions {
    WorkflowOptions::new(id, QUEUE).id_conflict_policy(IdConflictPolicy::UseExisting)
}

both_stores! {
    update_with_start_starts_the_run_with_its_update_then_updates_the_open_run(sqlite) {
        let env = env(sqlite).await;
        let w = worker(&env.client, strict(1000));
        let h = env
            .client
            .update_with_start(Counter::run, "uws".to_string(), uws_options("uws").request_id("uws-1"))
            .unwrap();
        assert_eq!(h.run_id(), None);
        assert_eq!(within(h.with_update_id("u-1").update::<i64>("add", &5)).await.unwrap(), 5);
        let run_id = h.run_id().expect("the run the update went to").to_string();
        let d = h.describe().await.unwrap();
        assert_eq!(d.run_id, run_id);
        // The first workflow task accepted and completed the update.
        let events = h.history().await.unwrap();
        assert_eq!(
            &names(&events)[..6],
            [
                "WorkflowExecutionStarted",
                "WorkflowTaskScheduled",
                "WorkflowTaskStarted",
                "WorkflowTaskCompleted",
                "WorkflowExecutionUpdateAccepted",
                "WorkflowExecutionUpdateCompleted",
            ]
        );
        // Retried (same request id, same update id): the first outcome,
        // no second run, nothing applied again.
        let retry = env
            .client
            .update_with_start(Counter::run, "uws".to_string(), uws_options("uws").request_id("uws-1"))
            .unwrap();
        assert_eq!(within(retry.with_update_id("u-1").update::<i64>("add", &5)).await.unwrap(), 5);
        assert_eq!(h.history().await.unwrap(), events);
        // Another caller's update-with-start reaches the open run.
        let other = env.client.update_with_start(Counter::run, "uws".to_string(), uws_options("uws")).unwrap();
        assert_eq!(within(other.update::<i64>("add", &2)).await.unwrap(), 7);
        assert_eq!(other.run_id(), Some(run_id.as_str()));
        // Under the default conflict policy an open run refuses the call,
        // and the update is not applied.
        let refused = env
            .client
            .update_with_start(Counter::run, "uws".to_string(), WorkflowOptions::new("uws", QUEUE))
            .unwrap();
        assert!(matches!(
            within(refused.update::<i64>("add", &100)).await,
            Err(ClientError::Backend(BackendError::WorkflowAlreadyStarted { .. }))
        ));
        assert_eq!(within(h.query::<i64>("total", &())).await.unwrap(), 7);
        assert_eq!(h.describe().await.unwrap().run_chain.len(), 1);
        h.signal("finish", &()).await.unwrap();
        assert_eq!(within(h.result()).await.unwrap(), Totals { total: 7, applied: 2 });
        // The run has closed: the same request id finds it, and a known
        // update id still returns its outcome.
        assert_eq!(within(h.with_update_id("u-1").update::<i64>("add", &5)).await.unwrap(), 5);
        assert_eq!(replay("uws", &h.history().await.unwrap()), Totals { total: 7, applied: 2 });
        w.shutdown().await;
    }

    update_with_start_starts_nothing_for_an_invalid_update_and_starts_for_a_rejected_one(sqlite) {
        let env = env(sqlite).await;
        let w = worker(&env.client, WorkerOptions::default());
        // Invalid (no name): refused before anything starts.
        let h = env.client.update_with_start(Counter::run, "x".to_string(), uws_options("uws-invalid")).unwrap();
        assert!(matches!(
            within(h.update_payloads("", vec![], None)).await,
            Err(ClientError::Backend(BackendError::InvalidArgument(_)))
        ));
        assert!(matches!(
            h.describe().await,
            Err(ClientError::Backend(BackendError::NotFound { .. }))
        ));
        // Rejected by the validator: the run started, the update did not apply.
        let h = env.client.update_with_start(Counter::run, "x".to_string(), uws_options("uws-rejected")).unwrap();
        let m = update_failure(within(h.update::<i64>("add", &-1)).await);
        assert!(m.contains("negative amount -1"), "{m}");
        assert_eq!(h.describe().await.unwrap().status, weft::backend::RunStatus::Running);
        assert_eq!(within(h.update::<i64>("add", &3)).await.unwrap(), 3);
        h.signal("finish", &()).await.unwrap();
        assert_eq!(within(h.result()).await.unwrap(), Totals { total: 3, applied: 1 });
        w.shutdown().await;
    }
}

/// Update-with-start commits the start and the update together: the update
/// sent with no worker is in the run after a restart, and a retry with the
/// same request id and update id neither starts a second run nor applies
/// the update twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn update_with_start_survives_a_restart_and_a_retry_applies_once() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("weft.db");
    let call = |client: &Client| {
        client
            .update_with_start(
                Counter::run,
                "uws-restart".to_string(),
                uws_options("uws-restart").request_id("start-1"),
            )
            .unwrap()
            .with_update_id("add-4")
    };
    {
        let engine = Engine::sqlite(&path).await.unwrap();
        let client = Client::new(engine.clone());
        // No worker: the call waits for the update's outcome. Once the
        // engine has the request, shutting down makes it durable.
        let h = call(&client);
        let mut waiting = Box::pin(h.update::<i64>("add", &4));
        assert!(futures::poll!(&mut waiting).is_pending());
        engine.shutdown().await;
        drop(waiting);
    }
    let engine = Engine::sqlite(&path).await.unwrap();
    let client = Client::new(engine.clone());
    let w = worker(&client, WorkerOptions::default());
    let h = call(&client);
    // The run and its update were durable together: its first workflow
    // task (which a query waits for) applied the update, with no retry.
    assert_eq!(within(h.query::<u32>("applied", &())).await.unwrap(), 1);
    assert_eq!(within(h.update::<i64>("add", &4)).await.unwrap(), 4);
    assert_eq!(within(h.update::<i64>("add", &4)).await.unwrap(), 4);
    h.signal("finish", &()).await.unwrap();
    assert_eq!(
        within(h.result()).await.unwrap(),
        Totals {
            total: 4,
            applied: 1
        }
    );
    let events = h.history().await.unwrap();
    assert_eq!(update_ids(&events, true), ["add-4"]);
    assert_eq!(h.describe().await.unwrap().run_chain.len(), 1);
    w.shutdown().await;
    engine.shutdown().await;
}

/// An update id completed before a restart returns its first outcome
/// after the SQLite file is reopened, and its handler does not run again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_update_id_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("weft.db");
    let one = vec![converter::encode(&9).unwrap()];
    let first = {
        let engine = Engine::sqlite(&path).await.unwrap();
        let client = Client::new(engine.clone());
        let w = worker(&client, WorkerOptions::default());
        let h = start(&client, "restart").await;
        let first = within(h.update_payloads("add", one.clone(), Some("r-1".into())))
            .await
            .unwrap();
        w.shutdown().await;
        engine.shutdown().await;
        first
    };
    let engine = Engine::sqlite(&path).await.unwrap();
    let client = Client::new(engine.clone());
    let h = client.workflow_handle::<Counter>("restart", None);
    // No worker is needed: the outcome is in the run's state.
    let again = within(h.update_payloads("add", one.clone(), Some("r-1".into())))
        .await
        .unwrap();
    assert_eq!(again, first);
    let w = worker(&client, WorkerOptions::default());
    assert_eq!(within(h.update::<i64>("add", &1)).await.unwrap(), 10);
    h.signal("finish", &()).await.unwrap();
    assert_eq!(
        within(h.result()).await.unwrap(),
        Totals {
            total: 10,
            applied: 2
        }
    );
    let events = h.history().await.unwrap();
    assert_eq!(
        names(&events)
            .iter()
            .filter(|n| **n == "WorkflowExecutionUpdateAccepted")
            .count(),
        2
    );
    w.shutdown().await;
    engine.shutdown().await;
}

/// An update admitted but not yet delivered when the engine stops is
/// delivered after the restart; a retry with its id gets its outcome.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admitted_update_is_delivered_after_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("weft.db");
    {
        let engine = Engine::sqlite(&path).await.unwrap();
        let client = Client::new(engine.clone());
        let h = start(&client, "admitted").await;
        // No worker: the update waits in the run's state.
        let waiting = tokio::time::timeout(
            Duration::from_millis(200),
            h.update_payloads(
                "add",
                vec![converter::encode(&3).unwrap()],
                Some("a-1".into()),
            ),
        )
        .await;
        assert!(waiting.is_err());
        engine.shutdown().await;
    }
    let engine = Engine::sqlite(&path).await.unwrap();
    let client = Client::new(engine.clone());
    let w = worker(&client, WorkerOptions::default());
    let h = client.workflow_handle::<Counter>("admitted", None);
    let outcome = within(h.update_payloads(
        "add",
        vec![converter::encode(&3).unwrap()],
        Some("a-1".into()),
    ))
    .await
    .unwrap();
    assert_eq!(converter::decode::<i64>(&outcome).unwrap(), 3);
    assert_eq!(within(h.query::<u32>("applied", &())).await.unwrap(), 1);
    w.shutdown().await;
    engine.shutdown().await;
}

/// Accepted updates whose handler has not finished when the run closes
/// fail with a typed error, and keep it as their outcome.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unfinished_update_fails_when_the_run_closes() {
    let env = env(false).await;
    let w = worker(&env.client, WorkerOptions::default());
    let h = start(&env.client, "unfinished").await;
    let slow = vec![converter::encode(&1).unwrap()];
    let pending = tokio::spawn({
        let h = h.clone();
        let slow = slow.clone();
        async move {
            h.update_payloads("slow_add", slow, Some("slow".into()))
                .await
        }
    });
    within(async {
        while update_ids(&h.history().await.unwrap(), true).is_empty() {
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    })
    .await;
    // The run returns without waiting for the handler's timer.
    h.signal("finish_now", &()).await.unwrap();
    assert_eq!(within(h.result()).await.unwrap().applied, 0);
    let closed = |r: Result<weft::Payload, ClientError>| match r {
        Err(ClientError::Update(f)) => {
            let m = format!("{f:#}");
            assert!(m.contains("closed before update \"slow\" completed"), "{m}");
        }
        other => panic!("expected an update failure, got {other:?}"),
    };
    closed(within(pending).await.unwrap());
    closed(within(h.update_payloads("slow_add", slow, Some("slow".into()))).await);
    w.shutdown().await;
}

/// A `tracing` subscriber that keeps the warnings' messages.
struct Warnings(std::sync::Arc<std::sync::Mutex<Vec<String>>>);

/// Reads an event's `message` field.
struct Message(String);

impl tracing::field::Visit for Message {
    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            self.0 = format!("{value:?}");
        }
    }
}

impl tracing::Subscriber for Warnings {
    fn enabled(&self, metadata: &tracing::Metadata<'_>) -> bool {
        *metadata.level() == tracing::Level::WARN
    }
    fn new_span(&self, _: &tracing::span::Attributes<'_>) -> tracing::span::Id {
        tracing::span::Id::from_u64(1)
    }
    fn record(&self, _: &tracing::span::Id, _: &tracing::span::Record<'_>) {}
    fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}
    fn event(&self, event: &tracing::Event<'_>) {
        let mut message = Message(String::new());
        event.record(&mut message);
        self.0.lock().unwrap().push(message.0);
    }
    fn enter(&self, _: &tracing::span::Id) {}
    fn exit(&self, _: &tracing::span::Id) {}
}

/// A run that returns while an update handler is still running is warned
/// about once, live (the handler's caller gets a "run closed" failure);
/// replaying its history warns no more.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn finishing_while_a_handler_runs_logs_one_warning() {
    let warnings = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let _scope = tracing::subscriber::set_default(Warnings(warnings.clone()));
    let about_handlers = || {
        warnings
            .lock()
            .unwrap()
            .iter()
            .filter(|m| m.contains("finished while signal or update handlers were still running"))
            .count()
    };
    let env = env(false).await;
    let h = start(&env.client, "cut-off").await;
    // Both reach the first workflow task: the update's async handler
    // starts (a timer), then `finish_now` makes the run return at once.
    let mut slow =
        Box::pin(h.update_payloads("slow_add", vec![converter::encode(&1).unwrap()], None));
    assert!(futures::poll!(&mut slow).is_pending());
    h.signal("finish_now", &()).await.unwrap();
    // Started here, so its workflow thread logs to this subscriber.
    let w = worker(&env.client, WorkerOptions::default());
    assert_eq!(within(h.result()).await.unwrap().applied, 0);
    assert!(matches!(within(slow).await, Err(ClientError::Update(_))));
    assert_eq!(about_handlers(), 1);
    let events = h.history().await.unwrap();
    replay("cut-off", &events);
    assert_eq!(about_handlers(), 1);
    w.shutdown().await;
}

mod engine_level {
    //! The engine alone, driven through `Backend`: delivery, events and
    //! refused responses.

    use std::time::Duration;

    use weft::backend::{
        Backend, BackendError, IdConflictPolicy, IdReusePolicy, StartWorkflowRequest,
        UpdateRequest, WorkflowTask, WorkflowTaskCompletion,
    };
    use weft::converter::{self, Payload};
    use weft::engine::Engine;
    use weft::history::EventAttributes;
    use weft::protocol::{Command, UpdateResponse};
    use weft::{ApplicationError, Failure};

    const TQ: &str = "engine-updates";

    async fn poll(engine: &Engine) -> WorkflowTask {
        tokio::time::timeout(
            Duration::from_secs(5),
            engine.poll_workflow_task("default", TQ),
        )
        .await
        .expect("a task in time")
        .unwrap()
        .expect("a task")
    }

    async fn complete(
        engine: &Engine,
        task: &WorkflowTask,
        commands: Vec<Command>,
    ) -> Result<(), BackendError> {
        engine
            .complete_workflow_task(WorkflowTaskCompletion {
                token: task.token.clone(),
                commands,
                sdk_flags: vec![],
                identity: "test".into(),
            })
            .await
    }

    fn spawn_update(
        engine: &Engine,
        id: &str,
    ) -> tokio::task::JoinHandle<Result<Payload, BackendError>> {
        let engine = engine.clone();
        let request = UpdateRequest {
            namespace: "default".into(),
            workflow_id: "wf".into(),
            run_id: None,
            update_id: id.into(),
            name: "set".into(),
            input: vec![converter::encode(&id).unwrap()],
        };
        tokio::spawn(async move { engine.update_workflow(request).await })
    }

    fn respond(id: &str, response: UpdateResponse) -> Command {
        Command::UpdateResponse {
            id: id.into(),
            response,
        }
    }

    #[tokio::test]
    async fn updates_ride_workflow_tasks_and_rejections_write_nothing() {
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
        let first = poll(&engine).await;
        complete(&engine, &first, vec![]).await.unwrap();
        let before = engine.history("default", "wf", None).await.unwrap();

        // A rejection alone: the task writes nothing.
        let u1 = spawn_update(&engine, "u1");
        let task = poll(&engine).await;
        assert_eq!(task.updates.len(), 1);
        assert_eq!(task.updates[0].update_id, "u1");
        let failure: Failure = ApplicationError::new("bad").into();
        complete(
            &engine,
            &task,
            vec![respond("u1", UpdateResponse::Rejected(failure.clone()))],
        )
        .await
        .unwrap();
        assert_eq!(u1.await.unwrap(), Err(BackendError::UpdateFailed(failure)));
        assert_eq!(engine.history("default", "wf", None).await.unwrap(), before);

        // A response for an update the task did not deliver is refused.
        let u2 = spawn_update(&engine, "u2");
        let task = poll(&engine).await;
        assert_eq!(task.updates.len(), 1);
        assert!(matches!(
            complete(
                &engine,
                &task,
                vec![respond("nope", UpdateResponse::Accepted)]
            )
            .await,
            Err(BackendError::InvalidArgument(_))
        ));
        // Accepted then completed: two command events, the caller gets
        // the value.
        let value = converter::encode(&"done").unwrap();
        complete(
            &engine,
            &task,
            vec![
                respond("u2", UpdateResponse::Accepted),
                respond("u2", UpdateResponse::Completed(Ok(value.clone()))),
            ],
        )
        .await
        .unwrap();
        assert_eq!(u2.await.unwrap().unwrap(), value);
        let history = engine.history("default", "wf", None).await.unwrap();
        let tail: Vec<_> = history[before.len()..]
            .iter()
            .map(|e| e.attributes.clone())
            .collect();
        assert_eq!(tail.len(), 5);
        let completed_id = history[before.len() + 2].event_id;
        assert!(matches!(
            &tail[3],
            EventAttributes::WorkflowExecutionUpdateAccepted { update_id, name, workflow_task_completed_event_id, .. }
                if update_id == "u2" && name == "set" && *workflow_task_completed_event_id == completed_id
        ));
        assert!(matches!(
            &tail[4],
            EventAttributes::WorkflowExecutionUpdateCompleted { update_id, outcome: Ok(v), .. }
                if update_id == "u2" && *v == value
        ));
        // The same id again: the first outcome, no task.
        assert_eq!(spawn_update(&engine, "u2").await.unwrap().unwrap(), value);
        engine.shutdown().await;
    }
}

/// Updates have rows of their own: a step writes the rows of the updates it
/// changed, not every kept outcome, and the run's state holds none.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_step_writes_only_the_updates_it_changed() {
    use std::sync::{Arc, Mutex};
    use weft::engine::EngineOptions;
    use weft::engine::store::StoreOp;

    let batches: Arc<Mutex<Vec<Vec<StoreOp>>>> = Arc::default();
    let recorded = batches.clone();
    let store = support::backend::hooked(move |ops| {
        if let Ok(mut batches) = recorded.lock() {
            batches.push(ops.to_vec());
        }
        Ok(())
    });
    let engine = Engine::start(store, EngineOptions::default()).unwrap();
    let client = Client::new(engine.clone());
    let w = worker(&client, WorkerOptions::default());
    let h = start(&client, "rows").await;
    for n in 1..=3 {
        within(h.with_update_id(format!("u-{n}")).update::<i64>("add", &n))
            .await
            .unwrap();
    }
    let seen = batches.lock().unwrap().len();
    within(h.with_update_id("u-4").update::<i64>("add", &4))
        .await
        .unwrap();
    let batches = batches.lock().unwrap()[seen..].to_vec();
    let mut written = Vec::new();
    for op in batches.iter().flatten() {
        match op {
            StoreOp::PutUpdate { update_id, .. } | StoreOp::DeleteUpdate { update_id, .. } => {
                written.push(update_id.clone())
            }
            StoreOp::PutExecution(row) | StoreOp::PutExecutionState(row) => {
                #[derive(serde::Deserialize)]
                struct Probe {
                    updates: Option<serde::de::IgnoredAny>,
                }
                let state = weft::engine::store::spelled_out(&row.state).unwrap();
                let probe: Probe = rmp_serde::from_slice(&state).unwrap();
                assert!(probe.updates.is_none(), "the state holds no updates");
            }
            _ => {}
        }
    }
    written.dedup();
    assert_eq!(written, ["u-4"]);
    h.signal("finish", &()).await.unwrap();
    within(h.result()).await.unwrap();
    // Closed, the run still answers a known id from its rows.
    assert_eq!(
        within(h.with_update_id("u-2").update::<i64>("add", &2))
            .await
            .unwrap(),
        3
    );
    w.shutdown().await;
    engine.shutdown().await;
}
