//! weft: durable workflows for Rust.
//!
//! Annotate plain Rust with `#[workflow]` and `#[activity]`; weft runs each
//! workflow deterministically against an event history, so a crash at any
//! point loses nothing and the workflow resumes where it stopped.

#![forbid(unsafe_code)]

pub mod activity;
pub mod backend;
pub mod client;
pub mod collections;
pub mod converter;
pub mod engine;
pub mod failure;
pub mod history;
pub mod protocol;
#[cfg(feature = "remote")]
pub mod remote;
pub mod replay;
pub mod retry;
pub mod schedule;
pub mod search_attributes;
pub mod telemetry;
#[cfg(feature = "temporal")]
pub mod temporal;
pub mod visibility;
pub mod worker;
pub mod workflow;

mod panic;

pub use weft_macros::{
    activity, deterministic, init, query, run, signal, update, validator, workflow,
};

pub use activity::{Activity, ActivityContext, ActivityInfo};
pub use client::{Client, ClientError, ScheduleHandle, WorkflowHandle, WorkflowOptions};
pub use converter::{DataConverter, Invalid, Payload, PayloadCodec, Validate};
pub use failure::{
    ActivityError, ApplicationError, CanceledError, ChildWorkflowError, Failure, RetryState,
    TimeoutError, TimeoutType, WorkflowFailureError,
};
pub use protocol::ActivityCancellationType;
pub use retry::RetryPolicy;
pub use worker::{Worker, WorkerOptions};
pub use workflow::{Workflow, WorkflowContext, WorkflowResult, i_promise_this_is_deterministic};

/// The names most workflow code needs: `use weft::prelude::*;` is the one
/// weft import of the examples. `select!` is not here: workflow code
/// writes it `weft::select!`, since a bare `select!` could be tokio's or
/// futures', which the determinism check refuses.
pub mod prelude {
    pub use crate::activity::{ActivityContext, ActivityInfo};
    pub use crate::backend::{IdConflictPolicy, IdReusePolicy};
    pub use crate::client::{Client, ClientError, WorkflowHandle, WorkflowOptions};
    pub use crate::failure::{ActivityError, ApplicationError, CanceledError, Failure};
    pub use crate::retry::RetryPolicy;
    pub use crate::worker::{Worker, WorkerOptions};
    pub use crate::workflow::{
        ChildOptions, DynamicCall, ParentClosePolicy, WorkflowContext, WorkflowResult, join,
        join_all, select_first, try_join_all,
    };
    pub use std::time::Duration;
    pub use weft_macros::{
        activity, deterministic, init, query, run, signal, update, validator, workflow,
    };
}

/// What the macros' generated code needs. Not a public API.
#[doc(hidden)]
#[path = "private.rs"]
pub mod __private;

#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
mod readme {}
