//! Mutation fuzzing on the stable toolchain: seeds taken from real runs,
//! mutated at random (bytes, or JSON values), fed to a decoder that must
//! answer with an error, never a panic. The number of cases is bounded so
//! CI can run it (`WEFT_FUZZ_ITERS` sets more by hand).
//!
//! The panics are counted by a panic hook, so a panic that the code under
//! test catches itself (the `Replayer` turns one into an error) is still
//! found.

use std::sync::Mutex;

/// A seeded sequence (splitmix64).
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    /// A sequence from `seed`.
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }

    /// The next number.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number below `n` (0 when `n` is 0).
    pub fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next_u64() % n as u64) as usize
        }
    }
}

/// Bytes that mean something to MessagePack (its extension values and
/// weft's type of them, `0x77`, the codes of stored names, included),
/// JSON or a length field.
const INTERESTING: &[u8] = &[
    0x00, 0x01, 0x7f, 0x80, 0xff, 0xc0, 0xc1, 0xc2, 0xc3, 0xcc, 0xcd, 0xce, 0xcf, 0xd0, 0xd9, 0xda,
    0xdb, 0xdc, 0xdd, 0xde, 0xdf, 0x90, 0x9f, 0x80, 0x8f, 0xd4, 0xd5, 0xd6, 0xd8, 0xc7, 0xc9, 0x77,
    b'{', b'}', b'[', b']', b'"', b'\\', b':', b',', b'-', b'e', b'9',
];

/// One to four random byte-level changes to `data`; `other` is spliced from.
pub fn mutate_bytes(rng: &mut Rng, data: &mut Vec<u8>, other: &[u8]) {
    for _ in 0..=rng.below(4) {
        let len = data.len();
        let at = rng.below(len.max(1));
        match rng.below(8) {
            0 if len > 0 => data[at] ^= 1 << rng.below(8),
            1 if len > 0 => data[at] = INTERESTING[rng.below(INTERESTING.len())],
            2 => data.insert(at.min(len), INTERESTING[rng.below(INTERESTING.len())]),
            3 if len > 0 => {
                let end = (at + 1 + rng.below(16)).min(len);
                data.drain(at..end);
            }
            4 => data.truncate(at),
            5 if len > 0 => {
                let end = (at + 1 + rng.below(32)).min(len);
                let piece = data[at..end].to_vec();
                let to = rng.below(len);
                data.splice(to..to, piece);
            }
            6 if !other.is_empty() => {
                let from = rng.below(other.len());
                let end = (from + 1 + rng.below(64)).min(other.len());
                let to = at.min(len);
                data.splice(to..to, other[from..end].iter().copied());
            }
            _ if len > 0 => data[at] = rng.next_u64() as u8,
            _ => data.push(rng.next_u64() as u8),
        }
    }
}

/// A random value a field might be given.
fn random_scalar(rng: &mut Rng) -> serde_json::Value {
    use serde_json::Value;
    match rng.below(9) {
        0 => Value::Null,
        1 => Value::Bool(rng.below(2) == 0),
        2 => Value::from(i64::MAX),
        3 => Value::from(-1),
        4 => Value::from(u64::MAX),
        5 => Value::from(1.5e300),
        6 => Value::from(""),
        7 => Value::from("x".repeat(rng.below(40))),
        _ => Value::from(rng.next_u64() % 1000),
    }
}

/// One random change somewhere in `value`'s tree: a node replaced, a key
/// removed, an array element removed, doubled or moved.
pub fn mutate_json(rng: &mut Rng, value: &mut serde_json::Value) {
    use serde_json::Value;
    // A JSON pointer to a random node, found walking down immutably.
    let mut pointer = String::new();
    let mut at: &Value = value;
    for _ in 0..rng.below(8) {
        let (step, next) = match at {
            Value::Array(items) if !items.is_empty() => {
                let i = rng.below(items.len());
                (i.to_string(), &items[i])
            }
            Value::Object(map) if !map.is_empty() => match map.iter().nth(rng.below(map.len())) {
                Some((k, v)) => (k.replace('~', "~0").replace('/', "~1"), v),
                None => break,
            },
            _ => break,
        };
        pointer.push('/');
        pointer.push_str(&step);
        at = next;
    }
    let Some(node) = value.pointer_mut(&pointer) else {
        return;
    };
    match node {
        Value::Array(items) if !items.is_empty() && rng.below(2) == 0 => {
            let i = rng.below(items.len());
            match rng.below(3) {
                0 => {
                    items.remove(i);
                }
                1 => {
                    let copy = items[i].clone();
                    items.insert(i, copy);
                }
                _ => {
                    let j = rng.below(items.len());
                    items.swap(i, j);
                }
            }
        }
        Value::Object(map) if !map.is_empty() && rng.below(2) == 0 => {
            let i = rng.below(map.len());
            if let Some(key) = map.keys().nth(i).cloned() {
                map.remove(&key);
            }
        }
        other => *other = random_scalar(rng),
    }
}

/// Panic messages seen since the hook was installed.
static PANICS: Mutex<Vec<String>> = Mutex::new(Vec::new());

/// Installs a hook that records every panic (and still prints it).
pub fn record_panics() {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if let Ok(mut panics) = PANICS.lock() {
            panics.push(info.to_string());
        }
        previous(info);
    }));
}

/// The panics recorded so far.
pub fn panics() -> Vec<String> {
    PANICS.lock().map(|p| p.clone()).unwrap_or_default()
}

/// Cases per target: `WEFT_FUZZ_ITERS`, else `default`.
pub fn iterations(default: usize) -> usize {
    std::env::var("WEFT_FUZZ_ITERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mutations_change_their_input() {
        let mut rng = Rng::new(7);
        let seed = b"{\"a\":[1,2,3]}".to_vec();
        let changed = (0..100)
            .filter(|_| {
                let mut data = seed.clone();
                mutate_bytes(&mut rng, &mut data, b"xyz");
                data != seed
            })
            .count();
        assert!(changed > 80, "{changed} of 100 changed");
        let value: serde_json::Value = serde_json::from_slice(&seed).unwrap();
        let changed = (0..100)
            .filter(|_| {
                let mut v = value.clone();
                mutate_json(&mut rng, &mut v);
                v != value
            })
            .count();
        assert!(changed > 50, "{changed} of 100 changed");
    }
}
