//! Biased selection: the first ready future in written order wins, so the
//! same history always picks the same branch (unlike `tokio::select!`,
//! which picks a ready branch at random).

use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::task::{Context, Poll};

use super::deterministic::{Deterministic, sealed::Sealed};

/// Waits for the first of `futures` to finish and returns its index and
/// output. Futures are polled in order, so when several are ready the lowest
/// index wins.
///
/// Mirrors Python's `workflow.wait(..., return_when=FIRST_COMPLETED)`. What
/// happens to the others depends on what is passed:
///
/// - futures by value are dropped when the select finishes, and dropping a
///   started timer or activity cancels it (`TimerCanceled`,
///   `ActivityTaskCancelRequested` in history);
/// - `&mut` references leave the futures with the caller, still running,
///   to await again, or to drop (which cancels them). This is
///   `asyncio.wait`'s shape: the one that finished is done (replace it), the
///   rest go on.
///
/// ```
/// # use weft::prelude::*;
/// # async fn f<W>(ctx: WorkflowContext<W>) -> WorkflowResult<()> {
/// const DAY: Duration = Duration::from_secs(86_400);
/// let mut oil = ctx.sleep(90 * DAY);
/// let mut inspection = ctx.sleep(365 * DAY);
/// loop {
///     let (index, fired) = select_first([&mut oil, &mut inspection]).await;
///     fired?;
///     match index {
///         0 => oil = ctx.sleep(90 * DAY),
///         _ => inspection = ctx.sleep(365 * DAY),
///     }
/// }
/// # }
/// ```
///
/// Awaiting an empty list never finishes.
pub fn select_first<I>(futures: I) -> SelectFirst<<I::Item as IntoFuture>::IntoFuture>
where
    I: IntoIterator,
    I::Item: IntoFuture,
{
    SelectFirst {
        futures: futures
            .into_iter()
            .map(|f| Box::pin(f.into_future()))
            .collect(),
    }
}

/// Future of [`select_first`].
#[must_use = "futures do nothing unless awaited"]
pub struct SelectFirst<F> {
    futures: Vec<Pin<Box<F>>>,
}

impl<F> Unpin for SelectFirst<F> {}

impl<F: Future> Future for SelectFirst<F> {
    type Output = (usize, F::Output);

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        for (i, f) in self.futures.iter_mut().enumerate() {
            if let Poll::Ready(v) = f.as_mut().poll(cx) {
                return Poll::Ready((i, v));
            }
        }
        Poll::Pending
    }
}

impl<F: Deterministic> Sealed for SelectFirst<F> {}

/// Used by [`select!`](crate::select): turns a branch into its future and
/// requires it to be deterministic.
#[doc(hidden)]
pub fn select_branch<F>(future: F) -> F::IntoFuture
where
    F: IntoFuture,
    F::IntoFuture: Deterministic,
{
    future.into_future()
}

/// Waits on several futures and runs the branch of the first to finish,
/// checking branches in written order (biased), so replay always picks the
/// same branch.
///
/// ```
/// # use weft::prelude::*;
/// # #[activity(start_to_close_timeout = "30s")]
/// # async fn charge(order: u32) -> Result<u32, ApplicationError> { Ok(order) }
/// # async fn f<W>(ctx: WorkflowContext<W>, order: u32) {
/// let outcome = weft::select! {
///     r = ctx.activity(CHARGE, order) => Some(r),
///     _ = ctx.sleep(Duration::from_secs(60)) => None,
/// };
/// # let _ = outcome;
/// # }
/// ```
///
/// Branches are `pattern = future => expression`, separated by commas; the
/// pattern must be irrefutable (match inside the expression instead). Every
/// future must be [`Deterministic`](crate::workflow::Deterministic). The
/// macro awaits, so use it inside workflow code's `async` context.
///
/// The futures of the branches that lose are dropped, and dropping a
/// started timer or activity cancels it (`TimerCanceled`,
/// `ActivityTaskCancelRequested` in history): a timeout written as a
/// `select!` against `ctx.sleep(..)` cleans its timer up. To keep a future
/// running past the select, give the branch `&mut fut` and hold `fut`.
#[macro_export]
macro_rules! select {
    ($($pat:pat = $fut:expr => $handler:expr),+ $(,)?) => {
        $crate::__weft_select!(@build [] $($pat = $fut => $handler,)+)
    };
}

/// The steps of [`select!`]. Each step's `__weft_f`/`__weft_o` are distinct
/// variables thanks to hygiene.
#[doc(hidden)]
#[macro_export]
macro_rules! __weft_select {
    (@build [$($done:tt)*] $pat:pat = $fut:expr => $handler:expr, $($rest:tt)*) => {
        $crate::__weft_select!(
            @build [$($done)* [__weft_f __weft_o ($pat) ($fut) ($handler)]] $($rest)*
        )
    };
    (@build [$([$f:ident $o:ident ($pat:pat) ($fut:expr) ($handler:expr)])*]) => {{
        $(
            let mut $f = ::core::pin::pin!($crate::__private::select_branch($fut));
            let mut $o = ::core::option::Option::None;
        )*
        $crate::__private::vouched(::core::future::poll_fn(|__weft_cx| {
            $(
                if let ::core::task::Poll::Ready(__weft_v) =
                    ::core::future::Future::poll($f.as_mut(), __weft_cx)
                {
                    $o = ::core::option::Option::Some(__weft_v);
                    return ::core::task::Poll::Ready(());
                }
            )*
            ::core::task::Poll::Pending
        }))
        .await;
        $crate::__weft_select!(@arms $([$o ($pat) ($handler)])*)
    }};
    (@arms [$o:ident ($pat:pat) ($handler:expr)] $($rest:tt)*) => {
        if let ::core::option::Option::Some(__weft_v) = $o.take() {
            let $pat = __weft_v;
            $handler
        } else {
            $crate::__weft_select!(@arms $($rest)*)
        }
    };
    (@arms) => {
        ::core::unreachable!("weft::select!: the future finished without a branch")
    };
}
