//! Messages of caught panics.

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
