//! Deterministic randomness for workflow code: xoshiro256** seeded (through
//! splitmix64) from the run's `randomness_seed`, which history records, so a
//! replay draws the same numbers in the same order.
//!
//! Not a cryptographic generator: never use it for secrets, tokens or keys
//! (make those in an activity).

use std::ops::Range;

use super::run_core::SharedCore;

/// The run's deterministic random generator, from
/// [`WorkflowContext::random`](super::WorkflowContext::random).
///
/// Every handle of a run draws from one stream, so values depend only on the
/// seed in history and on the order of calls, which replay repeats. Not a
/// cryptographic generator.
pub struct WorkflowRandom {
    core: SharedCore,
}

impl WorkflowRandom {
    pub(crate) fn new(core: SharedCore) -> Self {
        WorkflowRandom { core }
    }

    /// A uniformly random `u64`.
    pub fn u64(&self) -> u64 {
        self.core.borrow_mut().rng.next_u64()
    }

    /// A uniformly random `u32`.
    pub fn u32(&self) -> u32 {
        (self.u64() >> 32) as u32
    }

    /// A uniformly random `f64` in `[0, 1)`.
    pub fn f64(&self) -> f64 {
        self.core.borrow_mut().rng.f64()
    }

    /// A uniformly random `bool`.
    pub fn bool(&self) -> bool {
        self.u64() >> 63 == 1
    }

    /// A uniformly random number in `range` (`range.start` if it is empty).
    pub fn range(&self, range: Range<u64>) -> u64 {
        self.core.borrow_mut().rng.range(range)
    }

    /// Fills `bytes` with random bytes.
    pub fn fill(&self, bytes: &mut [u8]) {
        let mut core = self.core.borrow_mut();
        for chunk in bytes.chunks_mut(8) {
            let word = core.rng.next_u64().to_le_bytes();
            chunk.copy_from_slice(&word[..chunk.len()]);
        }
    }

    /// Shuffles `items` (Fisher-Yates).
    pub fn shuffle<T>(&self, items: &mut [T]) {
        let mut core = self.core.borrow_mut();
        for i in (1..items.len()).rev() {
            let j = core.rng.range(0..(i as u64 + 1)) as usize;
            items.swap(i, j);
        }
    }
}
