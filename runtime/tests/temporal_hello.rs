//! The Temporal backend end to end on a dev server: activities, timers,
//! signals, queries, updates (accepted and rejected), cancellation,
//! termination, describe, failures with their types and messages.

mod temporal_support;

use std::time::Duration;

use serde::{Deserialize, Serialize};
use weft::backend::RunStatus;
use weft::prelude::*;
use weft::replay::Replayer;
use weft::{ClientError, Failure};

const QUEUE: &str = "hello";

#[activity(start_to_close_timeout = "5s")]
async fn greet(name: String) -> Result<String, ApplicationError> {
    Ok(format!("Hello, {name}!"))
}

#[activity(start_to_close_timeout = "5s")]
async fn refuse(name: String) -> Result<String, ApplicationError> {
    Err(ApplicationError::new(format!("no greeting for {name}"))
        .with_type("Refused")
        .non_retryable())
}

#[workflow]
async fn hello(ctx: WorkflowContext, name: String) -> WorkflowResult<String> {
    ctx.sleep(Duration::from_millis(100)).await?;
    Ok(ctx.activity(GREET, name).await?)
}

#[workflow]
async fn refused(ctx: WorkflowContext, name: String) -> WorkflowResult<String> {
    Ok(ctx.activity(REFUSE, name).await?)
}

#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
struct Tally {
    items: Vec<String>,
    done: bool,
}

#[workflow]
#[derive(Default)]
struct Counter {
    tally: Tally,
}

#[workflow]
impl Counter {
    #[run]
    async fn run(ctx: WorkflowContext<Self>, _input: ()) -> WorkflowResult<Tally> {
        ctx.wait_condition(|s| s.tally.done).await?;
        Ok(ctx.state(|s| s.tally.clone()))
    }

    #[signal]
    fn add(&mut self, item: String) {
        self.tally.items.push(item);
    }

    #[signal]
    fn finish(&mut self) {
        self.tally.done = true;
    }

    #[query]
    fn count(&self) -> usize {
        self.tally.items.len()
    }

    #[update]
    fn push(&mut self, item: String) -> Result<usize, ApplicationError> {
        self.tally.items.push(item);
        Ok(self.tally.items.len())
    }

    #[validator(push)]
    fn check_push(&self, item: &String) -> Result<(), ApplicationError> {
        if item.is_empty() {
            return Err(ApplicationError::new("empty item").with_type("Empty"));
        }
        Ok(())
    }
}

/// Starts a `Counter` child that outlives it (abandoned), then waits for
/// `finish`.
#[workflow]
#[derive(Default)]
struct Parent {
    done: bool,
}

#[workflow]
impl Parent {
    #[run]
    async fn run(ctx: WorkflowContext<Self>, child_id: String) -> WorkflowResult<()> {
        let options = ChildOptions::new(child_id).parent_close_policy(ParentClosePolicy::Abandon);
        ctx.start_child(Counter::run, (), options).await?;
        ctx.wait_condition(|s| s.done).await?;
        Ok(())
    }

    #[signal]
    fn finish(&mut self) {
        self.done = true;
    }
}

/// Fails its first attempt; its retry succeeds.
#[workflow]
async fn flaky(ctx: WorkflowContext, _input: ()) -> WorkflowResult<u32> {
    let attempt = ctx.info().attempt;
    if attempt < 2 {
        return Err(ApplicationError::new("first attempt fails").into());
    }
    Ok(attempt)
}

fn worker(client: &Client) -> Worker {
    Worker::new(client, QUEUE)
        .register_workflow::<Hello>()
        .register_workflow::<Refused>()
        .register_workflow::<Counter>()
        .register_workflow::<Parent>()
        .register_workflow::<Flaky>()
        .register_activity(GREET)
        .register_activity(REFUSE)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hello_runs_on_a_temporal_dev_server() {
    let Some(server) = temporal_support::start(&[]).await else {
        return;
    };
    let client = server.client().await;
    // ANCHOR: worker
    let worker = worker(&client).start().unwrap();
    // ANCHOR_END: worker

    let greeting = client
        .execute_workflow(hello, "weft".into(), WorkflowOptions::new("hello-1", QUEUE))
        .await
        .unwrap();
    assert_eq!(greeting, "Hello, weft!");

    let err = client
        .execute_workflow(
            refused,
            "x".into(),
            WorkflowOptions::new("refused-1", QUEUE),
        )
        .await
        .unwrap_err();
    let ClientError::Workflow(err) = err else {
        panic!("expected a workflow failure, got {err:?}");
    };
    let Failure::Activity(activity) = &err.cause else {
        panic!("expected an activity error, got {:?}", err.cause);
    };
    let Failure::Application(app) = &*activity.cause else {
        panic!("expected an application error, got {:?}", activity.cause);
    };
    assert_eq!(app.message, "no greeting for x");
    assert_eq!(app.type_name, "Refused");
    assert!(app.non_retryable);
    assert_eq!(activity.activity_type, "refuse");

    let description = client
        .workflow_handle::<Hello>("hello-1", None)
        .describe()
        .await
        .unwrap();
    assert_eq!(description.status, RunStatus::Completed);
    assert_eq!(description.workflow_type, "Hello");
    replays_in_weft(&server, &client, "hello-1").await;
    replays_in_weft(&server, &client, "refused-1").await;
    worker.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signals_queries_and_updates_reach_the_run() {
    let Some(server) = temporal_support::start(&[]).await else {
        return;
    };
    let client = server.client().await;
    let worker = worker(&client).start().unwrap();
    let handle = client
        .start_workflow(Counter::run, (), WorkflowOptions::new("counter-1", QUEUE))
        .await
        .unwrap();
    // A second start of the id is refused, naming the run that holds it.
    let again = client
        .start_workflow(Counter::run, (), WorkflowOptions::new("counter-1", QUEUE))
        .await;
    match &again {
        Err(ClientError::Backend(weft::backend::BackendError::WorkflowAlreadyStarted {
            run_id,
            ..
        })) => assert_eq!(Some(run_id.as_str()), handle.run_id()),
        Err(e) => panic!("expected WorkflowAlreadyStarted, got {e:?}"),
        Ok(_) => panic!("a second start of counter-1 was accepted"),
    }
    handle.add("a".to_string()).await.unwrap();
    assert_eq!(handle.push("b".to_string()).await.unwrap(), 2);
    let rejected = handle.push(String::new()).await.unwrap_err();
    let ClientError::Update(Failure::Application(app)) = &rejected else {
        panic!("expected a rejected update, got {rejected:?}");
    };
    assert_eq!(
        (app.message.as_str(), app.type_name.as_str()),
        ("empty item", "Empty")
    );
    assert_eq!(handle.count().await.unwrap(), 2);
    handle.finish().await.unwrap();
    let tally = handle.result().await.unwrap();
    assert_eq!(tally.items, vec!["a".to_string(), "b".to_string()]);
    replays_in_weft(&server, &client, "counter-1").await;

    // Cancellation and termination close runs as they do on weft's engine.
    let canceled = client
        .start_workflow(Counter::run, (), WorkflowOptions::new("counter-2", QUEUE))
        .await
        .unwrap();
    canceled.cancel().await.unwrap();
    let err = canceled.result().await.unwrap_err();
    assert!(
        matches!(&err, ClientError::Workflow(w) if matches!(w.cause, Failure::Canceled(_))),
        "{err:?}"
    );
    let terminated = client
        .start_workflow(Counter::run, (), WorkflowOptions::new("counter-3", QUEUE))
        .await
        .unwrap();
    terminated.terminate("enough").await.unwrap();
    let err = terminated.result().await.unwrap_err();
    assert!(
        matches!(&err, ClientError::Workflow(w) if matches!(&w.cause, Failure::Terminated(t) if t.reason == "enough")),
        "{err:?}"
    );
    worker.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn describe_names_children_attempts_and_the_chain() {
    let Some(server) = temporal_support::start(&[]).await else {
        return;
    };
    let client = server.client().await;
    let worker = worker(&client).start().unwrap();
    let parent = client
        .start_workflow(
            Parent::run,
            "child-1".to_string(),
            WorkflowOptions::new("parent-1", QUEUE),
        )
        .await
        .unwrap();
    // The child is described once the parent has started it.
    let child = client.workflow_handle::<Counter>("child-1", None);
    let child_run = loop {
        match child.describe().await {
            Ok(d) => break d.run_id,
            Err(ClientError::Backend(weft::backend::BackendError::NotFound { .. })) => {
                tokio::time::sleep(Duration::from_millis(20)).await
            }
            Err(e) => panic!("{e}"),
        }
    };
    let described = parent.describe().await.unwrap();
    assert_eq!(described.pending_children, 1);
    let children = &described.children;
    assert_eq!(children.len(), 1, "{children:?}");
    assert_eq!(children[0].workflow_id, "child-1");
    assert_eq!(children[0].run_id, child_run);
    assert_eq!(children[0].workflow_type, "Counter");
    assert_eq!(children[0].parent_close_policy, ParentClosePolicy::Abandon);
    assert_eq!(described.attempt, 1);
    assert_eq!(described.run_chain, std::slice::from_ref(&described.run_id));
    parent.finish().await.unwrap();
    parent.result().await.unwrap();
    child.terminate("done").await.unwrap();

    // A retried run: attempt 2, its chain names the failed first run,
    // which names it as the next.
    let policy = RetryPolicy::default()
        .with_initial_interval(Duration::from_millis(10))
        .with_maximum_attempts(2);
    let flaky = client
        .start_workflow(
            flaky,
            (),
            WorkflowOptions::new("flaky-1", QUEUE).retry_policy(policy),
        )
        .await
        .unwrap();
    assert_eq!(flaky.result().await.unwrap(), 2);
    let latest = client
        .workflow_handle::<Flaky>("flaky-1", None)
        .describe()
        .await
        .unwrap();
    assert_eq!(latest.attempt, 2);
    assert_eq!(latest.run_chain.len(), 2, "{:?}", latest.run_chain);
    assert_eq!(latest.run_chain[1], latest.run_id);
    let first = client
        .workflow_handle::<Flaky>("flaky-1", Some(latest.run_chain[0].clone()))
        .describe()
        .await
        .unwrap();
    assert_eq!(first.status, RunStatus::Failed);
    assert_eq!(first.next_run_id.as_deref(), Some(latest.run_id.as_str()));
    assert_eq!(first.attempt, 1);
    worker.shutdown().await;
}

/// The run's history, as Temporal's CLI exports it and as weft's client
/// reads it, replays in weft's `Replayer` against the same code; against
/// other code (another workflow registered under the type's name) it does
/// not.
async fn replays_in_weft(server: &temporal_support::DevServer, client: &Client, id: &str) {
    let mut replayer = Replayer::new();
    replayer
        .register_workflow::<Hello>()
        .register_workflow::<Refused>()
        .register_workflow::<Counter>();
    let events = server
        .replay_both_ways::<Hello>(client, &replayer, id)
        .await;
    assert!(events.len() > 4, "{id}: {events:?}");
    let mut changed = events.clone();
    for event in &mut changed {
        if let weft::history::EventAttributes::WorkflowExecutionStarted { workflow_type, .. } =
            &mut event.attributes
        {
            *workflow_type = if workflow_type == "Hello" {
                "Refused"
            } else {
                "Hello"
            }
            .into();
        }
    }
    assert!(
        replayer.replay(&changed).is_err(),
        "{id}: other code replayed the history"
    );
}
