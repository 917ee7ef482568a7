//! weft's chaos suite.
//!
//! - [`kill`]: the kill program's driver. It runs the workload
//!   ([`workload`], driven by [`epoch`]) in a child process, SIGKILLs it
//!   at random moments, and checks ([`verify`]) every workflow, update,
//!   signal, timer and step against the store and a ledger of side effects
//!   kept outside it ([`ledger`]).
//! - [`faults`]: a [`Store`](weft::engine::Store) that fails commits on
//!   command, the ambiguous kind (written, yet reported failed) included.
//! - [`fuzz`]: mutation fuzzing on the stable toolchain (payloads,
//!   history import, store rows), bounded for CI.
//! - [`power`]: power loss, rebuilt from a trace of the real writes and
//!   syncs up to a cut, unsynced writes lost or partly kept.
//!
//! `cargo run --release -p weft-chaos -- kill --kills 1000` runs the kill
//! program by hand; `cargo test -p weft-chaos` runs the short forms.

pub mod check;
pub mod epoch;
pub mod faults;
pub mod fuzz;
pub mod kill;
pub mod ledger;
pub mod power;
pub mod verify;
pub mod workload;
