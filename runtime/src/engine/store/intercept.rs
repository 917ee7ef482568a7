//! A store whose commits pass through a hook: the way to inject faults
//! into a real store, count or hold back commits in tests, without
//! forwarding every read by hand.

use crate::backend::BackendError;
use crate::visibility::{Filter, WorkflowExecutionInfo};

use super::{ExecutionRow, Loaded, Store, StoreOp};

/// What [`InterceptCommits`] does with each batch: given the wrapped store
/// and the batch, it decides what happens (commit it, refuse it before
/// writing, write it and then report a failure, wait first, ...).
pub trait OnCommit<S>: Send + 'static {
    /// Handles one batch; `Err` is what the engine is told.
    fn commit(&mut self, store: &mut S, ops: &[StoreOp]) -> Result<(), BackendError>;
}

impl<S, F> OnCommit<S> for F
where
    F: FnMut(&mut S, &[StoreOp]) -> Result<(), BackendError> + Send + 'static,
{
    fn commit(&mut self, store: &mut S, ops: &[StoreOp]) -> Result<(), BackendError> {
        self(store, ops)
    }
}

/// `inner` with its commits passed through `hook`; reads and visibility
/// queries go straight to `inner`.
///
/// ```
/// use weft::backend::BackendError;
/// use weft::engine::store::{InterceptCommits, StoreOp};
/// use weft::engine::{MemoryStore, Store};
///
/// // A store whose third commit fails before anything is written.
/// let mut commits = 0;
/// let store = InterceptCommits::new(
///     MemoryStore::new(),
///     move |inner: &mut MemoryStore, ops: &[StoreOp]| {
///         commits += 1;
///         if commits == 3 {
///             return Err(BackendError::Store("injected".into()));
///         }
///         inner.commit(ops)
///     },
/// );
/// # let _ = store;
/// ```
pub struct InterceptCommits<S, H> {
    inner: S,
    hook: H,
}

impl<S: Store, H: OnCommit<S>> InterceptCommits<S, H> {
    /// Wraps `inner`: each commit goes to `hook`.
    pub fn new(inner: S, hook: H) -> Self {
        InterceptCommits { inner, hook }
    }

    /// The hook (to read what it recorded).
    pub fn hook(&self) -> &H {
        &self.hook
    }
}

impl<S: Store, H: OnCommit<S>> Store for InterceptCommits<S, H> {
    fn load(&mut self) -> Result<Loaded, BackendError> {
        self.inner.load()
    }

    fn events(
        &mut self,
        namespace: &str,
        run_id: &str,
        from: i64,
    ) -> Result<Vec<Vec<u8>>, BackendError> {
        self.inner.events(namespace, run_id, from)
    }

    fn activities(
        &mut self,
        namespace: &str,
        run_id: &str,
    ) -> Result<Vec<(i64, Vec<u8>)>, BackendError> {
        self.inner.activities(namespace, run_id)
    }

    fn updates(
        &mut self,
        namespace: &str,
        run_id: &str,
    ) -> Result<Vec<(String, Vec<u8>)>, BackendError> {
        self.inner.updates(namespace, run_id)
    }

    fn execution(
        &mut self,
        namespace: &str,
        run_id: &str,
    ) -> Result<Option<ExecutionRow>, BackendError> {
        self.inner.execution(namespace, run_id)
    }

    fn commit(&mut self, ops: &[StoreOp]) -> Result<(), BackendError> {
        self.hook.commit(&mut self.inner, ops)
    }

    fn visibility(
        &mut self,
        namespace: &str,
        filter: Option<&Filter>,
    ) -> Result<Vec<WorkflowExecutionInfo>, BackendError> {
        self.inner.visibility(namespace, filter)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::MemoryStore;

    #[test]
    fn commits_go_through_the_hook_and_reads_do_not() {
        let mut store =
            InterceptCommits::new(MemoryStore::new(), |_: &mut MemoryStore, _: &[StoreOp]| {
                Err(BackendError::Store("refused".into()))
            });
        assert!(store.commit(&[]).is_err());
        assert!(store.load().is_ok());
        assert!(store.visibility("default", None).is_ok());
    }
}
