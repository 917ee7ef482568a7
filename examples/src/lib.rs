//! The pattern examples of the weft book, one module per pattern, in the
//! order of the reference. Each module holds the pattern as a user writes
//! it: its types, activities and workflow, a `worker` fn registering them,
//! and the client call that runs it. The tour (`tour`) runs every pattern
//! and prints what it got; `support` holds what the example binaries share.

pub mod activity_choice;
pub mod approval;
pub mod cancellation;
pub mod child_workflow;
pub mod concurrent_timers;
pub mod continue_as_new;
pub mod crash;
pub mod custom_metrics;
pub mod determinism;
pub mod encryption;
pub mod exceptions;
pub mod local_activity;
pub mod long_running_entity;
pub mod parallel_activity;
pub mod polling_frequent;
pub mod polling_infrequent;
pub mod schedule;
pub mod support;
pub mod tour;
pub mod validated_models;
pub mod visibility;

pub use tour::{Pattern, patterns};
