//! Whether a command's arguments are the ones history recorded.
//!
//! History events hold each command's full arguments (an activity's input
//! payloads, a timer's duration), so replay compares them directly: exact,
//! nothing added to history, and histories recorded before the check
//! existed replay unchanged. A digest stored beside the payloads would add
//! nothing but a risk: once payloads are encrypted by a codec, a digest of
//! their plaintext would let anyone who reads history tell equal values
//! apart, or confirm a guessed one.

use crate::converter::{ENCODING_JSON, Payload};

/// Whether `produced` holds the same values as `recorded`: the same
/// payloads byte for byte, or JSON payloads whose values are equal, with
/// an object's keys in any order. A std `HashMap` that one activity returns
/// and the code passes on to another serializes its entries in the order
/// of the copy each run decodes: the same argument, in other bytes. A
/// sequence keeps its order: a list built in a map's order is a different
/// argument when the order differs.
pub(crate) fn same(recorded: &[Payload], produced: &[Payload]) -> bool {
    recorded.len() == produced.len()
        && recorded
            .iter()
            .zip(produced)
            .all(|(r, p)| same_payload(r, p))
}

fn same_payload(recorded: &Payload, produced: &Payload) -> bool {
    if recorded == produced {
        return true;
    }
    if recorded.metadata != produced.metadata || recorded.encoding() != Some(ENCODING_JSON) {
        return false;
    }
    let value = |p: &Payload| serde_json::from_slice::<serde_json::Value>(&p.data);
    matches!((value(recorded), value(produced)), (Ok(r), Ok(p)) if r == p)
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, HashMap};

    use super::*;
    use crate::converter;

    fn encoded<T: serde::Serialize>(value: &T) -> Vec<Payload> {
        vec![converter::encode(value).unwrap()]
    }

    #[test]
    fn a_map_is_the_same_argument_in_any_key_order() {
        let sorted: BTreeMap<String, u32> = (0..32).map(|i| (format!("k{i}"), i)).collect();
        let hashed: HashMap<String, u32> = sorted.clone().into_iter().collect();
        let (recorded, produced) = (encoded(&sorted), encoded(&hashed));
        assert!(same(&recorded, &produced));
        let mut changed = hashed.clone();
        changed.insert("k3".into(), 4);
        assert!(!same(&recorded, &encoded(&changed)));
    }

    #[test]
    fn a_sequence_is_compared_in_order() {
        assert!(same(&encoded(&["a", "b"]), &encoded(&["a", "b"])));
        assert!(!same(&encoded(&["a", "b"]), &encoded(&["b", "a"])));
        assert!(!same(&encoded(&["a"]), &[]));
        assert!(
            !same(&encoded(&1u32), &encoded(&1.0f64)),
            "1 and 1.0 are other bytes"
        );
    }

    fn payload(encoding: &str, data: &[u8]) -> Payload {
        Payload {
            metadata: [(converter::ENCODING_KEY.to_string(), encoding.into())].into(),
            data: data.to_vec(),
        }
    }

    #[test]
    fn other_encodings_are_compared_byte_for_byte() {
        let raw = |data: &[u8]| payload("binary/plain", data);
        assert!(same(
            &[raw(b"{\"a\":1,\"b\":2}")],
            &[raw(b"{\"a\":1,\"b\":2}")]
        ));
        assert!(!same(
            &[raw(b"{\"a\":1,\"b\":2}")],
            &[raw(b"{\"b\":2,\"a\":1}")]
        ));
        let json = |data: &[u8]| payload(ENCODING_JSON, data);
        assert!(same(
            &[json(b"{\"a\":1,\"b\":2}")],
            &[json(b"{\"b\":2,\"a\":1}")]
        ));
        assert!(!same(&[json(b"not json")], &[json(b"not  json")]));
    }
}
