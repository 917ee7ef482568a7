//! Procedural macros for weft. Use them through the `weft` crate.
