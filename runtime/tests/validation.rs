//! Validation rules on every path a value takes (workflow input, activity
//! input, signal, update), on both stores: the client refuses an invalid
//! value before sending it, and a worker refuses an invalid payload from
//! elsewhere before any workflow or activity code runs, each with a
//! non-retryable `ValidationError` naming the field and the rule.

mod support;

use support::{env, names, within};

use std::time::Duration;

use serde::{Deserialize, Serialize};
use weft::backend::StartWorkflowRequest;
use weft::converter::{ConverterError, ENCODING_JSON, ENCODING_KEY, Invalid, Validate, Violation};
use weft::failure::VALIDATION_ERROR;
use weft::prelude::*;
use weft::{ClientError, Failure, Payload, WorkflowHandle};

const QUEUE: &str = "validation";

/// Money moved: positive, and at most 1,000.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(remote = "Self")]
struct Amount {
    value: i64,
}

impl Validate for Amount {
    fn validate(&self) -> Result<(), Invalid> {
        if self.value <= 0 {
            return Err(Invalid::new("value", "positive", "value must be positive"));
        }
        if self.value > 1000 {
            return Err(Invalid::new(
                "value",
                "max(1000)",
                "value must be at most 1000",
            ));
        }
        Ok(())
    }
}

weft::validated!(Amount);

/// The same shape without rules: what another program might send.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct RawAmount {
    value: i64,
}

#[activity]
async fn record(amount: Amount) -> Result<i64, ApplicationError> {
    Ok(amount.value)
}

/// Schedules `record` with an unchecked argument.
#[activity(name = "record")]
async fn record_unchecked(amount: RawAmount) -> Result<i64, ApplicationError> {
    Ok(amount.value)
}

#[workflow]
#[derive(Default)]
struct Ledger {
    total: i64,
    closed: bool,
}

#[workflow]
impl Ledger {
    #[init]
    fn new(start: &Amount) -> Self {
        Ledger {
            total: start.value,
            closed: false,
        }
    }

    #[run]
    async fn run(ctx: WorkflowContext<Self>, _start: Amount) -> WorkflowResult<i64> {
        ctx.wait_condition(|s| s.closed).await?;
        Ok(ctx.state(|s| s.total))
    }

    #[signal]
    fn deposit(&mut self, amount: Amount) {
        self.total += amount.value;
    }

    #[signal]
    fn close(&mut self) {
        self.closed = true;
    }

    #[query]
    fn total(&self) -> i64 {
        self.total
    }

    #[update]
    fn withdraw(&mut self, amount: Amount) -> Result<i64, ApplicationError> {
        self.total -= amount.value;
        Ok(self.total)
    }
}

/// Sends `value` to `record` unchecked and returns what came back.
#[workflow]
#[derive(Default)]
struct Forwarder;

#[workflow]
impl Forwarder {
    #[run]
    async fn run(ctx: WorkflowContext<Self>, value: i64) -> WorkflowResult<i64> {
        Ok(ctx
            .activity(RECORD_UNCHECKED, RawAmount { value })
            .start_to_close_timeout(Duration::from_secs(10))
            .await?)
    }
}

fn worker(client: &Client) -> weft::worker::WorkerHandle {
    let w = Worker::new(client, QUEUE)
        .register_workflow::<Ledger>()
        .register_workflow::<Forwarder>()
        .register_activity(RECORD);
    w.start().unwrap()
}

fn json(text: &str) -> Payload {
    let mut p = Payload {
        data: text.as_bytes().to_vec(),
        ..Default::default()
    };
    p.metadata.insert(ENCODING_KEY.into(), ENCODING_JSON.into());
    p
}

/// Checks that `failure` is a non-retryable `ValidationError` naming the
/// field `value` and `rule`.
fn assert_validation(failure: &Failure, rule: &str) {
    let Failure::Application(e) = failure.root_cause() else {
        panic!("{failure:#}");
    };
    assert_eq!(e.type_name, VALIDATION_ERROR, "{failure:#}");
    assert!(e.non_retryable, "{failure:#}");
    let violation: Violation = e.details().unwrap();
    assert_eq!(violation.type_name, "Amount");
    assert_eq!(violation.invalid.field, "value");
    assert_eq!(violation.invalid.rule, rule);
    assert!(
        e.message.contains(&format!("fails rule `{rule}`")),
        "{}",
        e.message
    );
}

fn assert_refused(result: Result<impl std::fmt::Debug, ClientError>, rule: &str) {
    match result {
        Err(ClientError::Converter(ConverterError::Invalid(v))) => assert_eq!(v.invalid.rule, rule),
        other => panic!("expected the client to refuse, got {other:?}"),
    }
}

async fn open_ledger(client: &Client, id: &str) -> WorkflowHandle<Ledger> {
    client
        .start_workflow(
            Ledger::run,
            Amount { value: 10 },
            WorkflowOptions::new(id, QUEUE),
        )
        .await
        .unwrap()
}

both_stores! {
    workflow_input_is_checked_by_client_and_worker(sqlite) {
        let env = env(sqlite).await;
        let w = worker(&env.client);
        let refused = env
            .client
            .start_workflow(Ledger::run, Amount { value: 0 }, WorkflowOptions::new("input", QUEUE))
            .await;
        assert_refused(refused.map(|_| ()), "positive");
        let request = StartWorkflowRequest {
            namespace: env.client.namespace().to_string(),
            workflow_id: "input".into(),
            workflow_type: "Ledger".into(),
            task_queue: QUEUE.into(),
            input: vec![json(r#"{"value":5000}"#)],
            request_id: "input-1".into(),
            id_reuse_policy: Default::default(),
            id_conflict_policy: Default::default(),
            run_options: Default::default(),
        };
        env.client.backend().start_workflow(request).await.unwrap();
        let h: WorkflowHandle<Ledger> = env.client.workflow_handle("input", None);
        match within(h.result()).await {
            Err(ClientError::Workflow(e)) => assert_validation(&e.cause, "max(1000)"),
            other => panic!("expected the run to fail, got {other:?}"),
        }
        // It failed in its first task, nothing of its code run.
        let events = h.history().await.unwrap();
        assert_eq!(
            names(&events),
            [
                "WorkflowExecutionStarted",
                "WorkflowTaskScheduled",
                "WorkflowTaskStarted",
                "WorkflowTaskCompleted",
                "WorkflowExecutionFailed"
            ]
        );
        w.shutdown().await;
    }

    activity_input_is_checked_before_the_activity_runs(sqlite) {
        let env = env(sqlite).await;
        let w = worker(&env.client);
        let ok = env
            .client
            .execute_workflow(Forwarder::run, 7, WorkflowOptions::new("forward-ok", QUEUE))
            .await
            .unwrap();
        assert_eq!(ok, 7);
        let failed = within(env.client.execute_workflow(
            Forwarder::run,
            -3,
            WorkflowOptions::new("forward-bad", QUEUE),
        ))
        .await;
        match failed {
            Err(ClientError::Workflow(e)) => assert_validation(&e.cause, "positive"),
            other => panic!("expected the run to fail, got {other:?}"),
        }
        // One attempt: non-retryable.
        let h: WorkflowHandle<Forwarder> = env.client.workflow_handle("forward-bad", None);
        let events = h.history().await.unwrap();
        let attempts = names(&events).iter().filter(|n| **n == "ActivityTaskStarted").count();
        assert_eq!(attempts, 1);
        w.shutdown().await;
    }

    signals_are_checked_by_client_and_worker(sqlite) {
        let env = env(sqlite).await;
        let w = worker(&env.client);
        let h = open_ledger(&env.client, "signals").await;
        assert_refused(h.signal("deposit", &Amount { value: -1 }).await, "positive");
        // From elsewhere: recorded, then dropped by the worker with a
        // warning naming the rule; the state is unchanged.
        h.signal_payloads("deposit", vec![json(r#"{"value":-1}"#)], "raw-1".into())
            .await
            .unwrap();
        h.signal("deposit", &Amount { value: 5 }).await.unwrap();
        h.signal("close", &()).await.unwrap();
        assert_eq!(within(h.result()).await.unwrap(), 15);
        w.shutdown().await;
    }

    updates_are_checked_by_client_and_worker(sqlite) {
        let env = env(sqlite).await;
        let w = worker(&env.client);
        let h = open_ledger(&env.client, "updates").await;
        assert_refused(h.update::<i64>("withdraw", &Amount { value: 0 }).await, "positive");
        // A query is answered once the first workflow task is done.
        assert_eq!(within(h.query::<i64>("total", &())).await.unwrap(), 10);
        let before = h.history().await.unwrap();
        let raw = within(h.update_payloads("withdraw", vec![json(r#"{"value":1001}"#)], None)).await;
        match raw {
            Err(ClientError::Update(f)) => assert_validation(&f, "max(1000)"),
            other => panic!("expected the update to be rejected, got {other:?}"),
        }
        // Rejected before its handler: nothing recorded.
        assert_eq!(h.history().await.unwrap(), before);
        assert_eq!(within(h.update::<i64>("withdraw", &Amount { value: 4 })).await.unwrap(), 6);
        h.signal("close", &()).await.unwrap();
        assert_eq!(within(h.result()).await.unwrap(), 6);
        w.shutdown().await;
    }
}
