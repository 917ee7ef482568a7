//! Why a value did not encode or decode, worked out only once it failed:
//! the broken [`Validate`](super::Validate) rule if there was one, and
//! where in the value decoding stopped. The fast path never comes here.

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::ConverterError;
use super::validate::{self, Violation};

/// The error for a value serde_json refused to serialize: a broken rule
/// if the value's type declared one, else serde's message.
#[cold]
pub(super) fn encode_error<T: Serialize + ?Sized>(error: serde_json::Error) -> ConverterError {
    let type_name = std::any::type_name::<T>();
    let message = error.to_string();
    match validate::take() {
        Some(violation) if message.contains(&violation.invalid.message) => {
            invalid(type_name, violation, "encoded")
        }
        _ => ConverterError::Encode { type_name, message },
    }
}

/// The error for `data` that did not decode as `T`: decodes it again
/// tracking the path, so the message says where it failed, and reports a
/// broken rule as such.
#[cold]
pub(super) fn decode_error<T: DeserializeOwned>(
    data: &[u8],
    encoding: &str,
    error: serde_json::Error,
) -> ConverterError {
    let type_name = std::any::type_name::<T>();
    validate::clear();
    let mut deserializer = serde_json::Deserializer::from_slice(data);
    let traced = serde_path_to_error::deserialize::<_, T>(&mut deserializer);
    let violation = validate::take();
    let Err(traced) = traced else {
        // Decoded the second time: nothing to add to the first error.
        return decode(type_name, encoding, error.to_string());
    };
    let path = traced.path().to_string();
    let message = traced.inner().to_string();
    match violation {
        Some(mut violation) if message.contains(&violation.invalid.message) => {
            violation.path = path;
            invalid(type_name, violation, "decoded")
        }
        _ if path.is_empty() || path == "." => decode(type_name, encoding, message),
        _ => decode(type_name, encoding, format!("at `{path}`: {message}")),
    }
}

fn decode(type_name: &'static str, encoding: &str, message: String) -> ConverterError {
    ConverterError::Decode {
        type_name,
        encoding: encoding.to_string(),
        message,
    }
}

fn invalid(type_name: &'static str, violation: Violation, doing: &str) -> ConverterError {
    tracing::warn!(
        type_name,
        rule = %violation.invalid.rule,
        field = %violation.invalid.field,
        "a value breaking a validation rule was not {doing}: {violation}"
    );
    ConverterError::Invalid(Box::new(violation))
}
