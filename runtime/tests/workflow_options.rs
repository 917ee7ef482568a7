//! A workflow's own limits and retries, and the id policies that replace an
//! open run, as Temporal measures them (`temporal-semantics-more.md` §3):
//! run and execution timeouts (`WorkflowExecutionTimedOut`, status
//! `TimedOut`), the workflow retry policy (each attempt a new run of the
//! same workflow id, after its backoff), the workflow task timeout, the
//! `TerminateIfRunning` and `TerminateExisting` policies, and the memo.
//! Timeouts run on the time-skipping clock, on both stores.

mod support;

use std::sync::Arc;
use std::time::Duration;

use support::{names, within};

use weft::backend::{BackendError, RunStatus};
use weft::engine::{Engine, EngineOptions, MemoryStore, SqliteStore, VirtualClock};
use weft::failure::{RetryState, TimeoutType};
use weft::history::{Event, EventAttributes, RunInitiator};
use weft::prelude::*;
use weft::{ClientError, WorkflowHandle};

const QUEUE: &str = "options";

/// Sleeps an hour, then returns the attempt it ran as.
#[workflow]
#[derive(Default)]
struct Sleeper;

#[workflow]
impl Sleeper {
    #[run]
    async fn run(ctx: WorkflowContext<Self>, _: ()) -> WorkflowResult<u32> {
        ctx.sleep(Duration::from_secs(3600)).await?;
        Ok(ctx.info().attempt)
    }
}

/// Waits until told to finish.
#[workflow]
#[derive(Default)]
struct Blocked {
    done: bool,
}

#[workflow]
impl Blocked {
    #[run]
    async fn run(ctx: WorkflowContext<Self>, _: ()) -> WorkflowResult<()> {
        ctx.wait_condition(|s| s.done).await?;
        Ok(())
    }

    #[signal]
    fn finish(&mut self) {
        self.done = true;
    }
}

/// Fails until attempt `succeed_on` (0: always), with a retryable error, or
/// a non-retryable one when asked.
#[workflow]
#[derive(Default)]
struct Flaky;

#[workflow]
impl Flaky {
    #[run]
    async fn run(ctx: WorkflowContext<Self>, succeed_on: i32) -> WorkflowResult<String> {
        let attempt = ctx.info().attempt;
        if succeed_on < 0 {
            return Err(ApplicationError::new("fatal").with_type("Fatal").into());
        }
        if succeed_on == 0 || attempt < succeed_on as u32 {
            return Err(ApplicationError::new(format!("failing attempt {attempt}")).into());
        }
        Ok(format!("succeeded on attempt {attempt}"))
    }
}

struct Env {
    client: Client,
    _engine: Engine,
    _dir: tempfile::TempDir,
    worker: weft::worker::WorkerHandle,
}

/// An engine on the time-skipping clock and a worker for both workflows.
fn env(sqlite: bool) -> Env {
    let dir = tempfile::tempdir().unwrap();
    let options = EngineOptions {
        clock: Arc::new(VirtualClock::new()),
        ..EngineOptions::default()
    };
    let engine = if sqlite {
        Engine::start(SqliteStore::open(dir.path().join("w.db")).unwrap(), options).unwrap()
    } else {
        Engine::start(MemoryStore::new(), options).unwrap()
    };
    let client = Client::new(engine.clone());
    let w = Worker::new(&client, QUEUE)
        .register_workflow::<Sleeper>()
        .register_workflow::<Flaky>()
        .register_workflow::<Blocked>();
    Env {
        worker: w.start().unwrap(),
        client,
        _engine: engine,
        _dir: dir,
    }
}

fn retries(max: u32) -> RetryPolicy {
    RetryPolicy::default()
        .with_maximum_attempts(max)
        .with_initial_interval(Duration::from_secs(1))
}

/// Every run of a workflow id, oldest first, with its history.
async fn runs<W: weft::Workflow>(client: &Client, id: &str) -> Vec<(String, Vec<Event>)> {
    let last = client
        .workflow_handle::<W>(id, None)
        .describe()
        .await
        .unwrap();
    let mut out = Vec::new();
    for run_id in last.run_chain {
        let events = client
            .workflow_handle::<W>(id, Some(run_id.clone()))
            .history()
            .await
            .unwrap();
        out.push((run_id, events));
    }
    out
}

fn timed_out(events: &[Event]) -> (RetryState, Option<String>) {
    match &events.last().unwrap().attributes {
        EventAttributes::WorkflowExecutionTimedOut {
            retry_state,
            new_execution_run_id,
        } => (*retry_state, new_execution_run_id.clone()),
        other => panic!("expected a timeout, got {other:?}"),
    }
}

async fn timeout_of<W: weft::Workflow>(h: &WorkflowHandle<W>) -> TimeoutType
where
    W::Output: std::fmt::Debug,
{
    match within(h.result()).await {
        Err(ClientError::Workflow(e)) => match e.cause {
            Failure::Timeout(t) => t.timeout_type,
            other => panic!("expected a timeout, got {other:?}"),
        },
        other => panic!("expected the run to time out, got {other:?}"),
    }
}

both_stores! {
    // Run timeout: the run times out, not retried without a policy.
    a_run_timeout_times_the_run_out(sqlite) {
        let env = env(sqlite);
        let options = WorkflowOptions::new("run-timeout", QUEUE).run_timeout(Duration::from_secs(3));
        let h = env.client.start_workflow(Sleeper::run, (), options).await.unwrap();
        assert_eq!(timeout_of(&h).await, TimeoutType::WorkflowRun);
        let events = h.history().await.unwrap();
        assert_eq!(timed_out(&events), (RetryState::RetryPolicyNotSet, None));
        assert_eq!(
            names(&events),
            [
                "WorkflowExecutionStarted", "WorkflowTaskScheduled", "WorkflowTaskStarted",
                "WorkflowTaskCompleted", "TimerStarted", "WorkflowExecutionTimedOut",
            ]
        );
        assert_eq!(h.describe().await.unwrap().status, RunStatus::TimedOut);
        env.worker.shutdown().await;
    }

    // Execution timeout: the chain times out, never retried.
    an_execution_timeout_is_not_retried(sqlite) {
        let env = env(sqlite);
        let options = WorkflowOptions::new("exec-timeout", QUEUE)
            .execution_timeout(Duration::from_secs(5))
            .run_timeout(Duration::from_secs(2))
            .retry_policy(RetryPolicy::default().with_initial_interval(Duration::from_secs(1)));
        let h = env.client.start_workflow(Sleeper::run, (), options).await.unwrap();
        assert_eq!(timeout_of(&h).await, TimeoutType::WorkflowExecution);
        let runs = runs::<Sleeper>(&env.client, "exec-timeout").await;
        assert_eq!(runs.len(), 2, "run 1 timed out at 2 s and was retried; run 2 hit the 5 s");
        let (state, next) = timed_out(&runs[0].1);
        assert_eq!(state, RetryState::InProgress);
        assert_eq!(next.as_deref(), Some(runs[1].0.as_str()));
        assert_eq!(timed_out(&runs[1].1), (RetryState::Timeout, None));
        env.worker.shutdown().await;
    }

    // A run timeout with a retry policy: each attempt a new run, after its
    // backoff, until the attempts run out.
    a_timed_out_run_is_retried_as_a_new_run(sqlite) {
        let env = env(sqlite);
        let options = WorkflowOptions::new("retry-timeout", QUEUE)
            .run_timeout(Duration::from_secs(2))
            .retry_policy(retries(2));
        let h = env.client.start_workflow(Sleeper::run, (), options).await.unwrap();
        assert_eq!(timeout_of(&h).await, TimeoutType::WorkflowRun);
        let runs = runs::<Sleeper>(&env.client, "retry-timeout").await;
        assert_eq!(runs.len(), 2);
        assert_eq!(timed_out(&runs[0].1).0, RetryState::InProgress);
        assert_eq!(timed_out(&runs[1].1), (RetryState::MaximumAttemptsReached, None));
        match &runs[1].1[0].attributes {
            EventAttributes::WorkflowExecutionStarted {
                attempt, initiator, first_workflow_task_backoff, continued_execution_run_id, ..
            } => {
                assert_eq!(*attempt, 2);
                assert_eq!(*initiator, Some(RunInitiator::Retry));
                assert_eq!(*first_workflow_task_backoff, Some(Duration::from_secs(1)));
                assert_eq!(continued_execution_run_id.as_deref(), Some(runs[0].0.as_str()));
            }
            other => panic!("{other:?}"),
        }
        let d = h.describe().await.unwrap();
        assert_eq!(d.attempt, 2);
        assert_eq!(d.status, RunStatus::TimedOut);
        env.worker.shutdown().await;
    }

    // A failing workflow with a retry policy: three runs, each failed, the
    // last with the attempts exhausted; the client gets the last failure.
    a_failed_run_is_retried_up_to_its_attempts(sqlite) {
        let env = env(sqlite);
        let options = WorkflowOptions::new("flaky", QUEUE).retry_policy(retries(3));
        let h = env.client.start_workflow(Flaky::run, 0, options).await.unwrap();
        match within(h.result()).await {
            Err(ClientError::Workflow(e)) => {
                assert!(e.cause.to_string().contains("failing attempt 3"), "{}", e.cause)
            }
            other => panic!("{other:?}"),
        }
        let runs = runs::<Flaky>(&env.client, "flaky").await;
        let states: Vec<RetryState> = runs
            .iter()
            .map(|(_, events)| match &events.last().unwrap().attributes {
                EventAttributes::WorkflowExecutionFailed { retry_state, .. } => *retry_state,
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(
            states,
            [RetryState::InProgress, RetryState::InProgress, RetryState::MaximumAttemptsReached]
        );
        env.worker.shutdown().await;
    }

    // Success on a later attempt returns its value; a non-retryable error
    // type ends it at once.
    retries_stop_at_success_and_at_non_retryable_errors(sqlite) {
        let env = env(sqlite);
        let options = WorkflowOptions::new("flaky-ok", QUEUE).retry_policy(retries(5));
        let value = env.client.execute_workflow(Flaky::run, 2, options).await.unwrap();
        assert_eq!(value, "succeeded on attempt 2");
        let policy = retries(5).with_non_retryable_error_types(["Fatal"]);
        let options = WorkflowOptions::new("flaky-fatal", QUEUE).retry_policy(policy);
        let h = env.client.start_workflow(Flaky::run, -1, options).await.unwrap();
        assert!(within(h.result()).await.is_err());
        let runs = runs::<Flaky>(&env.client, "flaky-fatal").await;
        assert_eq!(runs.len(), 1);
        assert!(matches!(
            runs[0].1.last().unwrap().attributes,
            EventAttributes::WorkflowExecutionFailed { retry_state: RetryState::NonRetryableFailure, .. }
        ));
        env.worker.shutdown().await;
    }

    // Id policies that replace an open run terminate it, with Temporal's
    // reason; the combination Temporal refuses is refused.
    id_policies_terminate_the_open_run(sqlite) {
        let env = env(sqlite);
        for (n, options) in [
            WorkflowOptions::new("replaced", QUEUE).id_reuse_policy(IdReusePolicy::TerminateIfRunning),
            WorkflowOptions::new("replaced", QUEUE).id_conflict_policy(IdConflictPolicy::TerminateExisting),
        ]
        .into_iter()
        .enumerate()
        {
            // The first round starts the run it replaces; the second
            // replaces the first round's new run.
            if n == 0 {
                env.client
                    .start_workflow(Blocked::run, (), WorkflowOptions::new("replaced", QUEUE))
                    .await
                    .unwrap();
            }
            let old_run = env.client.workflow_handle::<Blocked>("replaced", None).describe().await.unwrap().run_id;
            let new = env.client.start_workflow(Blocked::run, (), options).await.unwrap();
            let old = env.client.workflow_handle::<Blocked>("replaced", Some(old_run));
            assert_eq!(old.describe().await.unwrap().status, RunStatus::Terminated);
            match &old.history().await.unwrap().last().unwrap().attributes {
                EventAttributes::WorkflowExecutionTerminated { reason, identity, .. } => {
                    assert_eq!(reason, "TerminateIfRunning WorkflowIdReusePolicy");
                    assert_eq!(identity, "history-service");
                }
                other => panic!("{other:?}"),
            }
            assert_eq!(new.describe().await.unwrap().status, RunStatus::Running);
        }
        let both = WorkflowOptions::new("replaced", QUEUE)
            .id_reuse_policy(IdReusePolicy::TerminateIfRunning)
            .id_conflict_policy(IdConflictPolicy::UseExisting);
        let refused = env.client.start_workflow(Blocked::run, (), both).await.err();
        assert!(
            matches!(refused, Some(ClientError::Backend(BackendError::InvalidArgument(ref m))) if m.contains("TerminateIfRunning")),
            "{refused:?}"
        );
        env.client.workflow_handle::<Blocked>("replaced", None).signal("finish", &()).await.unwrap();
        env.worker.shutdown().await;
    }

    // The memo goes in with the start and comes back from describe.
    the_memo_comes_back_from_describe(sqlite) {
        let env = env(sqlite);
        let options = WorkflowOptions::new("memo", QUEUE)
            .memo("note", &"hello")
            .memo("nested", &serde_json::json!({"k": [1, 2]}));
        let h = env.client.start_workflow(Sleeper::run, (), options).await.unwrap();
        let memo = h.describe().await.unwrap().memo;
        assert_eq!(weft::converter::decode::<String>(&memo["note"]).unwrap(), "hello");
        assert_eq!(
            weft::converter::decode::<serde_json::Value>(&memo["nested"]).unwrap(),
            serde_json::json!({"k": [1, 2]})
        );
        env.worker.shutdown().await;
    }
}
