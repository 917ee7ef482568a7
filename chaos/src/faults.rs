//! A [`Store`] that fails commits when told to: before writing (nothing
//! reaches the file), after writing (the ambiguous case: the batch is
//! durable, yet the engine is told it failed), or with the text SQLite
//! gives for a full disk. Reads pass through.
//!
//! The engine's rule under test: a failed commit stops it, nothing of that
//! batch is acknowledged, and a restart on the same file resumes, without
//! a duplicate event whether or not the batch reached the file.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use weft::backend::BackendError;
use weft::engine::Store;
use weft::engine::store::{InterceptCommits, OnCommit, StoreOp};

/// How a commit fails.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// Fails before writing: nothing of the batch is stored.
    Refuse,
    /// Writes the batch (durably), then reports a failure.
    Ambiguous,
    /// Fails before writing, as SQLite does when the disk is full.
    DiskFull,
}

/// Which commits fail, shared with the test that plans them.
#[derive(Clone, Debug, Default)]
pub struct FaultPlan {
    inner: Arc<Mutex<PlanState>>,
}

#[derive(Debug, Default)]
struct PlanState {
    commits: u64,
    faults: BTreeMap<u64, Fault>,
    injected: Vec<(u64, Fault)>,
}

impl FaultPlan {
    /// A plan with no faults.
    pub fn new() -> Self {
        FaultPlan::default()
    }

    /// Commit number `n` (from 1) fails with `fault`.
    pub fn fail(&self, n: u64, fault: Fault) -> &Self {
        if let Ok(mut state) = self.inner.lock() {
            state.faults.insert(n, fault);
        }
        self
    }

    /// Commits made so far (failed ones included).
    pub fn commits(&self) -> u64 {
        self.inner.lock().map_or(0, |s| s.commits)
    }

    /// The faults injected so far: (commit number, fault).
    pub fn injected(&self) -> Vec<(u64, Fault)> {
        self.inner
            .lock()
            .map(|s| s.injected.clone())
            .unwrap_or_default()
    }

    fn next(&self) -> Option<Fault> {
        let mut state = self.inner.lock().ok()?;
        state.commits += 1;
        let n = state.commits;
        let fault = state.faults.remove(&n)?;
        state.injected.push((n, fault));
        Some(fault)
    }
}

/// A store whose commits fail as `plan` says; reads pass through.
pub type FaultyStore<S> = InterceptCommits<S, FaultPlan>;

impl<S: Store> OnCommit<S> for FaultPlan {
    fn commit(&mut self, store: &mut S, ops: &[StoreOp]) -> Result<(), BackendError> {
        match self.next() {
            None => store.commit(ops),
            Some(Fault::Refuse) => Err(BackendError::Store(
                "committing: injected failure (nothing written)".into(),
            )),
            Some(Fault::DiskFull) => Err(BackendError::Store(
                "committing: database or disk is full (injected)".into(),
            )),
            Some(Fault::Ambiguous) => {
                store.commit(ops)?;
                Err(BackendError::Store(
                    "committing: injected failure after the write was durable".into(),
                ))
            }
        }
    }
}
