//! AES-256-GCM payload encryption (feature `encryption`), Temporal's
//! encryption sample as a [`PayloadCodec`].
//!
//! Each payload (its metadata and data, so even its encoding is hidden) is
//! sealed with a random 96-bit nonce under the current key. The result has
//! `encoding = binary/encrypted` and the key's id in `encryption-key-id`;
//! its data is the nonce followed by the ciphertext and GCM tag. The key
//! id is also the associated data, so a payload relabelled with another
//! key's id fails authentication. Older keys stay listed for decryption,
//! so data written before a rotation still reads.

use std::collections::BTreeMap;
use std::fmt;

use aes_gcm::aead::{Aead, Generate, KeyInit, Payload as Sealed};
use aes_gcm::{Aes256Gcm, Nonce};

use super::codec::{CodecError, PayloadCodec};
use super::{ENCODING_KEY, Payload};

/// Encoding of an encrypted payload.
pub const ENCODING_ENCRYPTED: &str = "binary/encrypted";
/// Metadata key naming the key a payload was encrypted with.
pub const KEY_ID_KEY: &str = "encryption-key-id";

const NONCE_BYTES: usize = 12;
const TAG_BYTES: usize = 16;
/// Version of the sealed layout of a payload (metadata and data).
const LAYOUT: u8 = 1;

/// Encrypts payloads with AES-256-GCM; see the module docs.
///
/// ```
/// use weft::converter::encryption::EncryptionCodec;
/// use weft::converter::{DataConverter, PayloadCodec};
///
/// let key = [7u8; 32]; // in production: from a secret store, never in code
/// let codec = EncryptionCodec::new("key-2025-06", &key)?;
/// let sealed = codec.encode(vec![weft::converter::encode(&"secret")?])?;
/// assert_eq!(sealed[0].encoding(), Some("binary/encrypted"));
/// let opened = codec.decode(sealed)?;
/// assert_eq!(weft::converter::decode::<String>(&opened[0])?, "secret");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct EncryptionCodec {
    current: String,
    keys: BTreeMap<String, Aes256Gcm>,
}

impl fmt::Debug for EncryptionCodec {
    /// Names the key ids, never the keys.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EncryptionCodec")
            .field("current", &self.current)
            .field("keys", &self.keys.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl EncryptionCodec {
    /// A codec that encrypts with `key` (32 bytes) under the id `key_id`.
    pub fn new(key_id: impl Into<String>, key: &[u8]) -> Result<Self, CodecError> {
        let current = key_id.into();
        let mut keys = BTreeMap::new();
        keys.insert(current.clone(), cipher(&current, key)?);
        Ok(EncryptionCodec { current, keys })
    }

    /// Adds a key that only decrypts: one used before a rotation, so
    /// payloads it encrypted still read.
    pub fn with_decryption_key(
        mut self,
        key_id: impl Into<String>,
        key: &[u8],
    ) -> Result<Self, CodecError> {
        let key_id = key_id.into();
        let cipher = cipher(&key_id, key)?;
        self.keys.entry(key_id).or_insert(cipher);
        Ok(self)
    }

    /// The id of the key new payloads are encrypted with.
    pub fn current_key_id(&self) -> &str {
        &self.current
    }

    fn seal(&self, payload: &Payload) -> Result<Payload, CodecError> {
        let Some(cipher) = self.keys.get(&self.current) else {
            return Err(CodecError::new("the current key is missing"));
        };
        let nonce = Nonce::try_generate().map_err(|e| {
            CodecError::new(format!("no randomness for a nonce from the system: {e}"))
        })?;
        let plain = layout::write(payload);
        let sealed = cipher
            .encrypt(
                &nonce,
                Sealed {
                    msg: &plain,
                    aad: self.current.as_bytes(),
                },
            )
            .map_err(|_| CodecError::new("AES-GCM refused to encrypt the payload"))?;
        let mut data = Vec::with_capacity(NONCE_BYTES + sealed.len());
        data.extend_from_slice(&nonce);
        data.extend_from_slice(&sealed);
        let mut metadata = BTreeMap::new();
        metadata.insert(
            ENCODING_KEY.to_string(),
            ENCODING_ENCRYPTED.as_bytes().to_vec(),
        );
        metadata.insert(KEY_ID_KEY.to_string(), self.current.as_bytes().to_vec());
        Ok(Payload { metadata, data })
    }

    fn open(&self, payload: Payload) -> Result<Payload, CodecError> {
        if payload.encoding() != Some(ENCODING_ENCRYPTED) {
            return Ok(payload);
        }
        let key_id = payload
            .metadata
            .get(KEY_ID_KEY)
            .map(|v| String::from_utf8_lossy(v).into_owned())
            .ok_or_else(|| {
                CodecError::new(format!(
                    "an encrypted payload has no `{KEY_ID_KEY}` metadata, so no key can open it"
                ))
            })?;
        let cipher = self
            .keys
            .get(&key_id)
            .ok_or_else(|| self.unknown_key(&key_id))?;
        if payload.data.len() < NONCE_BYTES + TAG_BYTES {
            return Err(CodecError::new(format!(
                "an encrypted payload (key {key_id:?}) is {} bytes, shorter than a nonce and a tag",
                payload.data.len()
            )));
        }
        let (nonce, sealed) = payload.data.split_at(NONCE_BYTES);
        let nonce = Nonce::try_from(nonce)
            .map_err(|_| CodecError::new("an encrypted payload's nonce is malformed"))?;
        let plain = cipher
            .decrypt(
                &nonce,
                Sealed {
                    msg: sealed,
                    aad: key_id.as_bytes(),
                },
            )
            .map_err(|_| {
                CodecError::new(format!(
                    "an encrypted payload (key {key_id:?}) failed authentication: it was changed \
                     after encryption, or encrypted with another key under the same id"
                ))
            })?;
        layout::read(&plain)
    }

    fn unknown_key(&self, key_id: &str) -> CodecError {
        let known: Vec<&str> = self.keys.keys().map(String::as_str).collect();
        CodecError::new(format!(
            "an encrypted payload names key {key_id:?}, which this codec does not have (it has: \
             {}); add it with EncryptionCodec::with_decryption_key",
            known.join(", ")
        ))
    }
}

fn cipher(key_id: &str, key: &[u8]) -> Result<Aes256Gcm, CodecError> {
    if key_id.is_empty() {
        return Err(CodecError::new("an encryption key id must not be empty"));
    }
    Aes256Gcm::new_from_slice(key).map_err(|_| {
        CodecError::new(format!(
            "encryption key {key_id:?} is {} bytes; AES-256 needs exactly 32",
            key.len()
        ))
    })
}

impl PayloadCodec for EncryptionCodec {
    fn encode(&self, payloads: Vec<Payload>) -> Result<Vec<Payload>, CodecError> {
        payloads.iter().map(|p| self.seal(p)).collect()
    }

    fn decode(&self, payloads: Vec<Payload>) -> Result<Vec<Payload>, CodecError> {
        payloads.into_iter().map(|p| self.open(p)).collect()
    }
}

/// The bytes sealed for one payload: a version byte, the metadata entry
/// count, each key and value length-prefixed (u32, big-endian), then the
/// data. Independent of how stores serialize payloads.
mod layout {
    use super::{CodecError, LAYOUT, Payload};

    pub(super) fn write(payload: &Payload) -> Vec<u8> {
        let mut out = Vec::with_capacity(payload.encoded_size() + 5 + 8 * payload.metadata.len());
        out.push(LAYOUT);
        put(&mut out, payload.metadata.len());
        for (key, value) in &payload.metadata {
            put(&mut out, key.len());
            out.extend_from_slice(key.as_bytes());
            put(&mut out, value.len());
            out.extend_from_slice(value);
        }
        out.extend_from_slice(&payload.data);
        out
    }

    fn put(out: &mut Vec<u8>, len: usize) {
        // Payloads are far below 4 GiB (the engine refuses over 2 MB).
        out.extend_from_slice(&u32::try_from(len).unwrap_or(u32::MAX).to_be_bytes());
    }

    pub(super) fn read(bytes: &[u8]) -> Result<Payload, CodecError> {
        let malformed = || CodecError::new("a decrypted payload is malformed");
        let (&version, mut rest) = bytes.split_first().ok_or_else(malformed)?;
        if version != LAYOUT {
            return Err(CodecError::new(format!(
                "a decrypted payload has layout version {version}; this weft reads {LAYOUT}"
            )));
        }
        let count = take_len(&mut rest).ok_or_else(malformed)?;
        let mut payload = Payload::default();
        for _ in 0..count {
            let key = take_bytes(&mut rest).ok_or_else(malformed)?;
            let key = String::from_utf8(key.to_vec()).map_err(|_| malformed())?;
            let value = take_bytes(&mut rest).ok_or_else(malformed)?;
            payload.metadata.insert(key, value.to_vec());
        }
        payload.data = rest.to_vec();
        Ok(payload)
    }

    fn take_len(rest: &mut &[u8]) -> Option<usize> {
        let (len, tail) = rest.split_first_chunk::<4>()?;
        *rest = tail;
        usize::try_from(u32::from_be_bytes(*len)).ok()
    }

    fn take_bytes<'a>(rest: &mut &'a [u8]) -> Option<&'a [u8]> {
        let len = take_len(rest)?;
        if rest.len() < len {
            return None;
        }
        let (bytes, tail) = rest.split_at(len);
        *rest = tail;
        Some(bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::converter::{decode, encode};

    const OLD: [u8; 32] = [1; 32];
    const NEW: [u8; 32] = [2; 32];

    fn codec() -> EncryptionCodec {
        EncryptionCodec::new("new", &NEW).unwrap()
    }

    #[test]
    fn round_trip_hides_data_and_encoding() {
        let plain = encode(&"a secret marker").unwrap();
        let sealed = codec().encode(vec![plain.clone()]).unwrap();
        assert_eq!(sealed[0].encoding(), Some(ENCODING_ENCRYPTED));
        assert_eq!(sealed[0].metadata.get(KEY_ID_KEY).unwrap(), b"new");
        let text = String::from_utf8_lossy(&sealed[0].data);
        assert!(!text.contains("secret") && !text.contains("json"), "{text}");
        assert_eq!(codec().decode(sealed).unwrap(), vec![plain]);
    }

    #[test]
    fn each_payload_gets_its_own_nonce() {
        let plain = encode(&"same").unwrap();
        let sealed = codec().encode(vec![plain.clone(), plain]).unwrap();
        assert_ne!(sealed[0].data, sealed[1].data);
        assert_ne!(sealed[0].data[..NONCE_BYTES], sealed[1].data[..NONCE_BYTES]);
    }

    #[test]
    fn old_key_still_decrypts_after_rotation() {
        let before = EncryptionCodec::new("old", &OLD).unwrap();
        let sealed = before.encode(vec![encode(&42u32).unwrap()]).unwrap();
        let after = codec().with_decryption_key("old", &OLD).unwrap();
        let opened = after.decode(sealed).unwrap();
        assert_eq!(decode::<u32>(&opened[0]).unwrap(), 42);
        let resealed = after.encode(opened).unwrap();
        assert_eq!(resealed[0].metadata.get(KEY_ID_KEY).unwrap(), b"new");
    }

    #[test]
    fn unknown_key_is_a_clear_error() {
        let before = EncryptionCodec::new("old", &OLD).unwrap();
        let sealed = before.encode(vec![encode(&1).unwrap()]).unwrap();
        let err = codec().decode(sealed).unwrap_err();
        assert!(err.message.contains("names key \"old\""), "{err}");
        assert!(err.message.contains("with_decryption_key"), "{err}");
    }

    #[test]
    fn tampering_fails_authentication() {
        let sealed = codec().encode(vec![encode(&"x").unwrap()]).unwrap();
        for at in [0, NONCE_BYTES, sealed[0].data.len() - 1] {
            let mut changed = sealed.clone();
            changed[0].data[at] ^= 1;
            let err = codec().decode(changed).unwrap_err();
            assert!(err.message.contains("failed authentication"), "{err}");
        }
        // The same key under another id: the id is authenticated too.
        let relabelled = EncryptionCodec::new("new", &NEW)
            .unwrap()
            .with_decryption_key("alias", &NEW)
            .unwrap();
        let mut moved = sealed.clone();
        moved[0]
            .metadata
            .insert(KEY_ID_KEY.into(), b"alias".to_vec());
        assert!(relabelled.decode(moved).is_err());
        let mut short = sealed;
        short[0].data.truncate(10);
        assert!(
            codec()
                .decode(short)
                .unwrap_err()
                .message
                .contains("shorter")
        );
    }

    #[test]
    fn plain_payloads_pass_through_decode() {
        let plain = encode(&1).unwrap();
        assert_eq!(codec().decode(vec![plain.clone()]).unwrap(), vec![plain]);
    }

    #[test]
    fn wrong_key_length_is_refused() {
        let err = EncryptionCodec::new("k", &[0; 16]).unwrap_err();
        assert!(err.message.contains("16 bytes"), "{err}");
        assert!(EncryptionCodec::new("", &NEW).is_err());
    }

    #[test]
    fn layout_reads_what_it_writes_and_refuses_garbage() {
        let mut p = encode(&"v").unwrap();
        p.metadata.insert("k".into(), vec![0, 255]);
        assert_eq!(layout::read(&layout::write(&p)).unwrap(), p);
        for bad in [&[][..], &[2][..], &[1, 0, 0, 0, 1, 0, 0, 0, 9][..]] {
            assert!(layout::read(bad).is_err());
        }
    }
}
