//! What the runtime's integration tests share: hand-built activities and
//! workflows (as the macros would build them), an engine on either store,
//! and a way to run one test body on both stores.

#![allow(dead_code)]

pub mod backend;
pub mod counter;
pub mod logs;
pub mod stores;

#[allow(unused_imports)]
pub use stores::{Env, env};

use futures::future::BoxFuture;
use weft::history::Event;
use weft::{ApplicationError, Client};

/// The function type of a one-argument async activity returning a string.
pub type AsyncFn<I> = fn(I) -> BoxFuture<'static, Result<String, ApplicationError>>;

/// Builds a one-argument async activity by hand, as `#[activity]` would.
#[macro_export]
macro_rules! activity {
    ($name:ident, $ty:ty, |$arg:ident| $body:expr) => {
        #[allow(non_upper_case_globals)]
        const $name: ::weft::activity::Activity<$crate::support::AsyncFn<$ty>, $ty, String> =
            ::weft::activity::Activity::__new(
                stringify!($name),
                |$arg| Box::pin(async move { $body }),
                ::weft::activity::Invoke::Async(|_ctx, p| {
                    Box::pin(async move {
                        ::weft::__private::arity(&p, 1)?;
                        let $arg: $ty = ::weft::__private::arg(&p, 0)?;
                        ::weft::__private::output::<String, ::weft::ApplicationError>($body)
                    })
                }),
                |a| Ok(vec![::weft::converter::encode(a)?]),
            );
    };
}

/// Implements `Workflow` for a unit struct whose run is an async fn; the
/// workflow type name may be given, so two code versions share one name.
#[macro_export]
macro_rules! workflow {
    ($ty:ident, $input:ty, $output:ty, $run:path) => {
        $crate::workflow!($ty as stringify!($ty), $input, $output, $run);
    };
    ($ty:ident as $name:expr, $input:ty, $output:ty, $run:path) => {
        #[derive(Default)]
        struct $ty;
        impl ::weft::Workflow for $ty {
            const NAME: &'static str = $name;
            type Input = $input;
            type Output = $output;
            fn init(_: &$input) -> Self {
                $ty
            }
            fn run(
                ctx: ::weft::WorkflowContext<Self>,
                input: $input,
            ) -> ::futures::future::LocalBoxFuture<'static, ::weft::WorkflowResult<$output>> {
                Box::pin($run(ctx, input))
            }
        }
    };
}

/// The event type names of a history.
pub fn names(events: &[Event]) -> Vec<&'static str> {
    events.iter().map(|e| e.attributes.name()).collect()
}

/// The message of the run's workflow task failure, once one is recorded;
/// checks that the failure left the run open. Reads `describe` until the
/// failure shows (there is no event to await for it), for at most 10 s.
pub async fn task_failure<W: weft::Workflow>(h: &weft::WorkflowHandle<W>) -> String {
    for _ in 0..2000 {
        let d = h.describe().await.unwrap();
        if let Some(f) = d.last_workflow_task_failure {
            assert_eq!(
                d.status,
                weft::backend::RunStatus::Running,
                "a task failure leaves the run open"
            );
            return f;
        }
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    panic!("no workflow task failure was recorded");
}

/// Worker options with strict replay and a cache of `cache` runs.
pub fn strict(cache: usize) -> weft::WorkerOptions {
    weft::WorkerOptions {
        max_cached_workflows: cache,
        strict_replay: true,
        ..weft::WorkerOptions::default()
    }
}

/// Awaits `f`, failing the test after 30 s instead of hanging it.
pub async fn within<F: std::future::Future>(f: F) -> F::Output {
    tokio::time::timeout(std::time::Duration::from_secs(30), f)
        .await
        .expect("timed out")
}

/// Starts a worker on `queue` running workflow `W`.
pub fn start_worker<W: weft::Workflow>(
    client: &Client,
    queue: &str,
    options: weft::WorkerOptions,
) -> weft::worker::WorkerHandle {
    let w = weft::Worker::new(client, queue)
        .with_options(options)
        .register_workflow::<W>();
    w.start().unwrap()
}

/// The run's history once it holds an event `pred` accepts: for facts with
/// no client call to await (a cancel request the workflow's task recorded).
/// Reads the history until then, for at most 10 s.
pub async fn history_until<W: weft::Workflow>(
    h: &weft::WorkflowHandle<W>,
    pred: impl Fn(&Event) -> bool,
) -> Vec<Event> {
    for _ in 0..2000 {
        let events = h.history().await.unwrap();
        if events.iter().any(&pred) {
            return events;
        }
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    panic!("the history never held the awaited event");
}
