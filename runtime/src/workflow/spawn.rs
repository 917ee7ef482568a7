//! Tasks spawned by workflow code: run by the executor on the workflow's own
//! thread, in spawn order, before the run function in each poll pass.

use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

use ::futures::future::LocalBoxFuture;

use super::deterministic::{Deterministic, sealed::Sealed};

struct Shared<T> {
    output: Option<T>,
    waker: Option<Waker>,
    taken: bool,
}

/// The handle of a task spawned with
/// [`WorkflowContext::spawn`](super::WorkflowContext::spawn); awaiting it
/// gives the task's output.
#[must_use = "dropping the handle does not stop the task, but its output is lost"]
pub struct JoinHandle<T> {
    shared: Rc<RefCell<Shared<T>>>,
}

/// Wraps a future into a task for the executor and a handle for the code.
pub(crate) fn task<F>(future: F) -> (LocalBoxFuture<'static, ()>, JoinHandle<F::Output>)
where
    F: Deterministic + 'static,
    F::Output: 'static,
{
    let shared = Rc::new(RefCell::new(Shared {
        output: None,
        waker: None,
        taken: false,
    }));
    let for_task = shared.clone();
    let task = Box::pin(async move {
        let output = future.await;
        let waker = {
            let mut s = for_task.borrow_mut();
            s.output = Some(output);
            s.waker.take()
        };
        if let Some(w) = waker {
            w.wake();
        }
    });
    (task, JoinHandle { shared })
}

impl<T> Future for JoinHandle<T> {
    type Output = T;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        let mut s = self.shared.borrow_mut();
        match s.output.take() {
            Some(v) => {
                s.taken = true;
                Poll::Ready(v)
            }
            None => {
                // After the output was taken, a JoinHandle polled again stays pending.
                if !s.taken {
                    s.waker = Some(cx.waker().clone());
                }
                Poll::Pending
            }
        }
    }
}

impl<T> Sealed for JoinHandle<T> {}
