//! The `Deterministic` marker: futures that may be awaited in workflow code.
//!
//! `#[workflow]` rewrites every `.await` in workflow code to await
//! `__private::checked(expr)`, whose bound requires this trait. The runtime's
//! own futures implement it; nothing else can (the trait is sealed), except
//! through the loudly named [`i_promise_this_is_deterministic`].

use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::task::{Context, Poll};

pub(crate) mod sealed {
    pub trait Sealed {}
}

/// A future whose result depends only on workflow history, so awaiting it in
/// workflow code replays the same way every time.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be awaited in workflow code: it is not deterministic",
    label = "this future is not driven by workflow history",
    note = "workflow code may only await weft's futures: `ctx.activity(..)`, `ctx.local_activity(..)`, `ctx.sleep(..)`, `weft::workflow::join`/`join_all`/`select!`, `ctx.spawn(..)`, `ctx.side_effect(..)`, or an async fn marked `#[weft::deterministic]`",
    note = "for a real-world timer use `ctx.sleep(duration)`; for I/O, put it in an activity"
)]
pub trait Deterministic: Future + sealed::Sealed {}

// A deterministic future polled through a reference stays deterministic;
// this lets `select!` and `select_first` race futures the code keeps (and
// may await again, or drop to cancel them) instead of consuming them.
impl<F: Deterministic + Unpin + ?Sized> sealed::Sealed for &mut F {}

// Hidden from diagnostics, so a bad await reports `Deterministic` and its
// note rather than the private `Sealed` trait and every type that has it.
#[diagnostic::do_not_recommend]
impl<T: Future + sealed::Sealed> Deterministic for T {}

/// A future the macros (or the escape hatch) vouch for.
#[must_use = "futures do nothing unless awaited"]
pub struct Vouched<F>(Pin<Box<F>>);

impl<F: Future> Future for Vouched<F> {
    type Output = F::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        self.0.as_mut().poll(cx)
    }
}

impl<F: Future> sealed::Sealed for Vouched<F> {}

/// Marks a future as deterministic without checking it.
///
/// Only for futures whose every await is driven by weft (for example a future
/// from a library that composes weft futures). Awaiting anything else here
/// breaks replay: a workflow that does so fails with a nondeterminism error,
/// or worse, silently diverges.
pub fn i_promise_this_is_deterministic<F: Future>(future: F) -> Vouched<F> {
    Vouched(Box::pin(future))
}

/// Used by the macros: an async block or helper whose awaits were all checked.
#[doc(hidden)]
pub fn vouched<F: Future>(future: F) -> Vouched<F> {
    Vouched(Box::pin(future))
}

/// Used by the macros: what every `.await` in workflow code awaits.
#[doc(hidden)]
pub fn checked<F>(future: F) -> F::IntoFuture
where
    F: IntoFuture,
    F::IntoFuture: Deterministic,
{
    future.into_future()
}
