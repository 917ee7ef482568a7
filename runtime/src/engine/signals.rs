//! Signals: a signal becomes a `WorkflowExecutionSignaled` event (buffered
//! while a workflow task runs, like activity results), applied once per
//! request id; signal-with-start signals the open run or starts one.
//!
//! Request ids are remembered per continue-as-new chain, the latest
//! `EngineOptions::signal_request_ids_kept` (1,000 by default), the oldest
//! forgotten first. A retry whose request id was forgotten is a new signal:
//! it is recorded and applied again.

use crate::backend::{BackendError, SignalRequest, StartWorkflowResponse};
use crate::converter::Payload;
use crate::history::WorkflowExecution;

use super::engine_task::EngineTask;
use super::requests::SignalWithStart;
use super::runs::{check_id, check_run_id};
use super::state::{Incoming, RunKey};
use super::tasks::append_incoming;

/// The identity recorded on signal events (requests do not carry one yet).
const SIGNAL_IDENTITY: &str = "";

/// The identity on what the engine itself records for one workflow about
/// another (a signal or cancel request from workflow code, a parent close
/// policy), as Temporal's history service does.
pub(super) const ENGINE_IDENTITY: &str = "history-service";

impl EngineTask {
    fn check_signal(&self, signal_name: &str, input: &[Payload]) -> Result<(), BackendError> {
        check_id("signal name", signal_name)?;
        self.options
            .payload_limits
            .check(&format!("input of signal {signal_name:?}"), input)?;
        Ok(())
    }

    /// Signals an open run; `Ok(false)` when the request id was applied to
    /// it already (nothing is written).
    pub(super) fn signal_open_run(
        &mut self,
        key: &RunKey,
        signal_name: String,
        input: Vec<Payload>,
        request_id: &str,
        external: Option<WorkflowExecution>,
    ) -> Result<bool, BackendError> {
        let Some(incoming) = self.admit_signal(key, signal_name, input, request_id, external)?
        else {
            return Ok(false);
        };
        let now = self.now();
        self.deliver(key, incoming, now);
        Ok(true)
    }

    /// A signal for an open run as the fact it delivers, once its request
    /// id is recorded; `None` when the id was applied to the run already.
    fn admit_signal(
        &mut self,
        key: &RunKey,
        signal_name: String,
        input: Vec<Payload>,
        request_id: &str,
        external: Option<WorkflowExecution>,
    ) -> Result<Option<Incoming>, BackendError> {
        let kept = self.options.signal_request_ids_kept;
        let Some(run) = self.runs.get_mut(key) else {
            return Err(BackendError::Store(format!(
                "run {} vanished while being signaled",
                key.run_id
            )));
        };
        if !run.state.signal_request_ids.insert(request_id, kept) {
            return Ok(None);
        }
        self.batch.dirty.insert(key.clone());
        Ok(Some(Incoming::Signaled {
            signal_name,
            input,
            identity: if external.is_some() {
                ENGINE_IDENTITY.to_string()
            } else {
                SIGNAL_IDENTITY.to_string()
            },
            external,
        }))
    }

    /// Signals a run signal-with-start has just opened: the signal is
    /// written right after `WorkflowExecutionStarted`, before the first
    /// workflow task's scheduled event, as Temporal writes it.
    fn signal_new_run(
        &mut self,
        key: &RunKey,
        signal_name: String,
        input: Vec<Payload>,
        request_id: &str,
    ) -> Result<(), BackendError> {
        let Some(incoming) = self.admit_signal(key, signal_name, input, request_id, None)? else {
            return Ok(());
        };
        let now = self.now();
        if let Some(run) = self.runs.get_mut(key) {
            append_incoming(run, &mut self.batch, now, incoming);
        }
        Ok(())
    }

    /// The open run a signal goes to, or `NotFound` saying why there is none.
    pub(super) fn signal_target(
        &self,
        namespace: &str,
        workflow_id: &str,
        run_id: Option<&str>,
    ) -> Result<RunKey, BackendError> {
        self.open_target(namespace, workflow_id, run_id, "takes no more signals")
    }

    /// The open run a request goes to, or `NotFound` saying why there is
    /// none; for a closed run, "run .. is closed and {refusal}".
    pub(super) fn open_target(
        &self,
        namespace: &str,
        workflow_id: &str,
        run_id: Option<&str>,
        refusal: &str,
    ) -> Result<RunKey, BackendError> {
        let not_found = |detail: Option<String>| BackendError::NotFound {
            workflow_id: workflow_id.to_string(),
            run_id: run_id.map(str::to_string),
            detail,
        };
        let latest = self
            .latest
            .get(&(namespace.to_string(), workflow_id.to_string()));
        let run_id = match (run_id, latest) {
            (Some(id), _) => self.chain_run(namespace, workflow_id, id),
            (None, Some(latest)) => latest.run_id.clone(),
            (None, None) => return Err(not_found(None)),
        };
        match self.runs.find(namespace, &run_id) {
            Some(run) if run.state.workflow_id == workflow_id => Ok(run.key.clone()),
            Some(_) => Err(not_found(None)),
            None => {
                // Not open: closed if it is this workflow's latest run (or
                // was one of its runs), else unknown.
                let closed = latest.is_some_and(|l| l.run_id == run_id);
                Err(not_found(
                    closed.then(|| format!("run {run_id} is closed and {refusal}")),
                ))
            }
        }
    }

    pub(super) fn signal(&mut self, req: SignalRequest) -> Result<(), BackendError> {
        check_id("namespace", &req.namespace)?;
        check_id("workflow id", &req.workflow_id)?;
        check_id("request id", &req.request_id)?;
        check_run_id(req.run_id.as_deref())?;
        self.check_signal(&req.signal_name, &req.input)?;
        let key = self.signal_target(&req.namespace, &req.workflow_id, req.run_id.as_deref())?;
        self.signal_open_run(&key, req.signal_name, req.input, &req.request_id, None)?;
        Ok(())
    }

    pub(super) fn signal_with_start(
        &mut self,
        req: SignalWithStart,
    ) -> Result<StartWorkflowResponse, BackendError> {
        let SignalWithStart {
            start,
            signal_name,
            input,
        } = req;
        check_id("namespace", &start.namespace)?;
        check_id("workflow id", &start.workflow_id)?;
        check_id("request id", &start.request_id)?;
        self.check_signal(&signal_name, &input)?;
        let request_id = start.request_id.clone();
        if let Ok(key) = self.signal_target(&start.namespace, &start.workflow_id, None) {
            self.signal_open_run(&key, signal_name, input, &request_id, None)?;
            return Ok(StartWorkflowResponse {
                run_id: key.run_id.to_string(),
                started: false,
            });
        }
        // No open run: start one (the reuse policy decides), then signal it
        // in the same batch, so both events commit together.
        let response = self.start(start.clone())?;
        if response.started {
            let key = RunKey::new(&start.namespace, &response.run_id);
            self.signal_new_run(&key, signal_name, input, &request_id)?;
        }
        Ok(response)
    }
}
