//! Conditions: futures that resolve once a check on the workflow's state (or
//! the executor's) holds, as Temporal's `wait_condition`.
//!
//! A condition is checked when it is polled and, while it waits, by the
//! executor after every poll pass: pending conditions are evaluated in
//! creation order, the ones that hold are woken, and passes repeat until
//! nothing changes. Checks read state only, so they replay the same way.
//!
//! A cancellation of the workflow reaches every [`Condition`] waiting when
//! it arrives, as it reaches timers and activities: the wait ends with a
//! [`CanceledError`]. [`Cancellation`], the future that waits for that
//! request, is the one wait it does not end.

use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use super::deterministic::sealed::Sealed;
use super::futures::TimerFuture;
use super::run_core::{CONDITION_CANCELED, Check, Pending, SharedCore};
use crate::failure::CanceledError;

/// A check waiting in the executor, cancellable or not.
struct Waiting {
    core: SharedCore,
    id: u64,
    check: Check,
    cancellable: bool,
    done: bool,
}

impl Waiting {
    fn new(core: SharedCore, check: Check, cancellable: bool) -> Self {
        let id = core.borrow_mut().next_condition_id();
        Waiting {
            core,
            id,
            check,
            cancellable,
            done: false,
        }
    }

    fn poll_check(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), CanceledError>> {
        if self.done {
            return Poll::Ready(Ok(()));
        }
        let (fired, canceled) = self
            .core
            .borrow()
            .conditions
            .get(&self.id)
            .map_or((false, false), |p| (p.fired, p.canceled));
        if canceled {
            self.done = true;
            self.core.borrow_mut().conditions.remove(&self.id);
            return Poll::Ready(Err(CanceledError {
                message: CONDITION_CANCELED.to_string(),
                details: Vec::new(),
            }));
        }
        // The check runs with no borrow of the core held: it may read the
        // context (time, info) as well as the state.
        if fired || (self.check)() {
            self.done = true;
            self.core.borrow_mut().conditions.remove(&self.id);
            return Poll::Ready(Ok(()));
        }
        let mut core = self.core.borrow_mut();
        let pending = core.conditions.entry(self.id).or_insert_with(|| Pending {
            check: self.check.clone(),
            waker: None,
            fired: false,
            cancellable: self.cancellable,
            canceled: false,
        });
        pending.waker = Some(cx.waker().clone());
        Poll::Pending
    }
}

impl Drop for Waiting {
    fn drop(&mut self) {
        // A condition dropped while waiting (a lost select branch, a run
        // that ended) is no longer checked. If the core is borrowed (it is
        // not, when the executor drops futures) the entry stays until the
        // run ends, which is harmless: no waker is left to wake.
        if let Ok(mut core) = self.core.try_borrow_mut() {
            core.conditions.remove(&self.id);
        }
    }
}

/// Resolves once its check holds, or with a [`CanceledError`] when a
/// cancellation of the workflow arrives while it waits; see
/// [`WorkflowContext::wait_condition`](super::WorkflowContext::wait_condition).
#[must_use = "a condition does nothing unless awaited"]
pub struct Condition {
    waiting: Waiting,
}

impl Condition {
    pub(crate) fn new(core: SharedCore, check: Check) -> Self {
        Condition {
            waiting: Waiting::new(core, check, true),
        }
    }
}

impl Future for Condition {
    type Output = Result<(), CanceledError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.waiting.poll_check(cx)
    }
}

impl Sealed for Condition {}

/// Resolves once cancellation of the workflow is requested; see
/// [`WorkflowContext::cancellation`](super::WorkflowContext::cancellation).
#[must_use = "a condition does nothing unless awaited"]
pub struct Cancellation {
    waiting: Waiting,
}

impl Cancellation {
    pub(crate) fn new(core: SharedCore, check: Check) -> Self {
        Cancellation {
            waiting: Waiting::new(core, check, false),
        }
    }
}

impl Future for Cancellation {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        // Not cancellable: it only ever resolves with `Ok`.
        self.waiting.poll_check(cx).map(|_| ())
    }
}

impl Sealed for Cancellation {}

/// A condition with a time limit: `Ok(true)` once the check holds,
/// `Ok(false)` when the time runs out first, a [`CanceledError`] when the
/// workflow's cancellation arrives first; see
/// [`WorkflowContext::wait_condition_timeout`](super::WorkflowContext::wait_condition_timeout).
///
/// The limit is a durable timer, started the first time the check does not
/// hold and canceled (`TimerCanceled` in history) once it does.
#[must_use = "a condition does nothing unless awaited"]
pub struct TimedCondition {
    condition: Condition,
    timer: Option<TimerFuture>,
    timeout: Duration,
}

impl TimedCondition {
    pub(crate) fn new(condition: Condition, timeout: Duration) -> Self {
        TimedCondition {
            condition,
            timer: None,
            timeout,
        }
    }
}

impl Future for TimedCondition {
    type Output = Result<bool, CanceledError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        if let Poll::Ready(result) = Pin::new(&mut this.condition).poll(cx) {
            // Dropping the timer cancels it.
            this.timer = None;
            return Poll::Ready(result.map(|()| true));
        }
        let core = this.condition.waiting.core.clone();
        let timer = this
            .timer
            .get_or_insert_with(|| TimerFuture::new(core, this.timeout));
        match Pin::new(timer).poll(cx) {
            Poll::Ready(fired) => {
                this.timer = None;
                Poll::Ready(fired.map(|()| false))
            }
            Poll::Pending => Poll::Pending,
        }
    }
}

impl Sealed for TimedCondition {}

/// Evaluates the pending conditions in creation order and wakes those that
/// hold; returns whether any did.
pub(crate) fn check_conditions(core: &RefCell<super::run_core::RunCore>) -> bool {
    let waiting: Vec<(u64, Check)> = core
        .borrow()
        .conditions
        .iter()
        .filter(|(_, p)| !p.fired && !p.canceled)
        .map(|(id, p)| (*id, p.check.clone()))
        .collect();
    let mut any = false;
    for (id, check) in waiting {
        if !check() {
            continue;
        }
        let waker = {
            let mut core = core.borrow_mut();
            match core.conditions.get_mut(&id) {
                Some(p) => {
                    p.fired = true;
                    p.waker.take()
                }
                None => None,
            }
        };
        any = true;
        if let Some(waker) = waker {
            waker.wake();
        }
    }
    any
}
