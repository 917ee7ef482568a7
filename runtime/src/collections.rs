//! Hash collections with a fixed hasher, for workflow code.
//!
//! `std::collections::HashMap` seeds its hasher randomly per map, so two
//! runs of the same code (the original and its replay) iterate in different
//! orders, and commands issued in iteration order stop matching history.
//! These aliases use `DefaultHasher` with its fixed keys: the same
//! operations give the same iteration order in every run of the same build.
//!
//! The hash algorithm is not guaranteed across Rust releases, so a toolchain
//! upgrade may change the order. Where iteration order drives commands, a
//! `BTreeMap`/`BTreeSet` (ordered by key) is the sturdier choice.
//!
//! ```
//! let mut m: weft::collections::HashMap<&str, u32> = weft::collections::hash_map();
//! m.insert("a", 1);
//! assert_eq!(m.get("a"), Some(&1));
//! ```

use std::collections::hash_map::DefaultHasher;
use std::hash::BuildHasherDefault;

/// The fixed-keys hasher builder.
pub type FixedState = BuildHasherDefault<DefaultHasher>;

/// A `HashMap` with a fixed hasher.
pub type HashMap<K, V> = std::collections::HashMap<K, V, FixedState>;

/// A `HashSet` with a fixed hasher.
pub type HashSet<T> = std::collections::HashSet<T, FixedState>;

/// An empty [`HashMap`].
pub fn hash_map<K, V>() -> HashMap<K, V> {
    HashMap::default()
}

/// An empty [`HashMap`] with room for `capacity` entries.
pub fn hash_map_with_capacity<K, V>(capacity: usize) -> HashMap<K, V> {
    HashMap::with_capacity_and_hasher(capacity, FixedState::default())
}

/// An empty [`HashSet`].
pub fn hash_set<T>() -> HashSet<T> {
    HashSet::default()
}

/// An empty [`HashSet`] with room for `capacity` entries.
pub fn hash_set_with_capacity<T>(capacity: usize) -> HashSet<T> {
    HashSet::with_capacity_and_hasher(capacity, FixedState::default())
}

#[cfg(test)]
mod tests {
    #[test]
    fn iteration_order_is_the_same_for_the_same_operations() {
        let build = || {
            let mut m = super::hash_map();
            for i in 0..64u32 {
                m.insert(format!("key-{i}"), i);
            }
            m.into_iter().collect::<Vec<_>>()
        };
        assert_eq!(build(), build());
    }
}
