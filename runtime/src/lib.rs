//! weft: durable workflows for Rust.
//!
//! Annotate plain Rust with `#[workflow]` and `#[activity]`; weft runs each
//! workflow deterministically against an event history, so a crash at any
//! point loses nothing and the workflow resumes where it stopped.

pub mod activity;
pub mod backend;
pub mod client;
pub mod converter;
pub mod engine;
pub mod failure;
pub mod history;
pub mod protocol;
pub mod retry;
pub mod worker;
pub mod workflow;

mod translate;
