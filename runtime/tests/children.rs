//! Child workflows and signals to other workflows, end to end, on both
//! stores, with every worker in strict mode and a cache of 0 (each task
//! replays the run from history), so replay of the new commands and events
//! is exercised throughout. Histories are compared with what Temporal
//! records for the same programs (`temporal-semantics-more.md`).

mod support;

use support::{env, history_until, names, strict, within};

use std::time::Duration;

use weft::backend::RunStatus;
use weft::failure::{Failure, RetryState};
use weft::history::EventAttributes;
use weft::prelude::*;
use weft::workflow::{ChildCancellationType, ChildOptions, ParentClosePolicy};
use weft::{ClientError, WorkflowHandle};

const QUEUE: &str = "children";
const OTHER_QUEUE: &str = "children-elsewhere";

// ---- the child workflows ----------------------------------------------

#[workflow]
#[derive(Default)]
struct Greet;

#[workflow]
impl Greet {
    #[run]
    async fn run(_ctx: WorkflowContext<Self>, name: String) -> WorkflowResult<String> {
        if name == "boom" {
            return Err(ApplicationError::new("child boom")
                .with_type("ChildErr")
                .into());
        }
        Ok(format!("Hello, {name}!"))
    }
}

/// Waits for a `go` signal or a long timer, whichever first; cancellable.
#[workflow]
#[derive(Default)]
struct Waiter {
    go: bool,
}

#[workflow]
impl Waiter {
    #[run]
    async fn run(ctx: WorkflowContext<Self>, _: ()) -> WorkflowResult<String> {
        weft::select! {
            go = ctx.wait_condition(|s| s.go) => go.map(|()| "released".to_string()).map_err(Into::into),
            slept = ctx.sleep(Duration::from_secs(3600)) => match slept {
                Ok(()) => Ok("slept".to_string()),
                Err(canceled) => Err(canceled.into()),
            },
        }
    }

    #[signal]
    fn go(&mut self) {
        self.go = true;
    }
}

// ---- the parents --------------------------------------------------------

#[workflow]
#[derive(Default)]
struct Parent;

#[workflow]
impl Parent {
    #[run]
    async fn run(ctx: WorkflowContext<Self>, name: String) -> WorkflowResult<String> {
        ctx.execute_child(Greet::run, name, ChildOptions::new("greet-child"))
            .await
    }
}

/// Starts a waiting child with the given close policy and returns at once.
#[workflow]
#[derive(Default)]
struct Leaves;

#[workflow]
impl Leaves {
    #[run]
    async fn run(ctx: WorkflowContext<Self>, policy: String) -> WorkflowResult<String> {
        let policy = match policy.as_str() {
            "terminate" => ParentClosePolicy::Terminate,
            "cancel" => ParentClosePolicy::RequestCancel,
            _ => ParentClosePolicy::Abandon,
        };
        let child = ctx
            .start_child(
                Waiter::run,
                (),
                ChildOptions::new(format!("left-{}", ctx.info().workflow_id))
                    .parent_close_policy(policy),
            )
            .await?;
        Ok(child.run_id().to_string())
    }
}

/// Starts a waiting child, then signals it, or cancels it, as told.
#[workflow]
#[derive(Default)]
struct Drives;

#[workflow]
impl Drives {
    #[run]
    async fn run(ctx: WorkflowContext<Self>, how: String) -> WorkflowResult<String> {
        let id = format!("driven-{}", ctx.info().workflow_id);
        let child = ctx
            .start_child(Waiter::run, (), ChildOptions::new(id.clone()))
            .await?;
        // ANCHOR: typed_signals
        match how.as_str() {
            // The child's own typed signal stubs, on both kinds of handle.
            "signal" => child.go().await?,
            "external-signal" => ctx.external_workflow(id).typed::<Waiter>().go().await?,
            "untyped-signal" => child.signal("go", &()).await?,
            "cancel" => child.cancel().await?,
            _ => ctx.external_workflow(id).cancel().await?,
        }
        // ANCHOR_END: typed_signals
        child.await
    }
}

/// Awaits a waiting child with the given cancellation type; the test
/// cancels this parent.
#[workflow]
#[derive(Default)]
struct AwaitsChild;

#[workflow]
impl AwaitsChild {
    #[run]
    async fn run(ctx: WorkflowContext<Self>, kind: String) -> WorkflowResult<String> {
        let kind = match kind.as_str() {
            "try" => ChildCancellationType::TryCancel,
            "requested" => ChildCancellationType::WaitCancellationRequested,
            "abandon" => ChildCancellationType::Abandon,
            _ => ChildCancellationType::WaitCancellationCompleted,
        };
        let options = ChildOptions::new(format!("awaited-{}", ctx.info().workflow_id))
            .cancellation_type(kind);
        ctx.execute_child(Waiter::run, (), options).await
    }
}

/// Signals or cancels a workflow that does not exist.
#[workflow]
#[derive(Default)]
struct Reaches;

#[workflow]
impl Reaches {
    #[run]
    async fn run(ctx: WorkflowContext<Self>, target: String) -> WorkflowResult<String> {
        let signaled = ctx
            .external_workflow(target.clone())
            .signal("go", &())
            .await;
        let canceled = ctx.external_workflow(target).cancel().await;
        let describe = |r: Result<(), Failure>| match r {
            Ok(()) => "ok".to_string(),
            Err(f) => format!("{}: {}", f.type_name(), f),
        };
        Ok(format!("{} | {}", describe(signaled), describe(canceled)))
    }
}

/// Starts a child on another task queue.
#[workflow]
#[derive(Default)]
struct Elsewhere;

#[workflow]
impl Elsewhere {
    #[run]
    async fn run(ctx: WorkflowContext<Self>, name: String) -> WorkflowResult<String> {
        let options = ChildOptions::new("elsewhere-child").task_queue(OTHER_QUEUE);
        ctx.execute_child(Greet::run, name, options).await
    }
}

/// Starts three children in one workflow task, signals two other
/// workflows in the same task, and joins the children's results.
#[workflow]
#[derive(Default)]
struct Fans;

#[workflow]
impl Fans {
    #[run]
    async fn run(ctx: WorkflowContext<Self>, _: ()) -> WorkflowResult<String> {
        let id = ctx.info().workflow_id.clone();
        let names = ["ann", "bo", "cy"];
        let children = names.map(|name| {
            ctx.execute_child(
                Greet::run,
                name.into(),
                ChildOptions::new(format!("{id}-{name}")),
            )
        });
        let signals = [
            ctx.external_workflow("nobody-1"),
            ctx.external_workflow("nobody-2"),
        ];
        let sent = join_all(signals.iter().map(|s| s.signal("hi", &()))).await;
        let greetings = try_join_all(children).await?;
        let failed = sent.iter().filter(|r| r.is_err()).count();
        Ok(format!(
            "{} ({failed} signals found nobody)",
            greetings.join(" ")
        ))
    }
}

/// Awaits one child, on the queue `child-q`.
#[workflow]
async fn one_child(ctx: WorkflowContext, _: ()) -> WorkflowResult<String> {
    let options = ChildOptions::new("quick-child").task_queue("child-q");
    ctx.execute_child(Greet::run, "ann".into(), options).await
}

fn worker(client: &Client, queue: &str) -> weft::worker::WorkerHandle {
    let w = Worker::new(client, queue)
        .with_options(strict(0))
        .register_workflow::<Greet>()
        .register_workflow::<Waiter>()
        .register_workflow::<Parent>()
        .register_workflow::<Leaves>()
        .register_workflow::<Drives>()
        .register_workflow::<AwaitsChild>()
        .register_workflow::<Reaches>()
        .register_workflow::<Elsewhere>()
        .register_workflow::<Fans>();
    w.start().unwrap()
}

fn options(id: &str) -> WorkflowOptions {
    WorkflowOptions::new(id, QUEUE)
}

async fn status<W: weft::Workflow>(client: &Client, id: &str) -> RunStatus {
    client
        .workflow_handle::<W>(id, None)
        .describe()
        .await
        .unwrap()
        .status
}

/// The failure a run ended with.
async fn failure<W: weft::Workflow>(h: &WorkflowHandle<W>) -> Failure
where
    W::Output: std::fmt::Debug,
{
    match within(h.result()).await {
        Err(ClientError::Workflow(e)) => e.cause,
        other => panic!("expected the run to fail, got {other:?}"),
    }
}

/// A child that closes before its parent's next task is handed out: the
/// parent's task holds the child's start and its close, and the code, which
/// has not yet polled the start, still gets the result (driven by hand on
/// the engine, so the order is certain; then replayed).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_child_closed_before_its_start_is_seen_still_resolves() {
    use support::backend::{NS, TQ, complete, done, poll_wft_on, request};
    use weft::backend::Backend;
    use weft::protocol::{Command, StartChild};
    let env = env(true).await;
    let e = &env.engine;
    let mut start = request("quick", "quick-req");
    start.workflow_type = "OneChild".into();
    start.input = vec![weft::converter::encode(&()).unwrap()];
    e.start_workflow(start).await.unwrap();
    let parent = poll_wft_on(e, TQ).await;
    let child = StartChild {
        seq: 1,
        workflow_id: "quick-child".into(),
        workflow_type: "Greet".into(),
        task_queue: "child-q".into(),
        input: vec![weft::converter::encode(&"ann").unwrap()],
        parent_close_policy: Default::default(),
        id_reuse_policy: Default::default(),
        cancellation_type: Default::default(),
        run_options: Default::default(),
    };
    complete(e, &parent, vec![Command::StartChildWorkflow(child)])
        .await
        .unwrap();
    let child_task = poll_wft_on(e, "child-q").await;
    complete(e, &child_task, vec![done("Hello, ann!")])
        .await
        .unwrap();
    let parent = poll_wft_on(e, TQ).await;
    complete(e, &parent, vec![done("Hello, ann!")])
        .await
        .unwrap();
    let events = e.history(NS, "quick", None).await.unwrap();
    let n = names(&events);
    assert!(
        n.windows(3).any(|w| w
            == [
                "ChildWorkflowExecutionStarted",
                "WorkflowTaskScheduled",
                "ChildWorkflowExecutionCompleted",
            ]),
        "{n:?}"
    );
    let mut replayer = weft::replay::Replayer::new();
    replayer.register_workflow::<OneChild>();
    replayer
        .replay(&events)
        .expect("the start and the close in one activation replay");
}

both_stores! {
    // Commands of one task are all recorded before what they lead to, as
    // Temporal orders them: the initiations, then the starts and the
    // signals' outcomes, the first of which schedules the next workflow
    // task (so the others follow its scheduled event, as each outcome is
    // its own step in Temporal); the strict worker replays it on every
    // task.
    several_children_and_signals_in_one_task(sqlite) {
        let env = env(sqlite).await;
        let w = worker(&env.client, QUEUE);
        let h = env.client.start_workflow(Fans::run, (), options("fans")).await.unwrap();
        assert_eq!(
            within(h.result()).await.unwrap(),
            "Hello, ann! Hello, bo! Hello, cy! (2 signals found nobody)"
        );
        let n = names(&h.history().await.unwrap());
        // The signals go out in the first task (the children's futures are
        // polled when joined, in the next).
        let holds = |run: &[&str]| n.windows(run.len()).any(|w| w == run);
        assert!(
            holds(&[
                "SignalExternalWorkflowExecutionInitiated",
                "SignalExternalWorkflowExecutionInitiated",
                "SignalExternalWorkflowExecutionFailed",
                "WorkflowTaskScheduled",
                "SignalExternalWorkflowExecutionFailed",
            ]),
            "{n:?}"
        );
        assert!(
            holds(&[
                "StartChildWorkflowExecutionInitiated",
                "StartChildWorkflowExecutionInitiated",
                "StartChildWorkflowExecutionInitiated",
                "ChildWorkflowExecutionStarted",
                "WorkflowTaskScheduled",
                "ChildWorkflowExecutionStarted",
                "ChildWorkflowExecutionStarted",
            ]),
            "{n:?}"
        );
        w.shutdown().await;
    }

    // The reference's greeting child; the parent's history is Temporal's
    // 14 events.
    a_child_runs_and_its_result_reaches_the_parent(sqlite) {
        let env = env(sqlite).await;
        let w = worker(&env.client, QUEUE);
        let h = env.client.start_workflow(Parent::run, "World".into(), options("parent")).await.unwrap();
        assert_eq!(within(h.result()).await.unwrap(), "Hello, World!");
        let events = h.history().await.unwrap();
        assert_eq!(
            names(&events),
            [
                "WorkflowExecutionStarted",
                "WorkflowTaskScheduled", "WorkflowTaskStarted", "WorkflowTaskCompleted",
                "StartChildWorkflowExecutionInitiated",
                "ChildWorkflowExecutionStarted",
                "WorkflowTaskScheduled", "WorkflowTaskStarted", "WorkflowTaskCompleted",
                "ChildWorkflowExecutionCompleted",
                "WorkflowTaskScheduled", "WorkflowTaskStarted", "WorkflowTaskCompleted",
                "WorkflowExecutionCompleted",
            ]
        );
        let child = env.client.workflow_handle::<Greet>("greet-child", None);
        let child_events = child.history().await.unwrap();
        assert_eq!(names(&child_events).len(), 5);
        match &child_events[0].attributes {
            EventAttributes::WorkflowExecutionStarted { parent: Some(p), .. } => {
                assert_eq!(p.workflow_id, "parent");
                assert_eq!(p.initiated_event_id, 5);
            }
            other => panic!("the child names its parent: {other:?}"),
        }
        w.shutdown().await;
    }

    // The child's failure reaches the parent as a ChildWorkflowError whose
    // cause is the child's error; uncaught, it fails the parent.
    a_child_failure_keeps_its_cause_chain(sqlite) {
        let env = env(sqlite).await;
        let w = worker(&env.client, QUEUE);
        let h = env.client.start_workflow(Parent::run, "boom".into(), options("parent-fails")).await.unwrap();
        let Failure::ChildWorkflow(child) = failure(&h).await else {
            panic!("a ChildWorkflowError");
        };
        assert_eq!(child.workflow_id, "greet-child");
        assert_eq!(child.workflow_type, "Greet");
        assert_eq!(child.retry_state, RetryState::RetryPolicyNotSet);
        let cause = child.cause.as_application().expect("the child's error");
        assert_eq!(cause.message, "child boom");
        assert_eq!(cause.type_name, "ChildErr");
        let events = h.history().await.unwrap();
        assert!(names(&events).contains(&"ChildWorkflowExecutionFailed"));
        assert_eq!(status::<Greet>(&env.client, "greet-child").await, RunStatus::Failed);
        w.shutdown().await;
    }

    // Each parent close policy, applied to a child still waiting.
    parent_close_policies_reach_a_running_child(sqlite) {
        let env = env(sqlite).await;
        let w = worker(&env.client, QUEUE);
        for (policy, expected) in [
            ("terminate", RunStatus::Terminated),
            ("cancel", RunStatus::Canceled),
            ("abandon", RunStatus::Running),
        ] {
            let id = format!("leaves-{policy}");
            let h = env.client.start_workflow(Leaves::run, policy.into(), options(&id)).await.unwrap();
            within(h.result()).await.unwrap();
            let child = env.client.workflow_handle::<Waiter>(&format!("left-{id}"), None);
            if expected == RunStatus::Running {
                assert_eq!(child.describe().await.unwrap().status, RunStatus::Running);
                child.signal("go", &()).await.unwrap();
                assert_eq!(within(child.result()).await.unwrap(), "released");
            } else {
                let _ = within(child.result()).await;
                assert_eq!(child.describe().await.unwrap().status, expected, "{policy}");
            }
            let events = child.history().await.unwrap();
            match policy {
                "terminate" => match &events.last().unwrap().attributes {
                    EventAttributes::WorkflowExecutionTerminated { reason, identity, .. } => {
                        assert_eq!(reason, "by parent close policy");
                        assert_eq!(identity, "history-service");
                    }
                    other => panic!("{other:?}"),
                },
                "cancel" => assert!(names(&events).contains(&"WorkflowExecutionCancelRequested")),
                _ => {}
            }
        }
        w.shutdown().await;
    }

    // A child id a running workflow holds: the start fails, recorded.
    a_child_id_in_use_fails_the_start(sqlite) {
        let env = env(sqlite).await;
        let w = worker(&env.client, QUEUE);
        let blocker = env.client
            .start_workflow(Waiter::run, (), options("greet-child"))
            .await
            .unwrap();
        let h = env.client.start_workflow(Parent::run, "World".into(), options("parent-blocked")).await.unwrap();
        let f = failure(&h).await;
        assert_eq!(f.type_name(), "WorkflowAlreadyStartedError", "{f}");
        let events = h.history().await.unwrap();
        let n = names(&events);
        assert!(n.contains(&"StartChildWorkflowExecutionFailed"), "{n:?}");
        assert!(!n.contains(&"ChildWorkflowExecutionStarted"), "{n:?}");
        blocker.signal("go", &()).await.unwrap();
        within(blocker.result()).await.unwrap();
        w.shutdown().await;
    }

    // A child on another task queue runs there.
    a_child_runs_on_its_own_task_queue(sqlite) {
        let env = env(sqlite).await;
        let w = worker(&env.client, QUEUE);
        let other = worker(&env.client, OTHER_QUEUE);
        let h = env.client.start_workflow(Elsewhere::run, "there".into(), options("elsewhere")).await.unwrap();
        assert_eq!(within(h.result()).await.unwrap(), "Hello, there!");
        let child = env.client.workflow_handle::<Greet>("elsewhere-child", None);
        assert_eq!(child.describe().await.unwrap().task_queue, OTHER_QUEUE);
        w.shutdown().await;
        other.shutdown().await;
    }

    // Signals to a child, by its handle and by id; events on both sides as
    // Temporal records them.
    a_parent_signals_its_child(sqlite) {
        let env = env(sqlite).await;
        let w = worker(&env.client, QUEUE);
        for how in ["signal", "external-signal", "untyped-signal"] {
            let id = format!("drives-{how}");
            let h = env.client.start_workflow(Drives::run, how.into(), options(&id)).await.unwrap();
            assert_eq!(within(h.result()).await.unwrap(), "released", "{how}");
            let n = names(&h.history().await.unwrap());
            assert!(n.contains(&"SignalExternalWorkflowExecutionInitiated"), "{n:?}");
            assert!(n.contains(&"ExternalWorkflowExecutionSignaled"), "{n:?}");
            let child = env.client.workflow_handle::<Waiter>(&format!("driven-{id}"), None);
            let signaled = child.history().await.unwrap().into_iter().find_map(|e| match e.attributes {
                EventAttributes::WorkflowExecutionSignaled { identity, external_workflow_execution, .. } => {
                    Some((identity, external_workflow_execution))
                }
                _ => None,
            });
            let (identity, from) = signaled.expect("the child was signaled");
            assert_eq!(identity, "history-service");
            assert_eq!(from.expect("names the sender").workflow_id, id);
        }
        w.shutdown().await;
    }

    // A parent cancels its child, by its handle and by id: the child ends
    // canceled and the parent's await gets a ChildWorkflowError caused by a
    // cancellation.
    a_parent_cancels_its_child(sqlite) {
        let env = env(sqlite).await;
        let w = worker(&env.client, QUEUE);
        for how in ["cancel", "external-cancel"] {
            let id = format!("drives-{how}");
            let h = env.client.start_workflow(Drives::run, how.into(), options(&id)).await.unwrap();
            let Failure::ChildWorkflow(child) = failure(&h).await else {
                panic!("a ChildWorkflowError");
            };
            assert!(matches!(*child.cause, Failure::Canceled(_)), "{:?}", child.cause);
            assert_eq!(child.retry_state, RetryState::NonRetryableFailure);
            let n = names(&h.history().await.unwrap());
            assert!(n.contains(&"RequestCancelExternalWorkflowExecutionInitiated"), "{n:?}");
            assert!(n.contains(&"ExternalWorkflowExecutionCancelRequested"), "{n:?}");
            assert!(n.contains(&"ChildWorkflowExecutionCanceled"), "{n:?}");
            assert_eq!(
                status::<Waiter>(&env.client, &format!("driven-{id}")).await,
                RunStatus::Canceled
            );
        }
        w.shutdown().await;
    }

    // Signalling or cancelling a workflow that does not exist: Temporal's
    // error type and wording, and the failed events.
    reaching_an_unknown_workflow_fails_with_not_found(sqlite) {
        let env = env(sqlite).await;
        let w = worker(&env.client, QUEUE);
        let h = env.client.start_workflow(Reaches::run, "nobody".into(), options("reaches")).await.unwrap();
        let answer = within(h.result()).await.unwrap();
        assert!(answer.contains("ExternalWorkflowExecutionNotFound: "), "{answer}");
        assert!(answer.contains("Unable to signal external workflow because it was not found"), "{answer}");
        assert!(answer.contains("Unable to cancel external workflow because not found"), "{answer}");
        let n = names(&h.history().await.unwrap());
        assert!(n.contains(&"SignalExternalWorkflowExecutionFailed"), "{n:?}");
        assert!(n.contains(&"RequestCancelExternalWorkflowExecutionFailed"), "{n:?}");
        w.shutdown().await;
    }

    // The client cancels a parent awaiting a child: each cancellation type.
    cancelling_a_parent_reaches_the_child_it_awaits(sqlite) {
        let env = env(sqlite).await;
        let w = worker(&env.client, QUEUE);
        for (kind, child_status) in [
            ("completed", RunStatus::Canceled),
            ("requested", RunStatus::Canceled),
            ("try", RunStatus::Terminated),
            ("abandon", RunStatus::Terminated),
        ] {
            let id = format!("awaits-{kind}");
            let h = env.client.start_workflow(AwaitsChild::run, kind.into(), options(&id)).await.unwrap();
            let child_id = format!("awaited-{id}");
            // The parent awaits once the child runs.
            history_until(&h, |e| matches!(e.attributes, EventAttributes::ChildWorkflowExecutionStarted { .. })).await;
            // The parent's describe lists its running child.
            let d = h.describe().await.unwrap();
            assert_eq!(d.pending_children, 1);
            assert_eq!(d.children[0].workflow_id, child_id);
            assert_eq!(d.children[0].workflow_type, "Waiter");
            assert_eq!(d.children[0].parent_close_policy, ParentClosePolicy::Terminate);
            h.cancel().await.unwrap();
            let f = failure(&h).await;
            assert!(matches!(f, Failure::Canceled(_)), "{kind}: {f:?}");
            assert_eq!(h.describe().await.unwrap().status, RunStatus::Canceled, "{kind}");
            let child = env.client.workflow_handle::<Waiter>(&child_id, None);
            let _ = within(child.result()).await;
            // A requested cancellation may still be running when the
            // parent closes: then its close policy terminates it.
            let status = child.describe().await.unwrap().status;
            if kind == "requested" {
                assert!(matches!(status, RunStatus::Canceled | RunStatus::Terminated), "{kind}: {status:?}");
            } else {
                assert_eq!(status, child_status, "{kind}");
            }
        }
        w.shutdown().await;
    }
}
