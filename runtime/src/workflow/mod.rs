//! Workflows: the [`Workflow`] trait, the [`WorkflowContext`] workflow code
//! talks to, and the executor that runs it from activations to commands.
//!
//! Everything here is single-threaded and deterministic: the same activations
//! produce the same commands. It sees only [`crate::protocol`] types, never
//! history, the backend or a store.
//!
//! Read top-down: `error`, `rng` and `time` stand alone; `run_core` is the per-run
//! state everything shares; the futures (`futures`, `condition`, `effects`,
//! `spawn`, `random`) and the combinators (`join`, `select`) build on it;
//! `context` is what workflow code holds; `executor` applies activations
//! to a run and collects its commands.
//!
//! # Concurrency
//!
//! Workflow code runs on one thread, and everything that runs concurrently
//! is polled in a fixed order, so replay repeats it:
//!
//! - [`WorkflowContext::spawn`] runs a future as a task of the run (Python's
//!   `asyncio.create_task`); its [`JoinHandle`] is awaited for the output.
//! - [`join`](fn@join) and [`join_all`] wait for every future (`asyncio.gather`);
//!   [`try_join_all`] returns their values or the first error.
//! - [`select!`](crate::select) is biased: the first ready branch in
//!   written order wins. [`select_first`] returns the index and output of
//!   the first future to finish (`workflow.wait(.., FIRST_COMPLETED)`); given
//!   `&mut` futures it leaves the others running.
//!
//! # Dropping a future gives it up
//!
//! Dropping an unresolved timer or activity future emits its cancel
//! command: a started timer is cancelled (`CancelTimer`, `TimerCanceled` in
//! history), an activity's cancellation is requested (`RequestCancelActivity`,
//! `ActivityTaskCancelRequested`; `ActivityTaskCanceled` follows at once when
//! no worker had started it, else the activity learns it when it
//! heartbeats), unless its cancellation type is `Abandon`. A local activity
//! runs to its end; its result is recorded and ignored. So the timer of a
//! `select!` timeout that lost is cleaned up, and an activity that lost the
//! race is stopped. Drops happen at the same points on replay, so the same
//! commands come out; once the run has returned, the futures it leaves
//! behind are dropped without a word.
//!
//! # Cancellation
//!
//! `handle.cancel()` asks a workflow to stop; what that means is up to its
//! code. Cancellation is one-shot, as in Python's SDK: the request reaches
//! the timer and activity futures waiting at that moment, once, and
//! resolves them with a cancellation error:
//!
//! - a timer resolves with `Err(CanceledError)` and is cancelled;
//! - an activity behaves as its
//!   [`cancellation_type`](ActivityCall::cancellation_type) says: by default
//!   ([`ActivityCancellationType::TryCancel`]) its cancellation is requested
//!   and its future resolves at once with an [`ActivityError`](crate::ActivityError)
//!   whose cause is a `CanceledError`; `WaitCancellationCompleted` resolves
//!   when the activity has stopped (with its result if it finished first);
//!   `Abandon` resolves at once and asks nothing;
//! - a local activity resolves at once with the canceled error.
//!
//! The request is delivered once the code has run on the rest of its
//! workflow task's jobs (as Python's SDK defers it to the next turn of its
//! event loop), so a workflow cancelled before its first task runs to its
//! first await and is cancelled there.
//!
//! Futures created after the request run normally, so cleanup after the
//! error is ordinary code (a cleanup activity, a final timer). A condition
//! ([`WorkflowContext::wait_condition`], with a timeout or not) waiting
//! when the request arrives ends with the canceled error too;
//! [`WorkflowContext::cancellation`] is the one wait the request resolves
//! instead.
//!
//! The run closes as canceled (`WorkflowExecutionCanceled`) when
//! cancellation was requested and it returns a `CanceledError`, or an
//! activity error caused by one (`?` on the awaited future does that);
//! otherwise it completes or fails as its code says, so a workflow that
//! catches the cancellation and returns a value completes.
//!
//! ```
//! # use weft::prelude::*;
//! # #[activity(start_to_close_timeout = "1000s", heartbeat_timeout = "2s")]
//! # async fn never_complete(ctx: ActivityContext) -> Result<(), Failure> {
//! #     ctx.cancelled().await;
//! #     Err(ctx.cancellation_error().into())
//! # }
//! # #[activity(start_to_close_timeout = "5s")]
//! # async fn cleanup() -> Result<(), ApplicationError> { Ok(()) }
//! # #[workflow]
//! # async fn cancellable(ctx: WorkflowContext, _: ()) -> WorkflowResult<()> {
//! let outcome = ctx.activity(NEVER_COMPLETE, ()).await;
//! // Runs whether or not the activity was cancelled: it is created after.
//! ctx.activity(CLEANUP, ()).await?;
//! outcome?; // a canceled activity ends the run canceled
//! # Ok(())
//! # }
//! ```

mod children;
mod condition;
mod context;
pub(crate) mod deterministic;
mod dynamic;
mod effects;
pub(crate) mod error;
pub(crate) mod executor;
mod futures;
mod join;
mod meter;
mod random;
mod rng;
mod run_core;
mod search_attributes;
pub(crate) mod select;
mod spawn;
mod time;

pub use crate::protocol::ActivityCancellationType;
pub use crate::protocol::{ChildCancellationType, ParentClosePolicy};
pub use children::{
    CancelExternalFuture, ChildHandle, ChildOptions, ChildResultFuture, ExecuteChildFuture,
    ExternalWorkflowHandle, SignalExternalFuture, SignalTarget, StartChildFuture,
};
pub use condition::{Cancellation, Condition, TimedCondition};
pub use context::WorkflowContext;
pub use deterministic::{Deterministic, Vouched, i_promise_this_is_deterministic};
pub use dynamic::DynamicCall;
pub use effects::{SideEffectFuture, WorkflowLogger};
pub use futures::{ActivityCall, ActivityFuture, LocalActivityCall, TimerFuture};
pub use join::{JoinAll, TryJoinAll, join, join_all, try_join_all};
pub use meter::{WorkflowCounter, WorkflowGauge, WorkflowHistogram, WorkflowMeter};
pub use random::WorkflowRandom;
pub use select::{SelectFirst, select_first};
pub use spawn::JoinHandle;
pub use time::WorkflowTime;

use ::futures::future::LocalBoxFuture;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::converter::Payload;
use crate::failure::Failure;

/// What a workflow's run function returns: its value, or the failure that
/// fails the workflow.
pub type WorkflowResult<T> = Result<T, Failure>;

/// A workflow definition. `#[workflow]` implements it; it can also be written
/// by hand.
pub trait Workflow: Sized + 'static {
    /// The workflow type name that clients start and workers register.
    const NAME: &'static str;
    /// Input of the run function.
    type Input: Serialize + DeserializeOwned + 'static;
    /// Value the run function returns.
    type Output: Serialize + DeserializeOwned + 'static;

    /// Builds the state from the input before any handler runs.
    fn init(input: &Self::Input) -> Self;

    /// The run function.
    fn run(
        ctx: WorkflowContext<Self>,
        input: Self::Input,
    ) -> LocalBoxFuture<'static, WorkflowResult<Self::Output>>;

    /// Starts the signal handler named `name`; `None` when the workflow has
    /// no such handler. Sync handlers run here and return
    /// [`Handler::Done`]; async ones return their future, which runs as a
    /// task of the run (polled before the run function, like
    /// [`WorkflowContext::spawn`]).
    ///
    /// Signals are applied in the order they arrived, before the run
    /// function is polled, so a sync handler's change to the state is seen
    /// by the code that runs after it. A signal with no handler (`None`) or
    /// whose input does not decode (`Some(Err(..))`) is not applied: it
    /// stays in history, is logged with a warning and counted by
    /// [`WorkflowContext::unhandled_signals`], and the workflow carries on
    /// (Temporal drops a signal that fails to decode the same way).
    fn signal(
        ctx: &WorkflowContext<Self>,
        name: &str,
        input: &[Payload],
    ) -> Option<Result<Handler, Failure>> {
        let _ = (ctx, name, input);
        None
    }

    /// Answers the query named `name` from the state; `None` when the
    /// workflow has no such query.
    fn query(state: &Self, name: &str, input: &[Payload]) -> Option<Result<Payload, Failure>> {
        let _ = (state, name, input);
        None
    }

    /// Runs the validator of the update named `name` (`Ok` when it has
    /// none); `None` when the workflow has no such update.
    fn validate(state: &Self, name: &str, input: &[Payload]) -> Option<Result<(), Failure>> {
        let _ = (state, name, input);
        None
    }

    /// Starts the update handler named `name`; `None` when the workflow has
    /// no such update.
    fn update(
        ctx: &WorkflowContext<Self>,
        name: &str,
        input: &[Payload],
    ) -> Option<Result<UpdateHandler, Failure>> {
        let _ = (ctx, name, input);
        None
    }
}

/// A started signal handler.
pub enum Handler {
    /// A sync handler that has run.
    Done,
    /// An async handler, to run as a task of the workflow.
    Async(LocalBoxFuture<'static, ()>),
}

/// A started update handler.
pub enum UpdateHandler {
    /// A sync handler's encoded result.
    Done(Result<Payload, Failure>),
    /// An async handler, to run as a task of the workflow.
    Async(LocalBoxFuture<'static, Result<Payload, Failure>>),
}

/// Implemented by a workflow's run function, so clients name a workflow by
/// it (`client.start_workflow(MyWorkflow::run, ..)`) with typed input.
pub trait RunFn<W: Workflow> {}

impl<W, F, Fut> RunFn<W> for F
where
    W: Workflow,
    F: FnOnce(WorkflowContext<W>, W::Input) -> Fut,
{
}
