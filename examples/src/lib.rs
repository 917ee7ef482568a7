//! The pattern examples of the weft book, one module per pattern, in the
//! order of the reference. Each module registers its workflows and activities
//! on a worker and has a `run` that executes them through a client and
//! returns the lines the example prints. The example binaries and the tour
//! call these, and so do the tests.

pub mod activity_choice;
pub mod cancellation;
pub mod child_workflow;
pub mod concurrent_timers;
pub mod continue_as_new;
pub mod crash;
pub mod determinism;
pub mod exceptions;
pub mod local_activity;
pub mod long_running_entity;
pub mod parallel_activity;
pub mod polling_frequent;
pub mod polling_infrequent;
pub mod remote;
pub mod schedule;
pub mod support;
pub mod tour;

use weft::{Client, Worker};

/// A pattern of the tour.
pub struct Pattern {
    /// Its name, as the reference titles it.
    pub name: &'static str,
    /// Registers its workflows and activities on a worker for its task queue.
    pub worker: fn(&Client) -> Worker,
    /// Runs it and returns the lines it prints.
    pub run: fn(&Client) -> futures_like::BoxRun<'_>,
}

/// Boxed future type of a pattern's run.
pub mod futures_like {
    use std::future::Future;
    use std::pin::Pin;

    /// What a pattern's `run` returns.
    pub type BoxRun<'a> = Pin<
        Box<dyn Future<Output = Result<Vec<String>, crate::support::ExampleError>> + Send + 'a>,
    >;
}

/// Every pattern that exists, in the reference's order.
pub fn patterns() -> Vec<Pattern> {
    vec![
        Pattern {
            name: "Activity Choice",
            worker: activity_choice::worker,
            run: |c| Box::pin(activity_choice::run(c)),
        },
        Pattern {
            name: "Parallel Activity",
            worker: parallel_activity::worker,
            run: |c| Box::pin(parallel_activity::run(c)),
        },
        Pattern {
            name: "Cancellation",
            worker: cancellation::worker,
            run: |c| Box::pin(cancellation::run(c)),
        },
        Pattern {
            name: "Continue-as-New",
            worker: continue_as_new::worker,
            run: |c| Box::pin(continue_as_new::run(c)),
        },
        Pattern {
            name: "Long-running Entity",
            worker: long_running_entity::worker,
            run: |c| Box::pin(long_running_entity::run(c)),
        },
        Pattern {
            name: "Concurrent Timers",
            worker: concurrent_timers::worker,
            run: |c| Box::pin(concurrent_timers::run(c)),
        },
        Pattern {
            name: "Child Workflow",
            worker: child_workflow::worker,
            run: |c| Box::pin(child_workflow::run(c)),
        },
        Pattern {
            name: "Exceptions",
            worker: exceptions::worker,
            run: |c| Box::pin(exceptions::run(c)),
        },
        Pattern {
            name: "Local Activity",
            worker: local_activity::worker,
            run: |c| Box::pin(local_activity::run(c)),
        },
        Pattern {
            name: "Polling (frequent)",
            worker: polling_frequent::worker,
            run: |c| Box::pin(polling_frequent::run(c)),
        },
        Pattern {
            name: "Polling (infrequent)",
            worker: polling_infrequent::worker,
            run: |c| Box::pin(polling_infrequent::run(c)),
        },
        Pattern {
            name: "Schedule",
            worker: schedule::worker,
            run: |c| Box::pin(schedule::run(c)),
        },
    ]
}
