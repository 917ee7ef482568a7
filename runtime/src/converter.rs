//! Payloads and the data converter.
//!
//! Owns Temporal's payload model: a [`Payload`] is bytes plus metadata, whose
//! `encoding` entry says how to read them (`json/plain`, `binary/null`). Values
//! become payloads through serde JSON, checked against the rules their type
//! declares ([`Validate`]); a [`DataConverter`] adds [`PayloadCodec`]s
//! (encryption, compression) between payloads and the backend. This module
//! knows nothing of workflows, history or stores.

use std::collections::BTreeMap;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

pub mod codec;
#[cfg(feature = "encryption")]
pub mod encryption;
mod explain;
mod finite;
mod validate;

pub use codec::{CodecError, DataConverter, PayloadCodec};
pub use validate::{Invalid, Validate, Violation};
#[doc(hidden)]
pub use validate::{check_de, check_ser};

/// The metadata key that names a payload's encoding.
pub const ENCODING_KEY: &str = "encoding";
/// Encoding of a JSON payload.
pub const ENCODING_JSON: &str = "json/plain";
/// Encoding of an empty value (`()`, `None`).
pub const ENCODING_NULL: &str = "binary/null";

/// A value on its way in or out of a workflow: bytes plus metadata.
#[derive(Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Payload {
    /// Metadata such as `encoding`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty", with = "b64_map")]
    pub metadata: BTreeMap<String, Vec<u8>>,
    /// The encoded value.
    #[serde(default, with = "b64")]
    pub data: Vec<u8>,
}

impl std::fmt::Debug for Payload {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let encoding = self.encoding().unwrap_or("?");
        match std::str::from_utf8(&self.data) {
            Ok(text) if encoding == ENCODING_JSON => write!(f, "Payload({encoding} {text})"),
            _ => write!(f, "Payload({encoding}, {} bytes)", self.data.len()),
        }
    }
}

impl Payload {
    /// The payload's `encoding` metadata, if it is valid UTF-8.
    pub fn encoding(&self) -> Option<&str> {
        self.metadata
            .get(ENCODING_KEY)
            .and_then(|v| std::str::from_utf8(v).ok())
    }

    /// Size of the payload as stored: data plus metadata keys and values.
    pub fn encoded_size(&self) -> usize {
        self.data.len()
            + self
                .metadata
                .iter()
                .map(|(k, v)| k.len() + v.len())
                .sum::<usize>()
    }

    fn with_encoding(encoding: &str, data: Vec<u8>) -> Self {
        let mut metadata = BTreeMap::new();
        metadata.insert(ENCODING_KEY.to_string(), encoding.as_bytes().to_vec());
        Payload { metadata, data }
    }
}

/// A value could not be turned into a payload or back.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConverterError {
    /// Serializing a value failed.
    #[error("cannot encode {type_name} as a payload: {message}")]
    Encode {
        /// The Rust type being encoded.
        type_name: &'static str,
        /// What serde said.
        message: String,
    },
    /// A payload did not decode into the expected type.
    #[error("cannot decode a {encoding} payload as {type_name}: {message}")]
    Decode {
        /// The Rust type expected.
        type_name: &'static str,
        /// The payload's encoding.
        encoding: String,
        /// What serde said.
        message: String,
    },
    /// The payload's encoding is not one this converter reads.
    #[error("unknown payload encoding {0:?}; expected json/plain or binary/null")]
    UnknownEncoding(String),
    /// The value breaks a rule its type declares ([`Validate`]): refused
    /// before it was encoded, or after it was decoded.
    #[error("invalid {0}")]
    Invalid(Box<Violation>),
    /// The number of payloads differs from the number of arguments.
    #[error("expected {expected} payload(s), got {got}")]
    Arity {
        /// Number of arguments of the callee.
        expected: usize,
        /// Number of payloads received.
        got: usize,
    },
}

/// Encodes a value as a payload: `binary/null` for `()` and `None`, JSON otherwise.
///
/// A float that JSON cannot hold (NaN, an infinity) anywhere in the value
/// is an error naming where it is: serde_json would write it as `null`,
/// and the value would change on its way.
pub fn encode<T: Serialize + ?Sized>(value: &T) -> Result<Payload, ConverterError> {
    let type_name = std::any::type_name::<T>();
    let data = serde_json::to_vec(value).map_err(explain::encode_error::<T>)?;
    // Only a `null` in the output can stand for a non-finite float.
    if data.windows(4).any(|w| w == b"null")
        && let Some(found) = finite::find(value)
    {
        tracing::warn!(type_name, at = %found.path, value = %found.value, "a value holding NaN or an infinity was not encoded");
        return Err(ConverterError::Encode {
            type_name,
            message: found.to_string(),
        });
    }
    if data == b"null" {
        return Ok(Payload::with_encoding(ENCODING_NULL, Vec::new()));
    }
    Ok(Payload::with_encoding(ENCODING_JSON, data))
}

/// Encodes a handler's argument as the payloads it is sent with: none for
/// `()` (a handler without an argument expects zero), else one.
pub fn encode_args<T: Serialize + ?Sized>(input: &T) -> Result<Vec<Payload>, ConverterError> {
    // `type_name` of the unit type is "()"; this only decides between zero
    // and one payload.
    if std::any::type_name::<T>() == "()" {
        return Ok(Vec::new());
    }
    Ok(vec![encode(input)?])
}

/// Decodes a payload produced by [`encode`] (or by another SDK's JSON converter).
pub fn decode<T: DeserializeOwned>(payload: &Payload) -> Result<T, ConverterError> {
    let encoding = payload.encoding().unwrap_or("");
    let data: &[u8] = match encoding {
        ENCODING_JSON => &payload.data,
        ENCODING_NULL => b"null",
        other => return Err(ConverterError::UnknownEncoding(other.to_string())),
    };
    serde_json::from_slice(data).map_err(|e| explain::decode_error::<T>(data, encoding, e))
}

/// Decodes the single payload of a one-value list; an empty list reads as `null`.
pub fn decode_single<T: DeserializeOwned>(payloads: &[Payload]) -> Result<T, ConverterError> {
    match payloads {
        [] => decode(&Payload::with_encoding(ENCODING_NULL, Vec::new())),
        [one] => decode(one),
        more => Err(ConverterError::Arity {
            expected: 1,
            got: more.len(),
        }),
    }
}

/// Size limits applied to encoded payloads at every entry point.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PayloadLimits {
    /// Above this many bytes a warning is logged.
    pub warn_bytes: usize,
    /// Above this many bytes the request is refused.
    pub max_bytes: usize,
}

impl Default for PayloadLimits {
    /// Temporal's server defaults: warn at 256 KB, refuse over 2 MB.
    fn default() -> Self {
        PayloadLimits {
            warn_bytes: 256 * 1024,
            max_bytes: 2 * 1024 * 1024,
        }
    }
}

/// A payload was larger than [`PayloadLimits::max_bytes`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{what} is {size} bytes encoded, over the limit of {limit} bytes")]
pub struct PayloadTooLarge {
    /// Which value was too large ("workflow input", "activity result", ...).
    pub what: String,
    /// Its encoded size.
    pub size: usize,
    /// The limit in force.
    pub limit: usize,
}

impl PayloadLimits {
    /// Checks the total encoded size of `payloads`, warning or refusing as configured.
    pub fn check<'a>(
        &self,
        what: &str,
        payloads: impl IntoIterator<Item = &'a Payload>,
    ) -> Result<(), PayloadTooLarge> {
        let size: usize = payloads.into_iter().map(Payload::encoded_size).sum();
        if size > self.max_bytes {
            return Err(PayloadTooLarge {
                what: what.to_string(),
                size,
                limit: self.max_bytes,
            });
        }
        if size > self.warn_bytes {
            tracing::warn!(what, size, limit = self.max_bytes, "large payload");
        }
        Ok(())
    }
}

/// Payload bytes: base64 text in human-readable formats (exported JSON
/// histories, which other tools read), raw bytes in the engine's binary
/// store encoding.
mod b64 {
    use base64::Engine as _;
    use base64::engine::general_purpose::STANDARD;
    use serde::de::{self, SeqAccess, Visitor};
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub fn serialize<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
        if s.is_human_readable() {
            s.serialize_str(&STANDARD.encode(bytes))
        } else {
            s.serialize_bytes(bytes)
        }
    }

    /// Reads either spelling: base64 text or raw bytes. (The format's
    /// `is_human_readable` does not survive serde's buffering of flattened
    /// and tagged content, so the value itself decides.)
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        d.deserialize_any(BytesVisitor)
    }

    /// Bytes as the binary encoding writes them.
    pub struct Bytes<'a>(pub &'a [u8]);

    impl Serialize for Bytes<'_> {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            serialize(self.0, s)
        }
    }

    /// Bytes as the binary encoding reads them back.
    pub struct ByteBuf(pub Vec<u8>);

    impl<'de> Deserialize<'de> for ByteBuf {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            deserialize(d).map(ByteBuf)
        }
    }

    struct BytesVisitor;

    impl<'de> Visitor<'de> for BytesVisitor {
        type Value = Vec<u8>;

        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("base64 text or bytes")
        }

        fn visit_str<E: de::Error>(self, v: &str) -> Result<Vec<u8>, E> {
            STANDARD.decode(v).map_err(E::custom)
        }

        fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<Vec<u8>, E> {
            Ok(v.to_vec())
        }

        fn visit_byte_buf<E: de::Error>(self, v: Vec<u8>) -> Result<Vec<u8>, E> {
            Ok(v)
        }

        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<u8>, A::Error> {
            let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(4096));
            while let Some(b) = seq.next_element::<u8>()? {
                out.push(b);
            }
            Ok(out)
        }
    }
}

mod b64_map {
    use std::collections::BTreeMap;

    use serde::{Deserialize, Deserializer, Serializer};

    use super::b64::{ByteBuf, Bytes};

    pub fn serialize<S: Serializer>(
        map: &BTreeMap<String, Vec<u8>>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        s.collect_map(map.iter().map(|(k, v)| (k, Bytes(v))))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<BTreeMap<String, Vec<u8>>, D::Error> {
        let map = BTreeMap::<String, ByteBuf>::deserialize(d)?;
        Ok(map.into_iter().map(|(k, v)| (k, v.0)).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unit_and_none_encode_as_binary_null() {
        assert_eq!(encode(&()).unwrap().encoding(), Some(ENCODING_NULL));
        assert_eq!(encode(&None::<u8>).unwrap().encoding(), Some(ENCODING_NULL));
        let back: Option<u8> = decode(&encode(&None::<u8>).unwrap()).unwrap();
        assert_eq!(back, None);
    }

    #[test]
    fn json_round_trip_and_wrong_type_is_an_error() {
        let p = encode(&("apple", 8)).unwrap();
        assert_eq!(p.data, br#"["apple",8]"#);
        let back: (String, u32) = decode(&p).unwrap();
        assert_eq!(back, ("apple".to_string(), 8));
        let err = decode::<u32>(&p).unwrap_err();
        assert!(err.to_string().contains("as u32"), "{err}");
    }

    #[test]
    fn unknown_encoding_is_refused() {
        let p = Payload::with_encoding("binary/encrypted", vec![1, 2]);
        assert_eq!(
            decode::<u32>(&p).unwrap_err(),
            ConverterError::UnknownEncoding("binary/encrypted".into())
        );
    }

    #[test]
    fn limits_refuse_over_max() {
        let limits = PayloadLimits {
            warn_bytes: 24,
            max_bytes: 40,
        };
        let small = encode(&1).unwrap();
        assert!(limits.check("x", [&small]).is_ok());
        let big = encode(&"a string long enough to pass the limit").unwrap();
        let err = limits.check("workflow input", [&big]).unwrap_err();
        assert_eq!(err.limit, 40);
        assert!(err.to_string().starts_with("workflow input is"));
    }

    #[test]
    fn payload_serde_round_trip() {
        let p = encode(&"hi").unwrap();
        let json = serde_json::to_string(&p).unwrap();
        let back: Payload = serde_json::from_str(&json).unwrap();
        assert_eq!(back, p);
    }
}
