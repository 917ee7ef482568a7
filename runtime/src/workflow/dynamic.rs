//! The input of a dynamic handler: a signal, query or update that no
//! handler of its own takes, with its name and its arguments still encoded.

use serde::de::DeserializeOwned;

use crate::converter::Payload;
use crate::failure::Failure;

/// What a dynamic handler (`#[signal(dynamic)]`, `#[query(dynamic)]`,
/// `#[update(dynamic)]`) receives: the name the caller used and its
/// arguments, decoded on demand, as Temporal's dynamic handlers receive a
/// name and raw values.
///
/// ```
/// # use weft::workflow::DynamicCall;
/// # fn f(call: DynamicCall) -> Result<(), weft::Failure> {
/// match call.name() {
///     "rename" => {
///         let name: String = call.input()?;
///     }
///     _ => {}
/// }
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct DynamicCall {
    name: String,
    args: Vec<Payload>,
}

impl DynamicCall {
    /// A call of `name` with encoded `args` (what the macros build, and
    /// what a test of a dynamic handler builds).
    pub fn new(name: impl Into<String>, args: Vec<Payload>) -> Self {
        DynamicCall {
            name: name.into(),
            args,
        }
    }

    /// The handler name the caller used.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// How many arguments the caller sent (none for `()`).
    pub fn len(&self) -> usize {
        self.args.len()
    }

    /// Whether the caller sent no argument.
    pub fn is_empty(&self) -> bool {
        self.args.is_empty()
    }

    /// Argument `index`, decoded as `T`: an error when there is no such
    /// argument or it is not a `T` (a handler that passes it on with `?`
    /// rejects an update, fails a query, and leaves a signal unapplied).
    pub fn arg<T: DeserializeOwned>(&self, index: usize) -> Result<T, Failure> {
        crate::__private::arg(&self.args, index)
    }

    /// The only argument, decoded as `T`: an error unless exactly one was
    /// sent.
    pub fn input<T: DeserializeOwned>(&self) -> Result<T, Failure> {
        crate::__private::arity(&self.args, 1)?;
        self.arg(0)
    }

    /// The arguments, still encoded.
    pub fn payloads(&self) -> &[Payload] {
        &self.args
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::converter::encode;

    #[test]
    fn arguments_decode_by_position_and_mistakes_are_errors() {
        let call = DynamicCall::new("add", vec![encode(&2).unwrap(), encode(&"x").unwrap()]);
        assert_eq!(call.name(), "add");
        assert_eq!(call.len(), 2);
        assert_eq!(call.arg::<i64>(0).unwrap(), 2);
        assert_eq!(call.arg::<String>(1).unwrap(), "x");
        assert!(call.arg::<i64>(1).is_err(), "a string is not a number");
        assert!(call.arg::<i64>(2).is_err(), "no third argument");
        assert!(call.input::<i64>().is_err(), "two arguments, not one");
        let one = DynamicCall::new("set", vec![encode(&7u8).unwrap()]);
        assert_eq!(one.input::<u8>().unwrap(), 7);
        assert!(DynamicCall::new("ping", Vec::new()).is_empty());
    }
}
