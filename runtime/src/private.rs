//! What the macros' generated code needs. Not a public API: it changes
//! with the macros, whatever the version says.

pub use crate::activity::{
    Activity, ActivityDefaults, ActivityGroup, ErasedActivity, Invoke, Method, RetryDefaults,
};
pub use crate::converter::{ConverterError, Payload, decode, encode};
pub use crate::failure::Failure;
pub use crate::workflow::deterministic::{checked, probe, vouched};
pub use crate::workflow::select::select_branch;
pub use crate::workflow::{
    Deterministic, DynamicCall, Handler, SignalTarget, UpdateHandler, Workflow, WorkflowContext,
    WorkflowResult,
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
