//! What the example tests share with the runtime's: an engine on either
//! store, and a way to run one test body on both.

#![allow(dead_code)]

#[path = "../../../runtime/tests/support/stores.rs"]
mod stores;

#[allow(unused_imports)]
pub use stores::{Env, env};
