//! Payload codecs and the data converter that chains them.
//!
//! A [`PayloadCodec`] turns payloads into other payloads and back
//! (encryption, compression), as Temporal's `PayloadCodec` does. A
//! [`DataConverter`] holds the chain a client and its workers share; the
//! backend layer runs it on every payload on its way to the backend and
//! back (`backend::Connection`), so engines and stores only ever hold what
//! the chain produced. This module knows nothing of where payloads go.

use std::fmt;
use std::sync::Arc;

use super::Payload;

/// Turns payloads into other payloads and back: encryption, compression.
///
/// `encode` and `decode` take a list and return a list of the same length,
/// in the same order. `decode` must leave alone a payload it did not
/// produce (one whose `encoding` is not its own), so data written before
/// the codec was added still reads, and so must a chain of codecs.
///
/// Codecs are synchronous: they run on the worker's and the client's
/// runtime threads, so they should be CPU work (AES-GCM on a payload takes
/// microseconds). A key from a key management service belongs in the
/// codec's construction, not in each call.
pub trait PayloadCodec: Send + Sync + 'static {
    /// Encodes payloads on their way to the backend.
    fn encode(&self, payloads: Vec<Payload>) -> Result<Vec<Payload>, CodecError>;

    /// Decodes payloads coming from the backend.
    fn decode(&self, payloads: Vec<Payload>) -> Result<Vec<Payload>, CodecError>;
}

/// A codec could not encode or decode a payload.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("payload codec: {message}")]
pub struct CodecError {
    /// What went wrong, worded for the person who configures the codec.
    pub message: String,
}

impl CodecError {
    /// An error with this message.
    pub fn new(message: impl Into<String>) -> Self {
        CodecError {
            message: message.into(),
        }
    }
}

/// What a client and its workers agree on about payloads besides serde:
/// the codec chain, and whether failure messages are encoded too.
///
/// The default has no codec and costs nothing: a client or worker built
/// without one never copies a payload.
///
/// ```ignore
/// let converter = DataConverter::new()
///     .with_codec(EncryptionCodec::new("key-2025", key)?)
///     .encode_failure_attributes(true);
/// let client = Client::new(engine).with_data_converter(converter);
/// let worker = Worker::new(&client, "queue"); // the same converter
/// ```
#[derive(Clone, Default)]
pub struct DataConverter {
    codecs: Vec<Arc<dyn PayloadCodec>>,
    encode_failure_attributes: bool,
}

impl fmt::Debug for DataConverter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DataConverter")
            .field("codecs", &self.codecs.len())
            .field("encode_failure_attributes", &self.encode_failure_attributes)
            .finish()
    }
}

impl DataConverter {
    /// serde JSON, no codec.
    pub fn new() -> Self {
        DataConverter::default()
    }

    /// Adds a codec at the end of the chain. Encoding runs the codecs in
    /// the order they were added (compress, then encrypt); decoding runs
    /// them in reverse.
    pub fn with_codec(mut self, codec: impl PayloadCodec) -> Self {
        self.codecs.push(Arc::new(codec));
        self
    }

    /// Also encodes failure messages (Temporal's
    /// `encode_common_attributes`): an application error's message moves
    /// into a payload that goes through the codecs, and history keeps
    /// `Encoded failure` in its place. Type names, retryability and the
    /// cause chain's shape stay readable, as the engine needs them.
    pub fn encode_failure_attributes(mut self, on: bool) -> Self {
        self.encode_failure_attributes = on;
        self
    }

    /// Whether failure messages are encoded.
    pub fn encodes_failure_attributes(&self) -> bool {
        self.encode_failure_attributes
    }

    /// Whether this converter changes nothing on the way to the backend
    /// (no codec, failure messages left alone).
    pub fn is_identity(&self) -> bool {
        self.codecs.is_empty() && !self.encode_failure_attributes
    }

    /// Runs the codec chain's `encode` on `payloads`.
    pub fn encode(&self, mut payloads: Vec<Payload>) -> Result<Vec<Payload>, CodecError> {
        for codec in &self.codecs {
            payloads = same_length(payloads.len(), codec.encode(payloads)?)?;
        }
        Ok(payloads)
    }

    /// Runs the codec chain's `decode` on `payloads`, last codec first.
    pub fn decode(&self, mut payloads: Vec<Payload>) -> Result<Vec<Payload>, CodecError> {
        for codec in self.codecs.iter().rev() {
            payloads = same_length(payloads.len(), codec.decode(payloads)?)?;
        }
        Ok(payloads)
    }
}

fn same_length(expected: usize, payloads: Vec<Payload>) -> Result<Vec<Payload>, CodecError> {
    if payloads.len() == expected {
        Ok(payloads)
    } else {
        Err(CodecError::new(format!(
            "a codec returned {} payload(s) for {expected}; codecs must return one payload per \
             payload, in order",
            payloads.len()
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::converter::{ENCODING_KEY, encode};

    /// Appends its tag to the data and records it in metadata.
    struct Tag(&'static str);

    impl PayloadCodec for Tag {
        fn encode(&self, payloads: Vec<Payload>) -> Result<Vec<Payload>, CodecError> {
            Ok(payloads
                .into_iter()
                .map(|mut p| {
                    p.data.extend_from_slice(self.0.as_bytes());
                    p.metadata.insert(self.0.into(), Vec::new());
                    p
                })
                .collect())
        }

        fn decode(&self, payloads: Vec<Payload>) -> Result<Vec<Payload>, CodecError> {
            payloads
                .into_iter()
                .map(|mut p| {
                    if p.metadata.remove(self.0).is_none() {
                        return Ok(p);
                    }
                    let tag = self.0.as_bytes();
                    if !p.data.ends_with(tag) {
                        return Err(CodecError::new(format!("{} is not last", self.0)));
                    }
                    p.data.truncate(p.data.len() - tag.len());
                    Ok(p)
                })
                .collect()
        }
    }

    struct Drops;

    impl PayloadCodec for Drops {
        fn encode(&self, _: Vec<Payload>) -> Result<Vec<Payload>, CodecError> {
            Ok(Vec::new())
        }
        fn decode(&self, _: Vec<Payload>) -> Result<Vec<Payload>, CodecError> {
            Ok(Vec::new())
        }
    }

    #[test]
    fn chain_encodes_in_order_and_decodes_in_reverse() {
        let converter = DataConverter::new()
            .with_codec(Tag("a"))
            .with_codec(Tag("b"));
        let plain = encode(&"x").unwrap();
        let encoded = converter.encode(vec![plain.clone()]).unwrap();
        assert_eq!(encoded[0].data, b"\"x\"ab");
        assert_eq!(converter.decode(encoded).unwrap(), vec![plain.clone()]);
        // A payload no codec produced passes through.
        assert_eq!(converter.decode(vec![plain.clone()]).unwrap(), vec![plain]);
    }

    #[test]
    fn a_codec_that_changes_the_count_is_an_error() {
        let converter = DataConverter::new().with_codec(Drops);
        let err = converter.encode(vec![encode(&1).unwrap()]).unwrap_err();
        assert!(err.message.contains("returned 0 payload(s) for 1"), "{err}");
    }

    #[test]
    fn default_is_identity() {
        assert!(DataConverter::new().is_identity());
        assert!(
            !DataConverter::new()
                .encode_failure_attributes(true)
                .is_identity()
        );
        let p = encode(&1).unwrap();
        assert_eq!(p.metadata.get(ENCODING_KEY).unwrap(), b"json/plain");
    }
}
