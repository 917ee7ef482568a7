//! Reads of a run: its description, history and result, and which run a
//! target names (the latest of a workflow id, a chain's current run, or
//! exactly the run given). Open runs answer from memory; closed runs and
//! histories are read from the store, behind every batch sent so far.

use tokio::sync::oneshot;

use crate::backend::{BackendError, Description, RunOutcome};

use super::engine_task::EngineTask;
use super::requests::{Lookup, StoredRx, Target, Tx, not_found};
use super::state::RunKey;
use super::writer::{ReadReply, Reading, WriterMsg};

pub(super) enum Resolved {
    Open(RunKey),
    Stored(String),
}

impl EngineTask {
    /// Describes exactly the run a run id names (a chain's first run
    /// included: its own status, `ContinuedAsNew`), or the latest run.
    pub(super) fn describe(&mut self, target: Target, tx: Tx<Lookup<Description>>) {
        let result = match self.resolve_run(&target, false) {
            Ok(Resolved::Open(key)) => match self.runs.get(&key) {
                Some(run) => {
                    let mut description = run.state.describe();
                    description.warnings = self.unpolled_warnings(&key);
                    Ok(Lookup::Now(description))
                }
                None => Err(not_found(&target)),
            },
            Ok(Resolved::Stored(run_id)) => self
                .read(&target.namespace, run_id, Reading::Row)
                .map(Lookup::Stored),
            Err(e) => Err(e),
        };
        self.reply(tx, result);
    }

    /// Histories are always read from the store: committed data only. A
    /// run id names exactly that run (the first run of a chain included):
    /// each run has its own history.
    pub(super) fn history(&mut self, target: Target, tx: Tx<StoredRx>) {
        let result = match target.run_id.clone() {
            Some(run_id) => self.read(&target.namespace, run_id, Reading::History),
            None => self.resolve(&target).and_then(|resolved| {
                let run_id = match resolved {
                    Resolved::Open(key) => key.run_id.to_string(),
                    Resolved::Stored(run_id) => run_id,
                };
                self.read(&target.namespace, run_id, Reading::History)
            }),
        };
        // The read is queued behind every batch sent so far, so the reply
        // need not wait for them.
        let _ = tx.send(result);
    }

    pub(super) fn wait_result(&mut self, target: Target, tx: Tx<Lookup<RunOutcome>>) {
        match self.resolve(&target) {
            Ok(Resolved::Open(key)) => match self.runs.get_mut(&key) {
                Some(run) => run.waiters.push(tx),
                None => self.reply(tx, Err(not_found(&target))),
            },
            Ok(Resolved::Stored(run_id)) => {
                let result = self
                    .read(&target.namespace, run_id, Reading::Row)
                    .map(Lookup::Stored);
                let _ = tx.send(result);
            }
            Err(e) => self.reply(tx, Err(e)),
        }
    }

    pub(super) fn read(
        &mut self,
        namespace: &str,
        run_id: String,
        reading: Reading,
    ) -> Result<StoredRx, BackendError> {
        let (reply, rx): (ReadReply, StoredRx) = oneshot::channel();
        let msg = WriterMsg::Read {
            namespace: namespace.to_string(),
            run_id,
            reading,
            reply,
        };
        self.send_to_writer(msg).map(|()| rx)
    }

    /// The run a run id stands for: the current run of the workflow's
    /// chain when `run_id` is that chain's first run, else `run_id`.
    pub(super) fn chain_run(&self, namespace: &str, workflow_id: &str, run_id: &str) -> String {
        match self
            .latest
            .get(&(namespace.to_string(), workflow_id.to_string()))
        {
            Some(latest) if !latest.first_run_id.is_empty() && latest.first_run_id == run_id => {
                latest.run_id.clone()
            }
            _ => run_id.to_string(),
        }
    }

    /// The run a target names, a chain's first run id standing for the
    /// chain's current run (what signals, cancels, results and queries
    /// address).
    pub(super) fn resolve(&self, target: &Target) -> Result<Resolved, BackendError> {
        self.resolve_run(target, true)
    }

    /// The run a target names; a chain's first run id stands for the
    /// chain's current run when `follow_chain`, else for itself.
    fn resolve_run(&self, target: &Target, follow_chain: bool) -> Result<Resolved, BackendError> {
        let run_id = match &target.run_id {
            Some(id) if follow_chain => self.chain_run(&target.namespace, &target.workflow_id, id),
            Some(id) => id.clone(),
            None => match self
                .latest
                .get(&(target.namespace.clone(), target.workflow_id.clone()))
            {
                Some(latest) => latest.run_id.clone(),
                None => return Err(not_found(target)),
            },
        };
        match self.runs.find(&target.namespace, &run_id) {
            Some(run) if run.state.workflow_id == target.workflow_id => {
                Ok(Resolved::Open(run.key.clone()))
            }
            Some(_) => Err(not_found(target)),
            None => Ok(Resolved::Stored(run_id)),
        }
    }
}
