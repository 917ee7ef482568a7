//! Caught panics: their messages, and a panic hook that keeps a panic in
//! workflow code from printing its report (and backtrace) again each time
//! its workflow task is retried.
//!
//! A workflow task whose code panics fails and is retried with backoff,
//! for as long as the bug is deployed. The first panic at a place with a
//! message is reported by the hook that was installed before weft's (the
//! standard one prints the message and, with `RUST_BACKTRACE`, the
//! backtrace); repeats are only counted, and the task failure's message
//! (logged, and shown by `describe`) says how many times it was seen.
//! Panics anywhere else go to the previous hook untouched.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::panic::PanicHookInfo;
use std::sync::{Mutex, Once, PoisonError};

/// The message of a caught panic.
pub(crate) fn message(panic: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = panic.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = panic.downcast_ref::<String>() {
        s.clone()
    } else {
        "(non-string panic payload)".to_string()
    }
}

/// Why a spawned task ended without a value.
pub(crate) fn join_error(e: tokio::task::JoinError) -> String {
    match e.try_into_panic() {
        Ok(panic) => message(panic.as_ref()),
        Err(e) => e.to_string(),
    }
}

thread_local! {
    /// Set while workflow code runs on this thread.
    static IN_WORKFLOW: Cell<bool> = const { Cell::new(false) };
    /// Where the last panic of workflow code on this thread happened, and
    /// how many times a panic there with that message was seen.
    static LAST: RefCell<Option<(String, u64)>> = const { RefCell::new(None) };
}

/// Panics of workflow code seen, by place and message.
static SEEN: Mutex<Option<HashMap<String, u64>>> = Mutex::new(None);

/// Distinct panics remembered; past this the count starts over.
const MAX_SEEN: usize = 1024;

/// Runs workflow code (which catches its own panics): a panic in it is
/// reported the first time only; [`last_in_workflow`] then says where it
/// happened and how many times.
pub(crate) fn in_workflow_code<R>(f: impl FnOnce() -> R) -> R {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !IN_WORKFLOW.get() || first_time(info) {
                previous(info);
            }
        }));
    });
    LAST.with_borrow_mut(|last| *last = None);
    let was = IN_WORKFLOW.replace(true);
    let result = f();
    IN_WORKFLOW.set(was);
    result
}

/// Where the last panic of workflow code on this thread happened, and how
/// many times it was seen (1 the first time).
pub(crate) fn last_in_workflow() -> Option<(String, u64)> {
    LAST.with_borrow(Clone::clone)
}

/// Counts a panic of workflow code; true the first time it is seen.
fn first_time(info: &PanicHookInfo<'_>) -> bool {
    let place = info
        .location()
        .map(|l| format!("{}:{}:{}", l.file(), l.line(), l.column()))
        .unwrap_or_default();
    let key = format!("{place}: {}", message(info.payload()));
    let mut seen = SEEN.lock().unwrap_or_else(PoisonError::into_inner);
    let seen = seen.get_or_insert_with(HashMap::new);
    if seen.len() >= MAX_SEEN && !seen.contains_key(&key) {
        seen.clear();
    }
    let count = seen.entry(key).or_insert(0);
    *count += 1;
    let count = *count;
    LAST.with_borrow_mut(|last| *last = Some((place, count)));
    count == 1
}

#[cfg(test)]
mod tests {
    use super::*;

    fn panic_in_workflow_code() -> Option<(String, u64)> {
        let caught = in_workflow_code(|| std::panic::catch_unwind(|| panic!("boom in a test")));
        assert!(caught.is_err());
        last_in_workflow()
    }

    #[test]
    fn repeats_of_a_workflow_panic_are_counted() {
        let (place, first) = panic_in_workflow_code().unwrap();
        assert!(place.contains("panic.rs"), "{place}");
        // The same place and message, from a loop: counted, not reported.
        let mut last = first;
        for _ in 0..3 {
            last = panic_in_workflow_code().unwrap().1;
        }
        assert_eq!(last, first + 3);
        // Outside workflow code nothing is recorded.
        let _ = std::panic::catch_unwind(|| panic!("elsewhere"));
        assert_eq!(last_in_workflow().unwrap().1, last);
    }
}
