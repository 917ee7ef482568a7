//! The workload the kill program runs: one workflow type per feature
//! under test, each with a result the checks can compute beforehand.
//!
//! Every activity execution, local activity execution and heartbeat step
//! writes a ledger line before it returns; the step's tag travels in its
//! input, so history (which records inputs) and the ledger name steps the
//! same way.

use serde::{Deserialize, Serialize};
use weft::prelude::*;

use crate::ledger;

/// Task queue of the chaos workload.
pub const TASK_QUEUE: &str = "chaos";

/// One step: its tag (unique in the workload) and a value.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Step {
    /// Names the step in history and in the ledger.
    pub tag: String,
    /// What it computes from.
    pub value: i64,
}

fn record(kind: &str, tag: &str, attempt: u32) -> Result<(), ApplicationError> {
    ledger::record(kind, tag, attempt)
        .map_err(|e| ApplicationError::new(format!("ledger: {e}")).non_retryable())
}

/// An activity: ten times its value, after 10 ms of work (the side
/// effect is recorded first, so a kill in those 10 ms leaves a step that
/// ran and did not complete).
#[activity]
pub async fn step(ctx: ActivityContext, s: Step) -> Result<i64, ApplicationError> {
    record("act", &s.tag, ctx.info().attempt)?;
    tokio::time::sleep(Duration::from_millis(10)).await;
    Ok(s.value * 10)
}

/// A local activity: twice its value.
#[activity]
pub async fn local_step(ctx: ActivityContext, s: Step) -> Result<i64, ApplicationError> {
    record("local", &s.tag, ctx.info().attempt)?;
    Ok(s.value * 2)
}

/// Counts from the last heartbeat's details (0 on a fresh attempt) to
/// `s.value`, heartbeating each number; returns `s.value`.
#[activity]
pub async fn count_beats(ctx: ActivityContext, s: Step) -> Result<i64, Failure> {
    let start = ctx.heartbeat_details::<i64>()?.unwrap_or(0);
    let attempt = ctx.info().attempt;
    for i in start..s.value {
        ctx.heartbeat(&i)?;
        record("beat", &format!("{}/{i}", s.tag), attempt)?;
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    Ok(s.value)
}

fn step_of(ctx_wf: &str, part: impl std::fmt::Display, value: i64) -> Step {
    Step {
        tag: format!("{ctx_wf}/{part}"),
        value,
    }
}

/// Activities one after another, with a local activity and a timer in
/// the middle: activities, local activities and timers.
#[workflow]
#[derive(Default)]
pub struct Steps;

#[workflow]
impl Steps {
    #[run]
    pub async fn run(ctx: WorkflowContext<Self>, n: u32) -> WorkflowResult<i64> {
        let wf = ctx.info().workflow_id.clone();
        let mut total = 0;
        for i in 1..=n {
            total += ctx
                .activity(STEP, step_of(&wf, i, i64::from(i)))
                .start_to_close_timeout(Duration::from_secs(60))
                .await?;
            if i == n.div_ceil(2) {
                total += ctx
                    .local_activity(LOCAL_STEP, step_of(&wf, format!("local{i}"), i64::from(i)))
                    .start_to_close_timeout(Duration::from_secs(60))
                    .await?;
                ctx.sleep(Duration::from_millis(25)).await?;
            }
        }
        Ok(total)
    }
}

/// What `Steps` returns for `n`.
pub fn steps_result(n: u32) -> i64 {
    let n = i64::from(n);
    (1..=n).map(|i| i * 10).sum::<i64>() + 2 * ((n + 1) / 2)
}

/// Where a chain stands: runs left, this run's number, the sum so far.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChainInput {
    /// Runs left, this one included.
    pub left: u32,
    /// This run's number (0 for the first).
    pub run: u32,
    /// The sum of the runs before.
    pub acc: i64,
}

/// One activity and a timer per run, then continue-as-new.
#[workflow]
#[derive(Default)]
pub struct Chain;

#[workflow]
impl Chain {
    #[run]
    pub async fn run(ctx: WorkflowContext<Self>, input: ChainInput) -> WorkflowResult<i64> {
        let wf = ctx.info().workflow_id.clone();
        let value = i64::from(input.run) + 1;
        let got = ctx
            .activity(STEP, step_of(&wf, format!("r{}", input.run), value))
            .start_to_close_timeout(Duration::from_secs(60))
            .await?;
        ctx.sleep(Duration::from_millis(15)).await?;
        let acc = input.acc + got;
        if input.left > 1 {
            return ctx.continue_as_new(ChainInput {
                left: input.left - 1,
                run: input.run + 1,
                acc,
            });
        }
        Ok(acc)
    }
}

/// What `Chain` returns for a chain of `runs` runs.
pub fn chain_result(runs: u32) -> i64 {
    (1..=i64::from(runs)).map(|r| r * 10).sum()
}

/// One heartbeating activity.
#[workflow]
#[derive(Default)]
pub struct Beats;

#[workflow]
impl Beats {
    #[run]
    pub async fn run(ctx: WorkflowContext<Self>, n: u32) -> WorkflowResult<i64> {
        let wf = ctx.info().workflow_id.clone();
        Ok(ctx
            .activity(COUNT_BEATS, step_of(&wf, "beat", i64::from(n)))
            .start_to_close_timeout(Duration::from_secs(120))
            .heartbeat_timeout(Duration::from_millis(250))
            .retry_policy(RetryPolicy::default().with_initial_interval(Duration::from_millis(50)))
            .await?)
    }
}

/// A total changed by updates (+n) and signals (+100 each); ends after
/// `signals` signals and every handler.
#[workflow]
#[derive(Default)]
pub struct Tally {
    total: i64,
    signals: u32,
}

#[workflow]
impl Tally {
    #[run]
    pub async fn run(ctx: WorkflowContext<Self>, signals: u32) -> WorkflowResult<i64> {
        ctx.wait_condition(move |s| s.signals >= signals).await?;
        ctx.all_handlers_finished().await?;
        Ok(ctx.state(|s| s.total))
    }

    #[signal]
    fn hundred(&mut self) {
        self.total += 100;
        self.signals += 1;
    }

    #[update]
    fn add(&mut self, n: i64) -> Result<i64, ApplicationError> {
        self.total += n;
        Ok(self.total)
    }
}

/// A cart filled by updates, the first of which starts it
/// (update-with-start); a `checkout` signal ends it with the total.
#[workflow]
#[derive(Default)]
pub struct Cart {
    total: i64,
    checked_out: bool,
}

#[workflow]
impl Cart {
    #[run]
    pub async fn run(ctx: WorkflowContext<Self>, _input: ()) -> WorkflowResult<i64> {
        ctx.wait_condition(|s| s.checked_out).await?;
        ctx.all_handlers_finished().await?;
        Ok(ctx.state(|s| s.total))
    }

    #[signal]
    fn checkout(&mut self) {
        self.checked_out = true;
    }

    #[update]
    fn add_item(&mut self, price: i64) -> Result<i64, ApplicationError> {
        self.total += price;
        Ok(self.total)
    }
}

/// Starts `n` `Steps(2)` children, then waits for them all.
#[workflow]
#[derive(Default)]
pub struct Parent;

#[workflow]
impl Parent {
    #[run]
    pub async fn run(ctx: WorkflowContext<Self>, n: u32) -> WorkflowResult<i64> {
        let wf = ctx.info().workflow_id.clone();
        let mut children = Vec::new();
        for k in 0..n {
            let options = ChildOptions::new(format!("{wf}-child-{k}"));
            children.push(ctx.start_child(Steps::run, 2, options).await?);
        }
        let mut total = 0;
        for child in children {
            total += child.await?;
        }
        Ok(total)
    }
}

/// What `Parent` returns for `n` children.
pub fn parent_result(n: u32) -> i64 {
    i64::from(n) * steps_result(2)
}

/// Sleeps until its cancellation (the timer's future resolves with the
/// cancellation), then runs a cleanup activity and returns its result
/// (the run completes: the cleanup is what it was for).
#[workflow]
#[derive(Default)]
pub struct Cancellable;

#[workflow]
impl Cancellable {
    #[run]
    pub async fn run(ctx: WorkflowContext<Self>, _input: ()) -> WorkflowResult<i64> {
        let wf = ctx.info().workflow_id.clone();
        if ctx.sleep(Duration::from_secs(24 * 3600)).await.is_ok() {
            return Err(ApplicationError::new("a day passed without a cancellation").into());
        }
        ctx.activity(STEP, step_of(&wf, "cleanup", 7))
            .start_to_close_timeout(Duration::from_secs(60))
            .await
            .map_err(Into::into)
    }
}

/// What `Cancellable` returns.
pub const CANCELLABLE_RESULT: i64 = 70;

/// A worker for the whole workload.
pub fn worker(client: &Client) -> Worker {
    Worker::new(client, TASK_QUEUE)
        .register_workflow::<Steps>()
        .register_workflow::<Chain>()
        .register_workflow::<Beats>()
        .register_workflow::<Tally>()
        .register_workflow::<Cart>()
        .register_workflow::<Parent>()
        .register_workflow::<Cancellable>()
        .register_activity(STEP)
        .register_activity(LOCAL_STEP)
        .register_activity(COUNT_BEATS)
}
