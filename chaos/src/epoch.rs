//! One epoch of the workload, as a client drives it: start every workflow
//! (with fixed request ids), send updates (fixed update ids) and signals
//! (fixed request ids), cancel, create a schedule; then wait for every
//! result and compare it with the one expected. Run again after a kill, it
//! sends exactly the same requests, which the engine must take as retries.

use std::time::Duration;

use futures::future::BoxFuture;
use weft::backend::{BackendError, IdConflictPolicy};
use weft::schedule::{OverlapPolicy, Schedule, ScheduleAction, ScheduleSpec};
use weft::{Client, ClientError, WorkflowOptions};

use crate::workload::{
    Beats, CANCELLABLE_RESULT, Cancellable, Cart, CartHandle, Chain, ChainInput, Parent, Steps,
    TASK_QUEUE, Tally, TallyHandle, chain_result, parent_result, steps_result,
};

/// How much of each kind an epoch runs.
#[derive(Clone, Copy, Debug)]
pub struct Plan {
    /// `Steps` workflows.
    pub steps: u32,
    /// Activities in each.
    pub steps_len: u32,
    /// Continue-as-new chains.
    pub chains: u32,
    /// Runs in each chain.
    pub chain_runs: u32,
    /// Heartbeat steps of the `Beats` workflow.
    pub beats: u32,
    /// Updates and signals sent to the tally (each).
    pub messages: u32,
    /// Updates to the update-with-start cart (the first starts it).
    pub cart_items: u32,
    /// Children of the parent.
    pub children: u32,
    /// Actions the schedule takes (one a second).
    pub schedule_actions: u64,
}

impl Default for Plan {
    fn default() -> Self {
        Plan {
            steps: 6,
            steps_len: 5,
            chains: 2,
            chain_runs: 3,
            beats: 30,
            messages: 6,
            cart_items: 3,
            children: 3,
            schedule_actions: 2,
        }
    }
}

/// What can end an epoch's client early.
#[derive(Debug, thiserror::Error)]
pub enum EpochError {
    /// A client call failed.
    #[error("{what}: {source:#}")]
    Client {
        /// Which call.
        what: String,
        /// Why.
        source: Box<ClientError>,
    },
    /// The ledger could not be written.
    #[error("ledger: {0}")]
    Ledger(std::io::Error),
    /// A workflow returned another result than the one expected.
    #[error("{workflow_id} returned {got}, expected {expected}")]
    WrongResult {
        /// The workflow.
        workflow_id: String,
        /// What it returned.
        got: i64,
        /// What it should have.
        expected: i64,
    },
}

fn client_err(what: impl Into<String>) -> impl FnOnce(ClientError) -> EpochError {
    let what = what.into();
    move |source| EpochError::Client {
        what,
        source: Box::new(source),
    }
}

fn expect(workflow_id: &str, got: i64, expected: i64) -> Result<(), EpochError> {
    if got == expected {
        Ok(())
    } else {
        Err(EpochError::WrongResult {
            workflow_id: workflow_id.to_string(),
            got,
            expected,
        })
    }
}

/// Options whose request id is fixed, so a start sent again after a kill
/// finds the run it started (open or closed) instead of starting another.
fn options(id: &str) -> WorkflowOptions {
    WorkflowOptions::new(id, TASK_QUEUE).request_id(format!("start-{id}"))
}

/// Writes down that the engine acknowledged `fact`, which must then be
/// durable: the checks look for it in what the store held after the kill
/// of this process.
fn ack(fact: String) -> Result<(), EpochError> {
    crate::ledger::record("ack", &fact, 0).map_err(EpochError::Ledger)
}

/// A signal sent again after a kill may find the run closed: the signal
/// was applied before (the run could not have closed without it), which
/// the checks of history and result confirm.
fn signal_sent(
    outcome: Result<(), ClientError>,
    what: String,
    fact: String,
) -> Result<(), EpochError> {
    match outcome {
        Ok(()) => ack(fact),
        Err(ClientError::Backend(BackendError::NotFound { .. })) => Ok(()),
        Err(e) => Err(client_err(what)(e)),
    }
}

type Task<'a> = BoxFuture<'a, Result<(), EpochError>>;

/// Runs epoch `epoch` of `plan` to the end.
pub async fn run(client: &Client, epoch: u32, plan: Plan) -> Result<(), EpochError> {
    let p = format!("e{epoch}");
    let mut tasks: Vec<Task<'_>> = Vec::new();
    for i in 0..plan.steps {
        tasks.push(Box::pin(steps(
            client,
            format!("{p}-steps-{i}"),
            plan.steps_len,
        )));
    }
    for i in 0..plan.chains {
        tasks.push(Box::pin(chain(
            client,
            format!("{p}-chain-{i}"),
            plan.chain_runs,
        )));
    }
    tasks.push(Box::pin(beats(client, format!("{p}-beats"), plan.beats)));
    tasks.push(Box::pin(tally(client, format!("{p}-tally"), plan.messages)));
    tasks.push(Box::pin(cart(client, format!("{p}-cart"), plan.cart_items)));
    tasks.push(Box::pin(parent(
        client,
        format!("{p}-parent"),
        plan.children,
    )));
    tasks.push(Box::pin(cancel(client, format!("{p}-cancel"))));
    tasks.push(Box::pin(schedule(client, &p, plan.schedule_actions)));
    futures::future::try_join_all(tasks).await.map(|_| ())
}

async fn steps(client: &Client, id: String, n: u32) -> Result<(), EpochError> {
    let handle = client
        .start_workflow(Steps::run, n, options(&id))
        .await
        .map_err(client_err(format!("starting {id}")))?;
    ack(format!("start:{id}"))?;
    let got = handle.result().await.map_err(client_err(&id))?;
    expect(&id, got, steps_result(n))
}

async fn chain(client: &Client, id: String, runs: u32) -> Result<(), EpochError> {
    let input = ChainInput {
        left: runs,
        run: 0,
        acc: 0,
    };
    let handle = client
        .start_workflow(Chain::run, input, options(&id))
        .await
        .map_err(client_err(format!("starting {id}")))?;
    ack(format!("start:{id}"))?;
    let got = handle.result().await.map_err(client_err(&id))?;
    expect(&id, got, chain_result(runs))
}

async fn beats(client: &Client, id: String, n: u32) -> Result<(), EpochError> {
    let handle = client
        .start_workflow(Beats::run, n, options(&id))
        .await
        .map_err(client_err(format!("starting {id}")))?;
    ack(format!("start:{id}"))?;
    let got = handle.result().await.map_err(client_err(&id))?;
    expect(&id, got, i64::from(n))
}

/// Updates `+1` (ids `<id>-u<i>`) and signals `+100` (request ids
/// `<id>-s<i>`), one of each in turn. An update returns the total after
/// it, the first time and when retried.
async fn tally(client: &Client, id: String, messages: u32) -> Result<(), EpochError> {
    let handle = client
        .start_workflow(Tally::run, messages, options(&id))
        .await
        .map_err(client_err(format!("starting {id}")))?;
    ack(format!("start:{id}"))?;
    for i in 1..=messages {
        let total = handle
            .with_update_id(format!("{id}-u{i}"))
            .add(1)
            .await
            .map_err(client_err(format!("{id} update {i}")))?;
        ack(format!("update:{id}-u{i}"))?;
        expect(&format!("{id} update {i}"), total, 101 * i64::from(i) - 100)?;
        let sent = handle
            .signal_with_request_id("hundred", &(), format!("{id}-s{i}"))
            .await;
        signal_sent(sent, format!("{id} signal {i}"), format!("signal:{id}#{i}"))?;
    }
    let got = handle.result().await.map_err(client_err(&id))?;
    expect(&id, got, 101 * i64::from(messages))
}

/// The first update starts the cart (update-with-start, fixed request
/// id); item `i` costs `i + 1`; a signal checks out.
async fn cart(client: &Client, id: String, items: u32) -> Result<(), EpochError> {
    let opts = options(&id).id_conflict_policy(IdConflictPolicy::UseExisting);
    let handle = client
        .update_with_start(Cart::run, (), opts)
        .map_err(client_err(format!("{id} update-with-start")))?;
    let mut expected = 0;
    for i in 0..items {
        let price = i64::from(i) + 1;
        expected += price;
        let total = handle
            .with_update_id(format!("{id}-item{i}"))
            .add_item(price)
            .await
            .map_err(client_err(format!("{id} item {i}")))?;
        ack(format!("update:{id}-item{i}"))?;
        ack(format!("start:{id}"))?;
        expect(&format!("{id} item {i}"), total, expected)?;
    }
    let sent = handle
        .signal_with_request_id("checkout", &(), format!("{id}-checkout"))
        .await;
    signal_sent(sent, format!("{id} checkout"), format!("signal:{id}#1"))?;
    let got = handle.result().await.map_err(client_err(&id))?;
    expect(&id, got, expected)
}

async fn parent(client: &Client, id: String, children: u32) -> Result<(), EpochError> {
    let handle = client
        .start_workflow(Parent::run, children, options(&id))
        .await
        .map_err(client_err(format!("starting {id}")))?;
    ack(format!("start:{id}"))?;
    let got = handle.result().await.map_err(client_err(&id))?;
    expect(&id, got, parent_result(children))
}

/// Starts the run and asks to cancel it; sent again after a kill, the
/// request finds the run cancelled already, or closed.
async fn cancel(client: &Client, id: String) -> Result<(), EpochError> {
    let handle = client
        .start_workflow(Cancellable::run, (), options(&id))
        .await
        .map_err(client_err(format!("starting {id}")))?;
    ack(format!("start:{id}"))?;
    match handle.cancel().await {
        Ok(()) => ack(format!("cancel:{id}"))?,
        // A run that closed before the kill cannot be cancelled again.
        Err(ClientError::Backend(BackendError::NotFound { .. })) => {}
        Err(e) => return Err(client_err(format!("cancelling {id}"))(e)),
    }
    let got = handle.result().await.map_err(client_err(&id))?;
    expect(&id, got, CANCELLABLE_RESULT)
}

/// A schedule taking `actions` actions, one a second, each a `Steps(1)`;
/// waits until it has taken them all and their workflows returned.
async fn schedule(client: &Client, prefix: &str, actions: u64) -> Result<(), EpochError> {
    let schedule_id = format!("{prefix}-schedule");
    let action =
        ScheduleAction::start_workflow(Steps::run, 1, format!("{prefix}-tick"), TASK_QUEUE)
            .map_err(|e| client_err("schedule action")(e.into()))?;
    let mut schedule = Schedule::new(action, ScheduleSpec::every(Duration::from_secs(1)))
        .overlap(OverlapPolicy::AllowAll);
    schedule.state.remaining_actions = Some(actions);
    match client.create_schedule(&schedule_id, schedule).await {
        Ok(_) => {}
        Err(ClientError::Backend(BackendError::ScheduleAlreadyExists { .. })) => {}
        Err(e) => return Err(client_err(format!("creating {schedule_id}"))(e)),
    }
    let handle = client.schedule_handle(&schedule_id);
    let started = loop {
        let d = handle
            .describe()
            .await
            .map_err(client_err(format!("describing {schedule_id}")))?;
        if d.info.num_actions >= actions {
            break d.info.recent_actions;
        }
        // A schedule's progress is nothing a client call can await.
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    for action in started {
        let id = action.workflow.workflow_id;
        let got = client
            .workflow_handle::<Steps>(&id, None)
            .result()
            .await
            .map_err(client_err(&id))?;
        expect(&id, got, steps_result(1))?;
    }
    Ok(())
}
