//! The pattern examples.
