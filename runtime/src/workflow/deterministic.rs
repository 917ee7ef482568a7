//! The `Deterministic` marker: futures that may be awaited in workflow code.
//!
//! `#[workflow]` rewrites every `.await` in workflow code to await
//! `__private::checked(expr)`, whose bound requires this trait. The runtime's
//! own futures implement it; nothing else can (the trait is sealed), except
//! through the loudly named [`i_promise_this_is_deterministic`].

use std::future::{Future, IntoFuture};
use std::ops::DerefMut;
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

// Pinning moves nothing into or out of history: `Box::pin(ctx.sleep(d))`
// and `std::pin::pin!(fut)` are the same future, pinned.
impl<P> sealed::Sealed for Pin<P>
where
    P: DerefMut,
    P::Target: Deterministic,
{
}
impl<F: Deterministic + Unpin + ?Sized> sealed::Sealed for Box<F> {}

// `futures::future::join_all` polls its futures in input order (up to 30
// of them), or through `FuturesOrdered`, which polls them first in input
// order and then as they are woken; the executor wakes them in history
// order. Either way its outputs come back in input order.
impl<F: Deterministic> sealed::Sealed for futures::future::JoinAll<F> {}

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

/// Type probes: the macros ask, after name resolution, whether a value or a
/// state field has a type that breaks replay (a randomly seeded hasher, a
/// wall-clock reading, an I/O handle, a global cell), which syntax cannot
/// see through `use` aliases, type aliases and method receivers.
///
/// `(&Probe::<T>::new()).__weft_kind()` picks [`Kind`](probe::Kind)'s
/// method when `Probe<T>: Kind` (autoref specialization), else
/// [`Fallback`](probe::Fallback)'s, and [`refuse`](probe::refuse) turns a
/// kind other than [`Fine`](probe::Fine) into an error whose message names
/// the fix.
#[doc(hidden)]
pub mod probe {
    use std::collections::hash_map::RandomState;
    use std::collections::{HashMap, HashSet};
    use std::hash::BuildHasherDefault;
    use std::marker::PhantomData;

    /// Carries the probed type, and where it was found: a value
    /// ([`Value`]), a `static` read by workflow code ([`Static`]), or the
    /// receiver of a method that touches the file system when called on a
    /// path ([`FsCall`]: `exists`, `is_file`, ..).
    pub struct Probe<T: ?Sized, C = Value>(PhantomData<C>, PhantomData<T>);

    /// A value: a state field, a binding, a method receiver.
    pub struct Value;

    /// The receiver of `exists`, `is_file`, `is_dir` or `metadata`.
    pub struct FsCall;

    /// A `static` (an `UPPER_CASE` path) that workflow code reads: a cell
    /// there is global state, where a local one would be the code's own.
    pub struct Static;

    /// The value of a `Type::now()` call: a `SystemTime` there is a wall
    /// clock read, where elsewhere it may be `ctx.now()`'s.
    pub struct NowCall;

    /// A probe of a `Type::now()` call's value.
    pub fn of_now_call<T: ?Sized>(_: &T) -> Probe<T, NowCall> {
        Probe::new()
    }

    impl Kind for Probe<std::time::SystemTime, NowCall> {
        type Kind = WallClock;
        fn __weft_kind(&self) -> WallClock {
            WallClock
        }
    }

    impl Kind for Probe<std::time::Instant, NowCall> {
        type Kind = WallClock;
        fn __weft_kind(&self) -> WallClock {
            WallClock
        }
    }

    /// A probe of a static's type.
    pub fn of_static<T: ?Sized>(_: &T) -> Probe<T, Static> {
        Probe::new()
    }

    impl<T: ?Sized, C> Probe<T, C> {
        /// A probe of `T`.
        pub fn new() -> Self {
            Probe(PhantomData, PhantomData)
        }
    }

    impl<T: ?Sized, C> Default for Probe<T, C> {
        fn default() -> Self {
            Probe::new()
        }
    }

    /// A probe of a value's type.
    pub fn of<T: ?Sized>(_: &T) -> Probe<T> {
        Probe::new()
    }

    /// A probe of the receiver of a file-system method.
    pub fn of_fs_receiver<T: ?Sized>(_: &T) -> Probe<T, FsCall> {
        Probe::new()
    }

    impl Kind for Probe<std::path::Path, FsCall> {
        type Kind = FileSystem;
        fn __weft_kind(&self) -> FileSystem {
            FileSystem
        }
    }

    impl Kind for Probe<std::path::PathBuf, FsCall> {
        type Kind = FileSystem;
        fn __weft_kind(&self) -> FileSystem {
            FileSystem
        }
    }

    /// The types with something to say, and what.
    pub trait Kind {
        /// What the type is.
        type Kind;
        /// Its kind.
        fn __weft_kind(&self) -> Self::Kind;
    }

    /// Every other type is fine.
    pub trait Fallback {
        /// [`Fine`].
        fn __weft_kind(&self) -> Fine;
    }

    impl<T: ?Sized, C> Fallback for &Probe<T, C> {
        fn __weft_kind(&self) -> Fine {
            Fine
        }
    }

    /// `Self` is not the kind `K`.
    pub trait Differs<K> {}

    // Reported as the kind's own trait, with its message, rather than as
    // the hidden `Differs` and every type that has it.
    macro_rules! impl_for {
        ($trait:ident: $own:ident; $($ty:ident),*) => {
            $(impl Differs<$own> for $ty {})*
            #[diagnostic::do_not_recommend]
            impl<K: Differs<$own>> $trait for K {}
        };
    }

    /// A type that replays the same way.
    pub struct Fine;

    /// This value hashes with a randomly seeded `RandomState`, so its iteration order differs on replay.
    pub struct RandomHasher;

    /// Not a [`RandomHasher`].
    #[diagnostic::on_unimplemented(
        message = "this value hashes with a randomly seeded `RandomState`, so its iteration order differs on replay; use `weft::collections::HashMap`/`HashSet`, or `BTreeMap`/`BTreeSet`",
        label = "randomly seeded hasher in workflow code"
    )]
    pub trait NotRandomHasher {}

    /// This value is a `std::time::Instant`, a wall-clock reading that differs on replay.
    pub struct WallClock;

    /// Not a [`WallClock`].
    #[diagnostic::on_unimplemented(
        message = "this value is a wall-clock reading (`std::time::Instant`, or `SystemTime::now()` under another name) that differs on replay; use `ctx.now()`, the time recorded in the workflow's history",
        label = "wall clock in workflow code"
    )]
    pub trait NotWallClock {}

    /// This value reads or touches the file system, which is I/O.
    pub struct FileSystem;

    /// Not a [`FileSystem`].
    #[diagnostic::on_unimplemented(
        message = "this value reads or touches the file system, which is I/O; do it in an activity (`ctx.activity(..)`)",
        label = "file system access in workflow code"
    )]
    pub trait NotFileSystem {}

    /// This value is a network handle, which is I/O.
    pub struct Network;

    /// Not a [`Network`].
    #[diagnostic::on_unimplemented(
        message = "this value is a network handle, which is I/O; do it in an activity (`ctx.activity(..)`)",
        label = "network access in workflow code"
    )]
    pub trait NotNetwork {}

    /// This value is an operating-system process or its handle, which is I/O.
    pub struct Process;

    /// Not a [`Process`].
    #[diagnostic::on_unimplemented(
        message = "this value is an operating-system process or its handle, which is I/O; run processes from an activity (`ctx.activity(..)`)",
        label = "process in workflow code"
    )]
    pub trait NotProcess {}

    /// This value is a thread, its handle or its identity, which differ between workers and on replay.
    pub struct Thread;

    /// Not a [`Thread`].
    #[diagnostic::on_unimplemented(
        message = "this value is a thread, its handle or its identity, which differ between workers and on replay; use `ctx.spawn(async {{ .. }})` for concurrent workflow code",
        label = "thread in workflow code"
    )]
    pub trait NotThread {}

    /// This value is a tokio runtime or its handle: work spawned or timed on it is not recorded.
    pub struct Runtime;

    /// Not a [`Runtime`].
    #[diagnostic::on_unimplemented(
        message = "this value is a tokio runtime or its handle: work spawned or timed on it is not recorded; use `ctx.spawn(..)`, `ctx.sleep(..)`, or an activity",
        label = "tokio runtime in workflow code"
    )]
    pub trait NotRuntime {}

    /// This value reads standard input, which is I/O.
    pub struct Stdin;

    /// Not a [`Stdin`].
    #[diagnostic::on_unimplemented(
        message = "this value reads standard input, which is I/O; pass the value in the workflow input, or read it in an activity",
        label = "standard input in workflow code"
    )]
    pub trait NotStdin {}

    /// This static cell is shared by every workflow on the worker and is not replayed.
    pub struct GlobalCell;

    /// Not a [`GlobalCell`].
    #[diagnostic::on_unimplemented(
        message = "this static cell is shared by every workflow on the worker and is not replayed; keep state in the workflow struct (`ctx.state_mut(..)`), or read it in an activity",
        label = "global cell read from workflow code"
    )]
    pub trait NotGlobalCell {}

    // Each kind has every trait but its own.
    impl_for!(NotRandomHasher: RandomHasher; Fine, WallClock, FileSystem, Network, Process, Thread, Runtime, Stdin, GlobalCell);
    impl_for!(NotWallClock: WallClock; Fine, RandomHasher, FileSystem, Network, Process, Thread, Runtime, Stdin, GlobalCell);
    impl_for!(NotFileSystem: FileSystem; Fine, RandomHasher, WallClock, Network, Process, Thread, Runtime, Stdin, GlobalCell);
    impl_for!(NotNetwork: Network; Fine, RandomHasher, WallClock, FileSystem, Process, Thread, Runtime, Stdin, GlobalCell);
    impl_for!(NotProcess: Process; Fine, RandomHasher, WallClock, FileSystem, Network, Thread, Runtime, Stdin, GlobalCell);
    impl_for!(NotThread: Thread; Fine, RandomHasher, WallClock, FileSystem, Network, Process, Runtime, Stdin, GlobalCell);
    impl_for!(NotRuntime: Runtime; Fine, RandomHasher, WallClock, FileSystem, Network, Process, Thread, Stdin, GlobalCell);
    impl_for!(NotStdin: Stdin; Fine, RandomHasher, WallClock, FileSystem, Network, Process, Thread, Runtime, GlobalCell);
    impl_for!(NotGlobalCell: GlobalCell; Fine, RandomHasher, WallClock, FileSystem, Network, Process, Thread, Runtime, Stdin);

    /// Rejects every kind but [`Fine`], with the kind's message.
    pub fn refuse<
        K: NotRandomHasher
            + NotWallClock
            + NotFileSystem
            + NotNetwork
            + NotProcess
            + NotThread
            + NotRuntime
            + NotStdin
            + NotGlobalCell,
    >(
        _: K,
    ) {
    }

    macro_rules! kind_of {
        ($($kind:ident => $($ty:ty),+;)*) => {
            $($(
                impl Kind for Probe<$ty> {
                    type Kind = $kind;
                    fn __weft_kind(&self) -> $kind {
                        $kind
                    }
                }
            )+)*
        };
    }

    kind_of! {
        RandomHasher => RandomState;
        WallClock => std::time::Instant, tokio::time::Instant;
        FileSystem => std::fs::File, std::fs::OpenOptions;
        Network => std::net::TcpStream, std::net::TcpListener, std::net::UdpSocket;
        Process => std::process::Command, std::process::Child, std::process::Output,
            std::process::ExitStatus;
        Thread => std::thread::Thread, std::thread::ThreadId, std::thread::Builder;
        Runtime => tokio::runtime::Runtime, tokio::runtime::Handle, tokio::runtime::Builder;
        Stdin => std::io::Stdin, std::io::StdinLock<'static>;
    }

    macro_rules! generic_kind_of {
        ($($kind:ident => $([$($p:ident),*] $ty:ty),+;)*) => {
            $($(
                impl<$($p),*> Kind for Probe<$ty> {
                    type Kind = $kind;
                    fn __weft_kind(&self) -> $kind {
                        $kind
                    }
                }
            )+)*
        };
    }

    generic_kind_of! {
        RandomHasher => [K, V] HashMap<K, V, RandomState>, [T] HashSet<T, RandomState>;
        Fine => [K, V, H] HashMap<K, V, BuildHasherDefault<H>>,
            [T, H] HashSet<T, BuildHasherDefault<H>>;
        Thread => [T] std::thread::JoinHandle<T>;
    }

    macro_rules! static_kind_of {
        ($($([$($p:ident),*] $ty:ty),+;)*) => {
            $($(
                impl<$($p),*> Kind for Probe<$ty, Static> {
                    type Kind = GlobalCell;
                    fn __weft_kind(&self) -> GlobalCell {
                        GlobalCell
                    }
                }
            )+)*
        };
    }

    static_kind_of! {
        [T] std::sync::Mutex<T>, [T] std::sync::RwLock<T>, [T] std::sync::OnceLock<T>,
            [T, F] std::sync::LazyLock<T, F>, [T] std::thread::LocalKey<T>;
    }

    macro_rules! atomics {
        ($($ty:ident),*) => {
            $(impl Kind for Probe<std::sync::atomic::$ty, Static> {
                type Kind = GlobalCell;
                fn __weft_kind(&self) -> GlobalCell {
                    GlobalCell
                }
            })*
        };
    }
    atomics!(
        AtomicBool,
        AtomicI8,
        AtomicI16,
        AtomicI32,
        AtomicI64,
        AtomicIsize,
        AtomicU8,
        AtomicU16,
        AtomicU32,
        AtomicU64,
        AtomicUsize
    );

    // Through references and boxes, as a value is usually reached.
    impl<T: ?Sized, C> Kind for Probe<&T, C>
    where
        Probe<T, C>: Kind,
    {
        type Kind = <Probe<T, C> as Kind>::Kind;
        fn __weft_kind(&self) -> Self::Kind {
            Probe::<T, C>::new().__weft_kind()
        }
    }

    impl<T: ?Sized, C> Kind for Probe<&mut T, C>
    where
        Probe<T, C>: Kind,
    {
        type Kind = <Probe<T, C> as Kind>::Kind;
        fn __weft_kind(&self) -> Self::Kind {
            Probe::<T, C>::new().__weft_kind()
        }
    }

    impl<T, C> Kind for Probe<Option<T>, C>
    where
        Probe<T, C>: Kind,
    {
        type Kind = <Probe<T, C> as Kind>::Kind;
        fn __weft_kind(&self) -> Self::Kind {
            Probe::<T, C>::new().__weft_kind()
        }
    }

    impl<T, E, C> Kind for Probe<Result<T, E>, C>
    where
        Probe<T, C>: Kind,
    {
        type Kind = <Probe<T, C> as Kind>::Kind;
        fn __weft_kind(&self) -> Self::Kind {
            Probe::<T, C>::new().__weft_kind()
        }
    }

    impl<T: ?Sized, C> Kind for Probe<Box<T>, C>
    where
        Probe<T, C>: Kind,
    {
        type Kind = <Probe<T, C> as Kind>::Kind;
        fn __weft_kind(&self) -> Self::Kind {
            Probe::<T, C>::new().__weft_kind()
        }
    }
}
