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

/// Implemented by `#[workflow]` on a workflow's state struct; the
/// `#[workflow]` impl block requires it, so a struct left without the
/// attribute (whose fields then go unchecked) is a compile error.
#[diagnostic::on_unimplemented(
    message = "`{Self}` has #[workflow] on its impl block but not on its struct",
    label = "add #[workflow] to the struct `{Self}` too",
    note = "on the struct, #[workflow] checks the workflow's state for types that replay \
            differently (a std HashMap's random order, a clock, ...)"
)]
pub trait WorkflowState {}

/// Requires `T` to be a `#[workflow]` state struct (see [`WorkflowState`]).
pub fn workflow_state<T: WorkflowState + ?Sized>() {}

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
