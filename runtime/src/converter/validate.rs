//! Validation: rules a type declares, checked whenever a value of it
//! becomes a payload or is read from one.
//!
//! The rules run inside the type's serde impls ([`validated!`](crate::validated!)), so they
//! hold on every path a payload takes (workflow and activity inputs and
//! results, signals, queries, updates, heartbeat details, failure details)
//! with no list of call sites to keep up to date, on the client that
//! encodes a value as much as on the worker that decodes it. A type without
//! rules pays nothing.
//!
//! A broken rule is recorded here (one slot per thread) before serde turns
//! it into a message, so the converter can report it as
//! [`ConverterError::Invalid`](super::ConverterError::Invalid) with the
//! field and the rule rather than as a bare decoding error.

use std::cell::RefCell;
use std::fmt;

use serde::{Deserialize, Serialize};

/// Rules a type's values must meet; checked by the impls [`validated!`](crate::validated!)
/// writes, before a value is encoded and after it is decoded.
///
/// ```
/// use serde::{Deserialize, Serialize};
/// use weft::converter::{Invalid, Validate};
///
/// #[derive(Serialize, Deserialize)]
/// #[serde(remote = "Self")]
/// struct UserData {
///     user_id: i64,
///     ip_address: std::net::Ipv4Addr,
/// }
///
/// impl Validate for UserData {
///     fn validate(&self) -> Result<(), Invalid> {
///         if self.user_id <= 0 {
///             return Err(Invalid::new("user_id", "positive", "user_id must be positive"));
///         }
///         Ok(())
///     }
/// }
///
/// weft::validated!(UserData);
///
/// let bad = UserData { user_id: 0, ip_address: [10, 0, 0, 1].into() };
/// let err = weft::converter::encode(&bad).unwrap_err();
/// assert!(err.to_string().contains("user_id must be positive"));
/// ```
pub trait Validate {
    /// `Ok` when the value meets every rule; else the first rule it breaks.
    fn validate(&self) -> Result<(), Invalid>;
}

/// A rule a value broke: which field, which rule, and what to tell the
/// person who sent it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Invalid {
    /// The field (or `path.to.field`) whose value broke the rule.
    pub field: String,
    /// A short name of the rule (`positive`, `ipv4`, `max_length(64)`).
    pub rule: String,
    /// What the sender should change, in words.
    pub message: String,
}

impl Invalid {
    /// A broken rule on `field`.
    pub fn new(
        field: impl Into<String>,
        rule: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Invalid {
            field: field.into(),
            rule: rule.into(),
            message: message.into(),
        }
    }
}

impl fmt::Display for Invalid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "field `{}` fails rule `{}`: {}",
            self.field, self.rule, self.message
        )
    }
}

/// A broken rule as the converter reports it: the type that declared the
/// rule, where in the value it sits, and the rule.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Violation {
    /// The type whose rule broke (its last path segment, `UserData`).
    pub type_name: String,
    /// Where that value sits in the payload (`[1]`, `users[0]`; empty at
    /// the top).
    pub path: String,
    /// The rule.
    pub invalid: Invalid,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() || self.path == "." {
            write!(f, "{}: {}", self.type_name, self.invalid)
        } else {
            write!(f, "{} at {}: {}", self.type_name, self.path, self.invalid)
        }
    }
}

thread_local! {
    /// The last rule broken on this thread, for the converter to pick up.
    static LAST: RefCell<Option<Violation>> = const { RefCell::new(None) };
}

/// Forgets a broken rule recorded earlier on this thread.
pub(crate) fn clear() {
    LAST.with(|slot| slot.borrow_mut().take());
}

/// Takes the broken rule recorded on this thread, if any.
pub(crate) fn take() -> Option<Violation> {
    LAST.with(|slot| slot.borrow_mut().take())
}

fn record<T: ?Sized>(invalid: Invalid) -> String {
    let violation = Violation {
        type_name: short_type_name::<T>().to_string(),
        path: String::new(),
        invalid,
    };
    let message = violation.to_string();
    LAST.with(|slot| *slot.borrow_mut() = Some(violation));
    message
}

fn short_type_name<T: ?Sized>() -> &'static str {
    let full = std::any::type_name::<T>();
    let base = full.split('<').next().unwrap_or(full);
    base.rsplit("::").next().unwrap_or(base)
}

/// Checks `value` before it is serialized ([`validated!`](crate::validated!) calls this).
#[doc(hidden)]
pub fn check_ser<T: Validate, E: serde::ser::Error>(value: &T) -> Result<(), E> {
    value
        .validate()
        .map_err(|invalid| E::custom(record::<T>(invalid)))
}

/// Checks `value` after it was deserialized ([`validated!`](crate::validated!) calls this).
#[doc(hidden)]
pub fn check_de<T: Validate, E: serde::de::Error>(value: T) -> Result<T, E> {
    match value.validate() {
        Ok(()) => Ok(value),
        Err(invalid) => Err(E::custom(record::<T>(invalid))),
    }
}

/// Writes `Serialize` and `Deserialize` for a type whose serde derive
/// carries `#[serde(remote = "Self")]`, checking its [`Validate`] rules
/// before every encoding and after every decoding.
///
/// With `remote = "Self"`, serde's derive writes the (de)serializing code
/// as inherent functions instead of trait impls; this macro writes the
/// trait impls around them. An invalid value then cannot become a payload
/// (the client refuses to send it) and a payload holding one cannot be
/// decoded (the worker refuses it before any workflow or activity code
/// runs), each with [`ConverterError::Invalid`](super::ConverterError::Invalid).
/// See [`Validate`] for an example.
#[macro_export]
macro_rules! validated {
    ($ty:ty) => {
        impl $crate::__private::serde::Serialize for $ty {
            fn serialize<S>(&self, serializer: S) -> ::core::result::Result<S::Ok, S::Error>
            where
                S: $crate::__private::serde::Serializer,
            {
                $crate::converter::check_ser::<Self, S::Error>(self)?;
                <$ty>::serialize(self, serializer)
            }
        }

        impl<'de> $crate::__private::serde::Deserialize<'de> for $ty {
            fn deserialize<D>(deserializer: D) -> ::core::result::Result<Self, D::Error>
            where
                D: $crate::__private::serde::Deserializer<'de>,
            {
                let value = <$ty>::deserialize(deserializer)?;
                $crate::converter::check_de::<Self, D::Error>(value)
            }
        }
    };
}

#[cfg(test)]
mod tests {
    use std::net::Ipv4Addr;

    use serde::{Deserialize, Serialize};

    use super::*;
    use crate::converter::{ConverterError, Payload, decode, encode};
    use crate::failure::{ApplicationError, VALIDATION_ERROR};

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    #[serde(remote = "Self")]
    struct UserData {
        user_id: i64,
        ip_address: Ipv4Addr,
    }

    impl Validate for UserData {
        fn validate(&self) -> Result<(), Invalid> {
            if self.user_id <= 0 {
                return Err(Invalid::new(
                    "user_id",
                    "positive",
                    "user_id must be positive",
                ));
            }
            Ok(())
        }
    }

    crate::validated!(UserData);

    fn json(text: &str) -> Payload {
        let mut p = encode(&()).unwrap();
        p.metadata.insert("encoding".into(), b"json/plain".to_vec());
        p.data = text.as_bytes().to_vec();
        p
    }

    #[test]
    fn valid_values_round_trip() {
        let user = UserData {
            user_id: 1,
            ip_address: Ipv4Addr::new(192, 168, 1, 1),
        };
        let p = encode(&user).unwrap();
        assert_eq!(p.data, br#"{"user_id":1,"ip_address":"192.168.1.1"}"#);
        assert_eq!(decode::<UserData>(&p).unwrap(), user);
    }

    #[test]
    fn an_invalid_value_is_not_encoded() {
        let user = UserData {
            user_id: 0,
            ip_address: Ipv4Addr::LOCALHOST,
        };
        let err = encode(&vec![user]).unwrap_err();
        let ConverterError::Invalid(violation) = &err else {
            panic!("{err:?}");
        };
        assert_eq!(violation.type_name, "UserData");
        assert_eq!(violation.invalid.rule, "positive");
        assert_eq!(
            err.to_string(),
            "invalid UserData: field `user_id` fails rule `positive`: user_id must be positive"
        );
    }

    #[test]
    fn an_invalid_payload_names_where_the_value_sits() {
        let p = json(
            r#"[{"user_id":1,"ip_address":"10.0.0.1"},{"user_id":0,"ip_address":"10.0.0.2"}]"#,
        );
        let err = decode::<Vec<UserData>>(&p).unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid UserData at [1]: field `user_id` fails rule `positive`: user_id must be \
             positive"
        );
        let app = ApplicationError::from(err);
        assert_eq!(app.type_name, VALIDATION_ERROR);
        assert!(app.non_retryable);
        let details: Violation = app.details().unwrap();
        assert_eq!(details.invalid.field, "user_id");
    }

    #[test]
    fn a_bad_field_value_is_reported_with_its_path() {
        let p = json(r#"[{"user_id":1,"ip_address":"10.0.0.300"}]"#);
        let err = decode::<Vec<UserData>>(&p).unwrap_err();
        assert!(matches!(err, ConverterError::Decode { .. }), "{err:?}");
        assert!(err.to_string().contains("at `[0].ip_address`"), "{err}");
    }

    #[test]
    fn a_stale_violation_does_not_label_another_error() {
        let bad = UserData {
            user_id: -1,
            ip_address: Ipv4Addr::LOCALHOST,
        };
        assert!(encode(&bad).is_err());
        // Left in the slot by nobody taking it; the next unrelated
        // failure is reported as what it is.
        let _ = check_ser::<UserData, serde_json::Error>(&bad);
        let err = decode::<u32>(&json(r#""text""#)).unwrap_err();
        assert!(matches!(err, ConverterError::Decode { .. }), "{err:?}");
    }
}
