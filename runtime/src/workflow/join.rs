//! Deterministic combinators: they poll their futures in a fixed order, so
//! the commands those futures emit come out in the same order on every
//! replay.

use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::task::{Context, Poll};

use super::deterministic::{Deterministic, Vouched, sealed::Sealed};

/// Waits for every future and returns their outputs in input order. The
/// futures are polled in that order, so their commands are too. Activity
/// calls are taken as they are (no `.into_future()`):
///
/// ```
/// # use weft::prelude::*;
/// # #[activity(start_to_close_timeout = "5s")]
/// # async fn greet(name: String) -> Result<String, ApplicationError> { Ok(name) }
/// # async fn f<W>(ctx: WorkflowContext<W>) {
/// let calls = ["ann", "bob"].map(|name| ctx.activity(GREET, name.to_string()));
/// let results: Vec<Result<String, ActivityError>> = join_all(calls).await;
/// # }
/// ```
pub fn join_all<I>(futures: I) -> JoinAll<<I::Item as IntoFuture>::IntoFuture>
where
    I: IntoIterator,
    I::Item: IntoFuture,
{
    JoinAll {
        slots: futures
            .into_iter()
            .map(|f| Slot::Pending(Box::pin(f.into_future())))
            .collect(),
    }
}

/// Waits for every future to succeed and returns their values in input
/// order, or the first error (in the order the results arrive, which
/// history fixes) at once, as `futures::future::try_join_all` does: the
/// futures still pending are then dropped, which cancels their timers and
/// asks for their activities' cancellation. Activity calls are taken as
/// they are:
///
/// ```
/// # use weft::prelude::*;
/// # #[activity(start_to_close_timeout = "5s")]
/// # async fn greet(name: String) -> Result<String, ApplicationError> { Ok(name) }
/// # async fn f<W>(ctx: WorkflowContext<W>) -> WorkflowResult<()> {
/// let calls = ["ann", "bob"].map(|name| ctx.activity(GREET, name.to_string()));
/// let greetings: Vec<String> = try_join_all(calls).await?;
/// # Ok(())
/// # }
/// ```
pub fn try_join_all<I, T, E>(futures: I) -> TryJoinAll<<I::Item as IntoFuture>::IntoFuture>
where
    I: IntoIterator,
    I::Item: IntoFuture<Output = Result<T, E>>,
{
    TryJoinAll {
        inner: join_all(futures),
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

/// Future of [`try_join_all`].
#[must_use = "futures do nothing unless awaited"]
pub struct TryJoinAll<F: Future> {
    inner: JoinAll<F>,
}

impl<F: Future> Unpin for TryJoinAll<F> {}

impl<F, T, E> Future for TryJoinAll<F>
where
    F: Future<Output = Result<T, E>>,
{
    type Output = Result<Vec<T>, E>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut all_done = true;
        for slot in self.inner.slots.iter_mut() {
            if let Slot::Pending(f) = slot {
                match f.as_mut().poll(cx) {
                    Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                    Poll::Ready(ok) => *slot = Slot::Done(Some(ok)),
                    Poll::Pending => all_done = false,
                }
            }
        }
        if !all_done {
            return Poll::Pending;
        }
        let mut values = Vec::with_capacity(self.inner.slots.len());
        for slot in self.inner.slots.iter_mut() {
            if let Slot::Done(Some(Ok(v))) = std::mem::replace(slot, Slot::Done(None)) {
                values.push(v);
            }
        }
        Poll::Ready(Ok(values))
    }
}

impl<F: Deterministic> Sealed for TryJoinAll<F> {}
