//! The runtime's futures. Each emits its command and takes its sequence
//! number on first poll, so a future never polled emits nothing.
//!
//! Dropping a started future that has not resolved gives it up: a timer is
//! cancelled (`CancelTimer`), an activity's cancellation is requested
//! (`RequestCancelActivity`, unless its cancellation type is `Abandon`), a
//! local activity runs to its end and its result is ignored. Drops happen at
//! the same points on replay, so the same commands come out. Nothing is
//! emitted once the run has produced its terminal command.

use std::future::{Future, IntoFuture};
use std::marker::PhantomData;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use serde::de::DeserializeOwned;

use super::error::TaskError;
use super::run_core::{ActivityMeta, SeqKind, SharedCore, Slot, TIMER_CANCELED};
use crate::activity::ActivityDefaults;
use crate::converter::{self, ConverterError, Payload};
use crate::failure::{ActivityError, ApplicationError, CanceledError, Failure, RetryState};
use crate::protocol::{
    ActivityCancellationType, ActivityOptions, Command, Resolution, ScheduleActivity,
};
use crate::retry::RetryPolicy;

/// An activity (or local activity) to schedule: set options, then `.await`.
#[must_use = "an activity runs only when awaited"]
pub struct ActivityCall<O> {
    core: SharedCore,
    kind: SeqKind,
    activity_type: &'static str,
    input: Result<Vec<Payload>, ConverterError>,
    task_queue: String,
    activity_id: Option<String>,
    options: ActivityOptions,
    _output: PhantomData<fn() -> O>,
}

/// A local activity to run: set options, then `.await`.
pub type LocalActivityCall<O> = ActivityCall<O>;

impl<O> ActivityCall<O> {
    fn with_kind(
        core: SharedCore,
        kind: SeqKind,
        activity: (&'static str, ActivityDefaults),
        input: Result<Vec<Payload>, ConverterError>,
        task_queue: String,
    ) -> Self {
        let (activity_type, defaults) = activity;
        ActivityCall {
            core,
            kind,
            activity_type,
            input,
            task_queue,
            activity_id: None,
            options: ActivityOptions {
                start_to_close_timeout: defaults.start_to_close_timeout,
                schedule_to_close_timeout: defaults.schedule_to_close_timeout,
                schedule_to_start_timeout: defaults.schedule_to_start_timeout,
                heartbeat_timeout: defaults.heartbeat_timeout,
                retry_policy: defaults.retry.map(|r| r.policy()),
                cancellation_type: Default::default(),
            },
            _output: PhantomData,
        }
    }

    pub(crate) fn new(
        core: SharedCore,
        activity: (&'static str, ActivityDefaults),
        input: Result<Vec<Payload>, ConverterError>,
        task_queue: String,
    ) -> Self {
        Self::with_kind(core, SeqKind::Activity, activity, input, task_queue)
    }

    pub(crate) fn new_local(
        core: SharedCore,
        activity: (&'static str, ActivityDefaults),
        input: Result<Vec<Payload>, ConverterError>,
        task_queue: String,
    ) -> Self {
        Self::with_kind(core, SeqKind::LocalActivity, activity, input, task_queue)
    }

    /// Limit on one attempt.
    pub fn start_to_close_timeout(mut self, d: Duration) -> Self {
        self.options.start_to_close_timeout = Some(d);
        self
    }

    /// Limit on all attempts together.
    pub fn schedule_to_close_timeout(mut self, d: Duration) -> Self {
        self.options.schedule_to_close_timeout = Some(d);
        self
    }

    /// Limit on the time the activity waits in its queue.
    pub fn schedule_to_start_timeout(mut self, d: Duration) -> Self {
        self.options.schedule_to_start_timeout = Some(d);
        self
    }

    /// Longest gap allowed between heartbeats.
    pub fn heartbeat_timeout(mut self, d: Duration) -> Self {
        self.options.heartbeat_timeout = Some(d);
        self
    }

    /// How failures are retried (default: Temporal's default policy).
    pub fn retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.options.retry_policy = Some(policy);
        self
    }

    /// The task queue to schedule on (default: the workflow's).
    pub fn task_queue(mut self, queue: impl Into<String>) -> Self {
        self.task_queue = queue.into();
        self
    }

    /// The activity id (default: its sequence number).
    pub fn activity_id(mut self, id: impl Into<String>) -> Self {
        self.activity_id = Some(id.into());
        self
    }

    /// What cancelling this activity does: when the workflow's cancellation
    /// reaches its future, or the future is dropped before it resolves.
    ///
    /// - [`ActivityCancellationType::TryCancel`] (the default): ask for the
    ///   cancellation and resolve at once with an [`ActivityError`] whose
    ///   cause is a [`CanceledError`]; the activity learns it on its next
    ///   heartbeat (or at once if no worker had started it).
    /// - [`ActivityCancellationType::WaitCancellationCompleted`]: ask, and
    ///   keep waiting until the activity stops: the future resolves with the
    ///   canceled error once the activity acknowledges, or with its result
    ///   if it completes or fails first.
    /// - [`ActivityCancellationType::Abandon`]: ask nothing; the future
    ///   resolves with the canceled error at once and the activity runs on,
    ///   its result ignored.
    ///
    /// Local activities ignore it. One runs while the worker holds the
    /// workflow task, so a cancellation reaches the code either before it
    /// starts (it then never runs, and its future resolves with the
    /// canceled error) or after it finished (its result stands).
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use weft::workflow::ActivityCancellationType;
    /// # fn f<W, F>(ctx: &weft::WorkflowContext<W>, charge: weft::Activity<F, u32, String>) {
    /// let call = ctx
    ///     .activity(charge, 42)
    ///     .start_to_close_timeout(Duration::from_secs(300))
    ///     .heartbeat_timeout(Duration::from_secs(10))
    ///     .cancellation_type(ActivityCancellationType::WaitCancellationCompleted);
    /// # let _ = call;
    /// # }
    /// ```
    pub fn cancellation_type(mut self, cancellation_type: ActivityCancellationType) -> Self {
        self.options.cancellation_type = cancellation_type;
        self
    }

    /// Why this call cannot be scheduled, if it cannot: its input did not
    /// encode, it has no timeout (from the call, the activity's
    /// declaration or the worker's default), or its retry policy is
    /// invalid. Options are not checked on replay: the history holds what
    /// was scheduled, whatever the worker's default was.
    fn invalid(&self, worker_default: Option<Duration>, replaying: bool) -> Option<String> {
        let name = self.activity_type;
        if let Err(e) = &self.input {
            return Some(format!(
                "activity {name:?}: its input cannot be encoded: {e}"
            ));
        }
        if replaying {
            return None;
        }
        if self.options.start_to_close_timeout.is_none()
            && self.options.schedule_to_close_timeout.is_none()
            && worker_default.is_none()
        {
            return Some(format!(
                "activity {name:?} has no timeout: set `.start_to_close_timeout(..)` on the call, \
                 `#[activity(start_to_close_timeout = \"..\")]` on the activity, or \
                 `WorkerOptions::default_start_to_close_timeout`"
            ));
        }
        if let Some(policy) = &self.options.retry_policy
            && let Err(e) = policy.validate()
        {
            return Some(format!("activity {name:?}: invalid retry policy: {e}"));
        }
        None
    }
}

impl<O: DeserializeOwned> IntoFuture for ActivityCall<O> {
    type Output = Result<O, ActivityError>;
    type IntoFuture = ActivityFuture<O>;

    fn into_future(self) -> ActivityFuture<O> {
        ActivityFuture {
            call: Some(self),
            seq: None,
            _output: PhantomData,
        }
    }
}

/// The error of a call whose input breaks a validation rule: an
/// activity error of type `ValidationError`, as the worker would give.
fn invalid_input<O>(call: &ActivityCall<O>, e: &ConverterError) -> ActivityError {
    ActivityError {
        activity_type: call.activity_type.to_string(),
        activity_id: call.activity_id.clone().unwrap_or_default(),
        retry_state: RetryState::NonRetryableFailure,
        attempt: 0,
        cause: Box::new(ApplicationError::from(e.clone()).into()),
    }
}

/// A scheduled activity's result.
#[must_use = "futures do nothing unless awaited"]
pub struct ActivityFuture<O> {
    call: Option<ActivityCall<O>>,
    seq: Option<(SharedCore, SeqKind, u32)>,
    _output: PhantomData<fn() -> O>,
}

impl<O> Unpin for ActivityFuture<O> {}

impl<O: DeserializeOwned> Future for ActivityFuture<O> {
    type Output = Result<O, ActivityError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        if let Some(mut call) = self.call.take() {
            if let Err(e @ ConverterError::Invalid(_)) = &call.input {
                // Bad data, not a bug: the call fails as the activity
                // would, with the rule that broke (non-retryable), and
                // nothing is scheduled.
                return Poll::Ready(Err(invalid_input(&call, e)));
            }
            let (worker_default, replaying) = {
                let core = call.core.borrow();
                (core.default_start_to_close_timeout, core.replaying)
            };
            if let Some(message) = call.invalid(worker_default, replaying) {
                // A mistake in the code, not an outcome of the workflow:
                // the workflow task fails (and is retried), so deploying a
                // fix lets the run go on.
                call.core.borrow_mut().fail_task(TaskError::new(message));
                return Poll::Pending;
            }
            if call.options.start_to_close_timeout.is_none()
                && call.options.schedule_to_close_timeout.is_none()
            {
                call.options.start_to_close_timeout = worker_default;
            }
            let seq = schedule(&call, cx);
            self.seq = Some((call.core, call.kind, seq));
            return Poll::Pending;
        }
        let Some((core, kind, seq)) = &self.seq else {
            return Poll::Pending;
        };
        let resolution = {
            let mut c = core.borrow_mut();
            match c.slots.remove(&(*kind, *seq)) {
                Some(Slot::Resolved(r)) => {
                    c.activity_done(*kind, *seq);
                    r
                }
                Some(other) => {
                    let slot = match other {
                        Slot::Waiting(_) => Slot::Waiting(Some(cx.waker().clone())),
                        fired => fired,
                    };
                    c.slots.insert((*kind, *seq), slot);
                    return Poll::Pending;
                }
                None => return Poll::Pending,
            }
        };
        match resolution {
            Resolution::Completed(payload) => match converter::decode::<O>(&payload) {
                Ok(value) => Poll::Ready(Ok(value)),
                Err(e) => {
                    // A result the code cannot read is a bug to fix, not a
                    // workflow outcome: fail the task so a fixed worker can
                    // replay it.
                    core.borrow_mut()
                        .fail_task(TaskError::new(format!("activity result (seq {seq}): {e}")));
                    Poll::Pending
                }
            },
            Resolution::Failed(Failure::Activity(err)) => Poll::Ready(Err(err)),
            Resolution::Failed(other) => Poll::Ready(Err(ActivityError {
                activity_type: String::new(),
                activity_id: seq.to_string(),
                retry_state: RetryState::NonRetryableFailure,
                attempt: 0,
                cause: Box::new(other),
            })),
        }
    }
}

fn schedule<O>(call: &ActivityCall<O>, cx: &Context<'_>) -> u32 {
    let mut core = call.core.borrow_mut();
    let seq = core.next_seq(call.kind);
    let command = ScheduleActivity {
        seq,
        activity_id: command_activity_id(call, seq),
        activity_type: call.activity_type.to_string(),
        task_queue: call.task_queue.clone(),
        input: call.input.clone().unwrap_or_default(),
        options: call.options.clone(),
    };
    core.commands.push(match call.kind {
        SeqKind::LocalActivity => Command::ScheduleLocalActivity(command),
        _ => Command::ScheduleActivity(command),
    });
    core.slots
        .insert((call.kind, seq), Slot::Waiting(Some(cx.waker().clone())));
    core.track_activity(
        call.kind,
        seq,
        ActivityMeta {
            cancellation_type: call.options.cancellation_type,
            activity_type: call.activity_type.to_string(),
            activity_id: command_activity_id(call, seq),
            cancel_sent: false,
        },
    );
    seq
}

fn command_activity_id<O>(call: &ActivityCall<O>, seq: u32) -> String {
    call.activity_id.clone().unwrap_or_else(|| seq.to_string())
}

impl<O> Drop for ActivityFuture<O> {
    fn drop(&mut self) {
        let Some((core, kind, seq)) = &self.seq else {
            return;
        };
        // The executor never drops workflow futures while it holds the core.
        if let Ok(mut core) = core.try_borrow_mut() {
            core.drop_activity(*kind, *seq);
        }
    }
}

/// A durable timer; see
/// [`WorkflowContext::sleep`](super::WorkflowContext::sleep). Resolves with
/// `Ok(())` when it fires, or with a [`CanceledError`] when the workflow's
/// cancellation reaches it. Dropping it started and unfired cancels the
/// timer (`TimerCanceled` in history).
#[must_use = "a timer starts only when awaited"]
pub struct TimerFuture {
    core: SharedCore,
    duration: Duration,
    seq: Option<u32>,
}

impl TimerFuture {
    pub(crate) fn new(core: SharedCore, duration: Duration) -> Self {
        TimerFuture {
            core,
            duration,
            seq: None,
        }
    }
}

impl Future for TimerFuture {
    type Output = Result<(), CanceledError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        let mut core = this.core.borrow_mut();
        let Some(seq) = this.seq else {
            let seq = core.next_seq(SeqKind::Timer);
            core.commands.push(Command::StartTimer {
                seq,
                duration: this.duration,
            });
            core.slots.insert(
                (SeqKind::Timer, seq),
                Slot::Waiting(Some(cx.waker().clone())),
            );
            this.seq = Some(seq);
            return Poll::Pending;
        };
        match core.slots.get_mut(&(SeqKind::Timer, seq)) {
            Some(Slot::Fired) => {
                core.slots.remove(&(SeqKind::Timer, seq));
                Poll::Ready(Ok(()))
            }
            Some(Slot::Canceled) => {
                core.slots.remove(&(SeqKind::Timer, seq));
                Poll::Ready(Err(CanceledError {
                    message: TIMER_CANCELED.to_string(),
                    details: Vec::new(),
                }))
            }
            Some(Slot::Waiting(w)) => {
                *w = Some(cx.waker().clone());
                Poll::Pending
            }
            _ => Poll::Pending,
        }
    }
}

impl Drop for TimerFuture {
    fn drop(&mut self) {
        let Some(seq) = self.seq else {
            return;
        };
        // The executor never drops workflow futures while it holds the core.
        if let Ok(mut core) = self.core.try_borrow_mut() {
            core.drop_timer(seq);
        }
    }
}

impl<O: DeserializeOwned> super::deterministic::sealed::Sealed for ActivityFuture<O> {}
impl super::deterministic::sealed::Sealed for TimerFuture {}
