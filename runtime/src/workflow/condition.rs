//! Conditions: futures that resolve once a check on the workflow's state (or
//! the executor's) holds, as Temporal's `wait_condition`.
//!
//! A condition is checked when it is polled and, while it waits, by the
//! executor after every poll pass: pending conditions are evaluated in
//! creation order, the ones that hold are woken, and passes repeat until
//! nothing changes. Checks read state only, so they replay the same way.

use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;

use std::task::{Context, Poll};

use super::deterministic::sealed::Sealed;
use super::run_core::{Check, Pending, SharedCore};

/// Resolves once its check holds; see
/// [`WorkflowContext::wait_condition`](super::WorkflowContext::wait_condition).
#[must_use = "a condition does nothing unless awaited"]
pub struct Condition {
    core: SharedCore,
    id: u64,
    check: Check,
    done: bool,
}

impl Condition {
    pub(crate) fn new(core: SharedCore, check: Check) -> Self {
        let id = core.borrow_mut().next_condition_id();
        Condition {
            core,
            id,
            check,
            done: false,
        }
    }
}

impl Future for Condition {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.done {
            return Poll::Ready(());
        }
        let fired = self
            .core
            .borrow()
            .conditions
            .get(&self.id)
            .is_some_and(|p| p.fired);
        // The check runs with no borrow of the core held: it may read the
        // context (time, info) as well as the state.
        if fired || (self.check)() {
            self.done = true;
            self.core.borrow_mut().conditions.remove(&self.id);
            return Poll::Ready(());
        }
        let mut core = self.core.borrow_mut();
        let pending = core.conditions.entry(self.id).or_insert_with(|| Pending {
            check: self.check.clone(),
            waker: None,
            fired: false,
        });
        pending.waker = Some(cx.waker().clone());
        Poll::Pending
    }
}

impl Drop for Condition {
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

impl Sealed for Condition {}

/// Evaluates the pending conditions in creation order and wakes those that
/// hold; returns whether any did.
pub(crate) fn check_conditions(core: &RefCell<super::run_core::RunCore>) -> bool {
    let waiting: Vec<(u64, Check)> = core
        .borrow()
        .conditions
        .iter()
        .filter(|(_, p)| !p.fired)
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
