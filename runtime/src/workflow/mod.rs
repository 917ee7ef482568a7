//! Workflows: the [`Workflow`] trait, the [`WorkflowContext`] workflow code
//! talks to, and the executor that runs it from activations to commands.
//!
//! Everything here is single-threaded and deterministic: the same activations
//! produce the same commands. It sees only [`crate::protocol`] types, never
//! history, the backend or a store.

mod condition;
mod context;
pub(crate) mod deterministic;
mod effects;
pub(crate) mod executor;
mod futures;
mod join;
mod random;
pub(crate) mod select;
mod spawn;

pub use condition::Condition;
pub use context::WorkflowContext;
pub use deterministic::{Deterministic, Vouched, i_promise_this_is_deterministic};
pub use effects::{SideEffectFuture, WorkflowLogger};
pub use futures::{ActivityCall, ActivityFuture, LocalActivityCall, TimerFuture};
pub use join::{JoinAll, join, join_all};
pub use random::WorkflowRandom;
pub use select::{SelectFirst, select_first};
pub use spawn::JoinHandle;

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
