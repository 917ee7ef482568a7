//! The handle workflow code uses: state access, time, activities, timers.

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::children::{ChildOptions, ExecuteChildFuture, ExternalWorkflowHandle, StartChildFuture};
use super::condition::{Cancellation, Condition, TimedCondition};
use super::deterministic::Deterministic;
use super::effects::{SideEffectFuture, WorkflowLogger};
use super::futures::{ActivityCall, LocalActivityCall, TimerFuture};
use super::random::WorkflowRandom;
use super::run_core::{Check, SharedCore};
use super::spawn::{self, JoinHandle};
use super::time::WorkflowTime;
use super::{RunFn, Workflow};
use crate::activity::ActivityValue;

use crate::protocol::WorkflowInfo;
use crate::search_attributes::SearchAttributes;

/// The workflow's view of its run: state, time, activities and timers.
///
/// Cheap to clone. State is reached only through closures
/// ([`WorkflowContext::state`], [`WorkflowContext::state_mut`]), which cannot
/// hold a borrow across an `.await`.
pub struct WorkflowContext<W> {
    inner: Rc<Inner<W>>,
}

struct Inner<W> {
    state: RefCell<W>,
    info: WorkflowInfo,
    core: SharedCore,
    /// The run's search attributes as its code has upserted them.
    search_attributes: RefCell<SearchAttributes>,
}

impl<W> Clone for WorkflowContext<W> {
    fn clone(&self) -> Self {
        WorkflowContext {
            inner: self.inner.clone(),
        }
    }
}

impl<W> WorkflowContext<W> {
    pub(crate) fn new(state: W, info: WorkflowInfo, core: SharedCore) -> Self {
        WorkflowContext {
            inner: Rc::new(Inner {
                state: RefCell::new(state),
                search_attributes: RefCell::new(info.search_attributes.clone()),
                info,
                core,
            }),
        }
    }

    /// The run's core, for the context's methods kept in other files.
    pub(super) fn core(&self) -> &SharedCore {
        &self.inner.core
    }

    /// The run's search attributes as the code has upserted them.
    pub(super) fn search_attributes_cell(&self) -> &RefCell<SearchAttributes> {
        &self.inner.search_attributes
    }

    /// Reads the workflow's state.
    pub fn state<R>(&self, f: impl FnOnce(&W) -> R) -> R {
        f(&self.inner.state.borrow())
    }

    /// Changes the workflow's state.
    pub fn state_mut<R>(&self, f: impl FnOnce(&mut W) -> R) -> R {
        f(&mut self.inner.state.borrow_mut())
    }

    /// Facts about this run.
    pub fn info(&self) -> &WorkflowInfo {
        &self.inner.info
    }

    /// Workflow time: the start time of the current workflow task, recorded
    /// in history, so replay reads the same value. It does not move while
    /// the code runs, and it cannot read the wall clock (it has no
    /// `elapsed()`); convert it with `SystemTime::from` for other date
    /// types. See [`WorkflowTime`].
    pub fn now(&self) -> WorkflowTime {
        self.inner.core.borrow().now
    }

    /// True while the workflow is replaying history (side effects such as
    /// logging should stay quiet).
    pub fn is_replaying(&self) -> bool {
        self.inner.core.borrow().replaying
    }

    /// Schedules an activity; configure it, then `.await` the result.
    ///
    /// `activity` is the value `#[activity]` defines (`ORDER_APPLES` for
    /// `fn order_apples`); `input` its one argument, or a tuple of its
    /// arguments. The call needs a timeout: `.start_to_close_timeout(..)`
    /// or `.schedule_to_close_timeout(..)` on it, else the one the
    /// activity's declaration gives
    /// (`#[activity(start_to_close_timeout = "10s")]`), else the worker's
    /// [`default_start_to_close_timeout`](crate::WorkerOptions::default_start_to_close_timeout).
    /// A call without one, with an invalid retry policy or with an input
    /// that cannot be encoded fails the workflow task, not the workflow:
    /// the task is retried, and deploying the fix lets the run go on.
    pub fn activity<A: ActivityValue>(
        &self,
        activity: A,
        input: A::Input,
    ) -> ActivityCall<A::Output> {
        ActivityCall::new(
            self.inner.core.clone(),
            (activity.activity_name(), activity.activity_defaults()),
            activity.encode_input(&input),
            self.inner.info.task_queue.clone(),
        )
    }

    /// Starts a child workflow, named by its run function with typed input,
    /// and resolves to its handle once it runs; await the handle for its
    /// result. Resolves with an error of type `WorkflowAlreadyStartedError`
    /// when a run with the child's id is open (or its id reuse policy
    /// refuses it).
    ///
    /// ```no_run
    /// # use weft::prelude::*;
    /// # use weft::workflow::ChildOptions;
    /// # #[workflow] #[derive(Default)] struct Child;
    /// # #[workflow] impl Child { #[run] async fn run(_ctx: WorkflowContext<Self>, name: String) -> WorkflowResult<String> { Ok(name) } }
    /// # async fn f<W: 'static>(ctx: WorkflowContext<W>) -> WorkflowResult<String> {
    /// let child = ctx
    ///     .start_child(Child::run, "World".to_string(), ChildOptions::new("greeting-child"))
    ///     .await?;
    /// let greeting = child.await?;
    /// # Ok(greeting) }
    /// ```
    pub fn start_child<C: Workflow>(
        &self,
        _run: impl RunFn<C>,
        input: C::Input,
        options: ChildOptions,
    ) -> StartChildFuture<C> {
        StartChildFuture::new(self.inner.core.clone(), &input, options)
    }

    /// Starts a child workflow and waits for its result: a child that
    /// fails, is canceled or terminated gives a
    /// [`ChildWorkflowError`](crate::failure::ChildWorkflowError) whose
    /// cause says why.
    pub fn execute_child<C: Workflow>(
        &self,
        run: impl RunFn<C>,
        input: C::Input,
        options: ChildOptions,
    ) -> ExecuteChildFuture<C> {
        ExecuteChildFuture::new(self.start_child(run, input, options))
    }

    /// Another workflow, by id (its current run): signal it or ask it to
    /// cancel from workflow code.
    pub fn external_workflow(&self, workflow_id: impl Into<String>) -> ExternalWorkflowHandle {
        ExternalWorkflowHandle::new(self.inner.core.clone(), workflow_id.into(), None)
    }

    /// Runs an activity inside this worker and records its result in history
    /// as a marker; on replay the marker is read and the activity is not run
    /// again.
    pub fn local_activity<A: ActivityValue>(
        &self,
        activity: A,
        input: A::Input,
    ) -> LocalActivityCall<A::Output> {
        LocalActivityCall::new_local(
            self.inner.core.clone(),
            (activity.activity_name(), activity.activity_defaults()),
            activity.encode_input(&input),
            self.inner.info.task_queue.clone(),
        )
    }

    /// A durable timer: resolves after `duration` of workflow time, across
    /// restarts, with `Ok(())`; or with `Err(CanceledError)` when the
    /// workflow's cancellation is requested while it waits (`?` turns that
    /// into the run's error, which closes the run as canceled).
    ///
    /// Dropping the future of a started timer before it fires (a lost
    /// `select!` branch, say) cancels the timer: history records
    /// `TimerCanceled`.
    ///
    /// ```
    /// # async fn f<W>(ctx: weft::WorkflowContext<W>) -> weft::WorkflowResult<()> {
    /// ctx.sleep(std::time::Duration::from_secs(60)).await?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn sleep(&self, duration: Duration) -> TimerFuture {
        TimerFuture::new(self.inner.core.clone(), duration)
    }

    /// Same as [`WorkflowContext::sleep`].
    pub fn timer(&self, duration: Duration) -> TimerFuture {
        self.sleep(duration)
    }

    /// The run's deterministic random generator, seeded from history: replay
    /// draws the same values, and each run draws different ones. Not a
    /// cryptographic generator.
    ///
    /// ```
    /// # fn f<W>(ctx: &weft::WorkflowContext<W>) {
    /// let dice = ctx.random().range(1..7);
    /// # }
    /// ```
    pub fn random(&self) -> WorkflowRandom {
        WorkflowRandom::new(self.inner.core.clone())
    }

    /// Shorthand for `ctx.random().u64()`.
    pub fn random_u64(&self) -> u64 {
        self.random().u64()
    }

    /// Shorthand for `ctx.random().range(range)`.
    pub fn random_range(&self, range: std::ops::Range<u64>) -> u64 {
        self.random().range(range)
    }

    /// A version 4 UUID drawn from [`WorkflowContext::random`]: the same on
    /// replay, different in each run. Unique enough for ids and idempotency
    /// keys; not a secret.
    pub fn uuid(&self) -> String {
        let mut bytes = [0u8; 16];
        self.random().fill(&mut bytes);
        uuid::Builder::from_random_bytes(bytes)
            .into_uuid()
            .to_string()
    }

    /// Runs `f` once and records its value in history; replay reads the
    /// recorded value and does not run `f` again. For small nondeterministic
    /// reads (a wall-clock time, an env value, a random token) that do not
    /// deserve an activity. `f` must not fail or block; do I/O in an activity.
    ///
    /// The value is encoded when recorded and decoded when awaited, on
    /// replay too, so both paths return the same value. On a Temporal
    /// cluster it is recorded as a local activity of type `weft.SideEffect`
    /// (its input the value, its result the value), which the future waits
    /// for; histories read as weft's own `core_side_effect` marker.
    pub fn side_effect<T, F>(&self, f: F) -> SideEffectFuture<T, F>
    where
        T: Serialize + DeserializeOwned,
        F: FnOnce() -> T,
    {
        SideEffectFuture::new(self.inner.core.clone(), f)
    }

    /// Whether to run a patch's new code: Temporal's `patched`.
    ///
    /// While not replaying it returns true and records a `core_patch` marker
    /// (once per id per run). On replay it returns true only if the workflow
    /// task being replayed holds that marker, so runs recorded before the
    /// patch keep taking the old branch. The first answer for an id holds for
    /// the rest of the run.
    ///
    /// ```
    /// # fn f<W>(ctx: &weft::WorkflowContext<W>) {
    /// if ctx.patched("send-receipt") {
    ///     // new code
    /// } else {
    ///     // old code, for runs recorded before the patch
    /// }
    /// # }
    /// ```
    pub fn patched(&self, patch_id: &str) -> bool {
        self.inner.core.borrow_mut().patch(patch_id, false)
    }

    /// Marks a patch as deprecated: once no run recorded before the patch is
    /// open, replace `if ctx.patched(id) { new } else { old }` by
    /// `ctx.deprecate_patch(id); new`. It records a marker (while not
    /// replaying), never changes control flow, and replay accepts history
    /// with or without the marker; later the call itself can be removed.
    pub fn deprecate_patch(&self, patch_id: &str) {
        self.inner.core.borrow_mut().patch(patch_id, true);
    }

    /// Runs `future` as a task of this run. Spawned tasks are polled in
    /// spawn order, before the run function, in every poll pass, so the
    /// commands they emit come out in the same order on replay. The handle
    /// resolves to the task's output; dropping it does not stop the task
    /// (the task ends with the run).
    pub fn spawn<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Deterministic + 'static,
        F::Output: 'static,
    {
        let (task, handle) = spawn::task(future);
        self.inner.core.borrow_mut().spawned.push(task);
        handle
    }

    /// Waits until `f` holds on the workflow's state: Temporal's
    /// `wait_condition`. `f` is checked when the future is polled and then
    /// after every poll pass of the run (conditions in creation order), so a
    /// signal handler's change to the state wakes the code waiting on it in
    /// the same workflow task. `f` must only read the state; it runs often.
    ///
    ///
    /// A cancellation of the workflow that arrives while it waits ends the
    /// wait with a [`CanceledError`](crate::CanceledError), as it ends a
    /// timer or an activity; `?` passes it on and the run closes as
    /// canceled. A condition created after the cancellation waits
    /// normally, so cleanup code can still wait.
    ///
    /// ```
    /// # #[derive(Default)] struct Order { approved: bool }
    /// # async fn f(ctx: weft::WorkflowContext<Order>) -> weft::WorkflowResult<()> {
    /// ctx.wait_condition(|s| s.approved).await?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn wait_condition(&self, f: impl Fn(&W) -> bool + 'static) -> Condition
    where
        W: 'static,
    {
        Condition::new(self.inner.core.clone(), self.state_check(f))
    }

    /// [`wait_condition`](Self::wait_condition) with a time limit, as
    /// Temporal's `condition(fn, timeout)`: `Ok(true)` once `f` holds,
    /// `Ok(false)` when `timeout` passes first, a
    /// [`CanceledError`](crate::CanceledError) when a cancellation of the
    /// workflow arrives first. The limit is a durable timer, started only
    /// if `f` does not hold at once and canceled (`TimerCanceled`) when
    /// `f` comes to hold first.
    ///
    /// ```
    /// # use std::time::Duration;
    /// # #[derive(Default)] struct Order { approved: bool }
    /// # async fn f(ctx: weft::WorkflowContext<Order>) -> weft::WorkflowResult<()> {
    /// let day = Duration::from_secs(24 * 3600);
    /// if !ctx.wait_condition_timeout(day, |s| s.approved).await? {
    ///     return Err(weft::ApplicationError::new("not approved within a day").into());
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub fn wait_condition_timeout(
        &self,
        timeout: Duration,
        f: impl Fn(&W) -> bool + 'static,
    ) -> TimedCondition
    where
        W: 'static,
    {
        TimedCondition::new(self.wait_condition(f), timeout)
    }

    fn state_check(&self, f: impl Fn(&W) -> bool + 'static) -> Check
    where
        W: 'static,
    {
        let inner = Rc::downgrade(&self.inner);
        // A weak reference: the core holds the check while it waits, and
        // the core must not keep the state alive.
        Rc::new(move || {
            inner
                .upgrade()
                .is_some_and(|inner| f(&inner.state.borrow()))
        })
    }

    /// A condition that holds when no async signal handler is running: await
    /// it before returning so handlers started late are not cut off (the
    /// run's end stops its unfinished handlers).
    pub fn all_handlers_finished(&self) -> Condition {
        let core = Rc::downgrade(&self.inner.core);
        let check: Check = Rc::new(move || {
            core.upgrade()
                .is_none_or(|core| core.borrow().handlers_running == 0)
        });
        Condition::new(self.inner.core.clone(), check)
    }

    /// A condition that holds once the engine suggests continuing as new
    /// (see [`WorkflowContext::is_continue_as_new_suggested`]), to wait for
    /// it beside other conditions with `weft::select!`.
    pub fn continue_as_new_suggested(&self) -> Condition {
        let core = Rc::downgrade(&self.inner.core);
        let check: Check = Rc::new(move || {
            core.upgrade()
                .is_some_and(|core| core.borrow().continue_as_new_suggested)
        });
        Condition::new(self.inner.core.clone(), check)
    }

    /// Whether cancellation of this workflow was requested
    /// (`handle.cancel()`). It stays true for the rest of the run, so code
    /// that caught the cancellation can tell why, and code that does not
    /// wait on timers or activities (a loop over `wait_condition`) can check
    /// it.
    pub fn cancelled(&self) -> bool {
        self.inner.core.borrow().cancel_requested
    }

    /// A future that resolves once cancellation of this workflow is
    /// requested (at once if it already was); the one wait a cancellation
    /// resolves rather than ends with an error. Use it to react to the
    /// request beside work that goes on, for example in a child task:
    ///
    /// ```
    /// # #[derive(Default)] struct Order { approved: bool }
    /// # async fn f(ctx: weft::WorkflowContext<Order>) -> weft::WorkflowResult<()> {
    /// weft::select! {
    ///     _ = ctx.cancellation() => {
    ///         ctx.logger().info("cancellation requested: finishing the batch first");
    ///     },
    ///     done = ctx.wait_condition(|s| s.approved) => done?,
    /// }
    /// # Ok(())
    /// # }
    /// ```
    ///
    /// Returning a [`CanceledError`](crate::CanceledError) (or an error
    /// caused by one) after the request closes the run as canceled.
    pub fn cancellation(&self) -> Cancellation {
        let core = Rc::downgrade(&self.inner.core);
        let check: Check = Rc::new(move || {
            core.upgrade()
                .is_some_and(|core| core.borrow().cancel_requested)
        });
        Cancellation::new(self.inner.core.clone(), check)
    }

    /// Whether the engine suggests continuing as new: history has reached
    /// the engine's event count or size threshold (by default 4,096 events
    /// or 4 MiB, Temporal's). The value is the one the current workflow
    /// task was handed; it is recorded on its `WorkflowTaskStarted` event,
    /// so replay reads the same.
    pub fn is_continue_as_new_suggested(&self) -> bool {
        self.inner.core.borrow().continue_as_new_suggested
    }

    /// Size of the run's history in bytes when the current workflow task
    /// started (recorded, like [`WorkflowContext::is_continue_as_new_suggested`]).
    pub fn history_size_bytes(&self) -> u64 {
        self.inner.core.borrow().history_size_bytes
    }

    /// Number of events in the run's history when the current workflow
    /// task started.
    pub fn history_length(&self) -> u64 {
        self.inner.core.borrow().history_length
    }

    /// How many signals this run received that no handler took: signals
    /// with an unknown name, and signals whose input did not decode (which
    /// Temporal also drops, with a warning). Both stay in history; each is
    /// logged with `tracing::warn!` when first applied (not on replay).
    pub fn unhandled_signals(&self) -> u64 {
        self.inner.core.borrow().unhandled_signals
    }

    /// A meter for custom metrics whose instruments record only while the
    /// workflow is not replaying, so each value is counted once. It records
    /// into the worker's metrics (`Client::with_metrics`); without them
    /// every instrument is a no-op.
    pub fn metric_meter(&self) -> super::WorkflowMeter {
        super::WorkflowMeter::new(self.inner.core.clone(), crate::telemetry::thread_meter())
    }

    /// A logger that tags events with this run's workflow id and run id and
    /// stays silent while replaying, so each line is logged once.
    pub fn logger(&self) -> WorkflowLogger {
        WorkflowLogger::new(
            self.inner.core.clone(),
            self.inner.info.workflow_id.clone(),
            self.inner.info.run_id.clone(),
        )
    }
}

/// The type name of the failure [`WorkflowContext::continue_as_new`] returns.
pub(crate) const CONTINUE_AS_NEW_TYPE: &str = "weft.ContinueAsNew";

impl<W: crate::workflow::Workflow> WorkflowContext<W> {
    /// Ends this run by continuing as new: the run closes
    /// (`WorkflowExecutionContinuedAsNew`) and a new run of the same
    /// workflow id starts with `input`, fresh history and state. Return
    /// what it gives from the run (it is an `Err`, so `?` returns it too):
    ///
    /// ```
    /// # use weft::prelude::*;
    /// # #[workflow]
    /// # async fn counter(ctx: WorkflowContext, count: u64) -> WorkflowResult<u64> {
    /// if ctx.is_continue_as_new_suggested() {
    ///     return ctx.continue_as_new(count);
    /// }
    /// # Ok(count)
    /// # }
    /// ```
    ///
    /// The [`Failure`](crate::failure::Failure) in the `Err` is a marker the
    /// executor recognises (an application error of type
    /// `weft.ContinueAsNew`); it never reaches callers or history as a
    /// failure, so there is nothing to match on. Returning anything else
    /// from the run (a value, another error) drops the request. If `input`
    /// cannot be encoded, the failure returned is an ordinary one, which
    /// fails the workflow with the reason.
    ///
    /// Clients keep reaching the workflow through the handle they had: its
    /// result is the last run's, and signals, queries and updates addressed
    /// to the first run id go to the current run. Updates not yet accepted
    /// move to the new run; the engine refuses the command (a new workflow
    /// task runs) while signals or updates wait unseen, as it does for
    /// completion.
    pub fn continue_as_new<T>(&self, input: W::Input) -> super::WorkflowResult<T> {
        Err(self.continue_as_new_failure(input))
    }

    fn continue_as_new_failure(&self, input: W::Input) -> crate::failure::Failure {
        match crate::converter::encode(&input) {
            Ok(payload) => {
                self.inner.core.borrow_mut().continue_as_new = Some(vec![payload]);
                crate::failure::ApplicationError::new("the workflow continues as new")
                    .with_type(CONTINUE_AS_NEW_TYPE)
                    .non_retryable()
                    .into()
            }
            Err(e) => crate::failure::ApplicationError::new(format!(
                "continue-as-new input could not be encoded: {e}"
            ))
            .with_type("ContinueAsNewInput")
            .non_retryable()
            .into(),
        }
    }
}
