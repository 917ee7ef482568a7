//! Ordered or explicitly hashed collections pass the HashMap/HashSet check.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::hash::BuildHasherDefault;

use weft::prelude::*;

/// A hasher with a fixed seed, so iteration order is the same on replay.
#[derive(Default)]
struct Fnv(u64);

impl std::hash::Hasher for Fnv {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0 ^ u64::from(*b)).wrapping_mul(0x100_0000_01b3);
        }
    }
}

type Fixed = BuildHasherDefault<Fnv>;

#[workflow]
#[derive(Default)]
struct Inventory {
    stock: BTreeMap<String, u32>,
    tags: BTreeSet<String>,
    by_id: HashMap<u64, String, Fixed>,
}

#[workflow]
impl Inventory {
    #[run]
    async fn run(ctx: WorkflowContext<Self>, items: Vec<String>) -> WorkflowResult<usize> {
        let mut index: HashMap<String, usize, Fixed> = HashMap::with_hasher(Fixed::default());
        for (i, item) in items.iter().enumerate() {
            index.insert(item.clone(), i);
        }
        let mut by_id = HashMap::with_capacity_and_hasher(4, Fixed::default());
        by_id.insert(1_u64, "one".to_string());
        ctx.state_mut(|s| {
            for item in &items {
                *s.stock.entry(item.clone()).or_default() += 1;
                s.tags.insert(item.to_uppercase());
            }
            s.by_id = by_id;
        });
        Ok(index.len())
    }
}

fn main() {
    use weft::Workflow;
    assert_eq!(Inventory::NAME, "Inventory");
}
