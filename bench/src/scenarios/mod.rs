//! One module per scenario; each `run` returns a [`crate::Report`].

pub mod fanout;
pub mod hello;
pub mod replay;
pub mod sequential;
pub mod timers;
pub mod updates;
