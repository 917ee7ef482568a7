//! Deterministic combinators: they poll their futures in a fixed order, so
//! the commands those futures emit come out in the same order on every
//! replay.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use super::deterministic::{Deterministic, Vouched, sealed::Sealed};

/// Waits for every future and returns their outputs in input order. The
/// futures are polled in that order, so their commands are too.
pub fn join_all<I>(futures: I) -> JoinAll<I::Item>
where
    I: IntoIterator,
    I::Item: Future,
{
    JoinAll {
        slots: futures
            .into_iter()
            .map(|f| Slot::Pending(Box::pin(f)))
            .collect(),
    }
}

/// Waits for two futures of different types; polls `a` first.
pub fn join<A, B>(a: A, b: B) -> Vouched<impl Future<Output = (A::Output, B::Output)>>
where
    A: Deterministic,
    B: Deterministic,
{
    super::deterministic::vouched(join_inner(a, b))
}

async fn join_inner<A: Future, B: Future>(a: A, b: B) -> (A::Output, B::Output) {
    let mut a = std::pin::pin!(a);
    let mut b = std::pin::pin!(b);
    let mut ra = None;
    let mut rb = None;
    std::future::poll_fn(move |cx| {
        if ra.is_none()
            && let Poll::Ready(v) = a.as_mut().poll(cx)
        {
            ra = Some(v);
        }
        if rb.is_none()
            && let Poll::Ready(v) = b.as_mut().poll(cx)
        {
            rb = Some(v);
        }
        if ra.is_some() && rb.is_some() {
            match (ra.take(), rb.take()) {
                (Some(x), Some(y)) => Poll::Ready((x, y)),
                _ => Poll::Pending,
            }
        } else {
            Poll::Pending
        }
    })
    .await
}

enum Slot<F: Future> {
    Pending(Pin<Box<F>>),
    Done(Option<F::Output>),
}

/// Future of [`join_all`].
#[must_use = "futures do nothing unless awaited"]
pub struct JoinAll<F: Future> {
    slots: Vec<Slot<F>>,
}

impl<F: Future> Unpin for JoinAll<F> {}

impl<F: Future> Future for JoinAll<F> {
    type Output = Vec<F::Output>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut all_done = true;
        for slot in self.slots.iter_mut() {
            if let Slot::Pending(f) = slot {
                match f.as_mut().poll(cx) {
                    Poll::Ready(v) => *slot = Slot::Done(Some(v)),
                    Poll::Pending => all_done = false,
                }
            }
        }
        if !all_done {
            return Poll::Pending;
        }
        let outputs = self
            .slots
            .iter_mut()
            .filter_map(|slot| match slot {
                Slot::Done(v) => v.take(),
                Slot::Pending(_) => None,
            })
            .collect();
        Poll::Ready(outputs)
    }
}

impl<F: Deterministic> Sealed for JoinAll<F> {}
