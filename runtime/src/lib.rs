//! weft: durable workflows for Rust.
//!
//! Annotate plain Rust with `#[workflow]` and `#[activity]`; weft runs each
//! workflow deterministically against an event history, so a crash at any
//! point loses nothing and the workflow resumes where it stopped.

pub mod activity;
pub mod backend;
pub mod client;
pub mod collections;
pub mod converter;
pub mod engine;
pub mod failure;
pub mod history;
pub mod protocol;
pub mod replay;
pub mod retry;
pub mod worker;
pub mod workflow;

mod translate;

pub use weft_macros::{
    activity, deterministic, init, query, run, signal, update, validator, workflow,
};

pub use activity::{Activity, ActivityContext, ActivityInfo};
pub use client::{Client, ClientError, WorkflowHandle, WorkflowOptions};
pub use converter::Payload;
pub use failure::{
    ActivityError, ApplicationError, CanceledError, Failure, RetryState, TimeoutError, TimeoutType,
    WorkflowFailureError,
};
pub use protocol::ActivityCancellationType;
pub use retry::RetryPolicy;
pub use worker::{Worker, WorkerOptions};
pub use workflow::{Workflow, WorkflowContext, WorkflowResult, i_promise_this_is_deterministic};

/// The names most workflow code needs.
pub mod prelude {
    pub use crate::activity::{ActivityContext, ActivityInfo};
    pub use crate::backend::{IdConflictPolicy, IdReusePolicy};
    pub use crate::client::{Client, WorkflowOptions};
    pub use crate::failure::{ActivityError, ApplicationError, Failure};
    pub use crate::retry::RetryPolicy;
    pub use crate::worker::Worker;
    pub use crate::workflow::{WorkflowContext, WorkflowResult};
    pub use std::time::Duration;
    pub use weft_macros::{
        activity, deterministic, init, query, run, signal, update, validator, workflow,
    };
}

/// What the macros' generated code needs. Not a public API.
#[doc(hidden)]
pub mod __private {
    pub use crate::activity::{Activity, ActivityGroup, ErasedActivity, Invoke};
    pub use crate::converter::{ConverterError, Payload, decode, encode};
    pub use crate::failure::Failure;
    pub use crate::workflow::deterministic::{checked, probe, vouched};
    pub use crate::workflow::select::select_branch;
    pub use crate::workflow::{
        Deterministic, Handler, UpdateHandler, Workflow, WorkflowContext, WorkflowResult,
    };
    pub use futures::future::{BoxFuture, LocalBoxFuture};
    pub use serde;

    /// Checks that an activity received one payload per argument.
    pub fn arity(payloads: &[Payload], count: usize) -> Result<(), Failure> {
        if payloads.len() == count {
            Ok(())
        } else {
            Err(ConverterError::Arity {
                expected: count,
                got: payloads.len(),
            }
            .into())
        }
    }

    /// Decodes argument `index` (after [`arity`] checked the count).
    pub fn arg<T: serde::de::DeserializeOwned>(
        payloads: &[Payload],
        index: usize,
    ) -> Result<T, Failure> {
        let payload = payloads.get(index).ok_or(ConverterError::Arity {
            expected: index + 1,
            got: payloads.len(),
        })?;
        Ok(decode(payload)?)
    }

    /// Encodes an activity's result, or turns its error into a failure.
    pub fn output<T: serde::Serialize, E: Into<Failure>>(
        result: Result<T, E>,
    ) -> Result<Payload, Failure> {
        match result {
            Ok(v) => Ok(encode(&v)?),
            Err(e) => Err(e.into()),
        }
    }
}

/// The message of a caught panic.
pub(crate) fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = panic.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = panic.downcast_ref::<String>() {
        s.clone()
    } else {
        "(non-string panic payload)".to_string()
    }
}

/// Why a spawned task ended without a value.
pub(crate) fn join_error_message(e: tokio::task::JoinError) -> String {
    match e.try_into_panic() {
        Ok(panic) => panic_message(panic.as_ref()),
        Err(e) => e.to_string(),
    }
}

#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
mod readme {}
