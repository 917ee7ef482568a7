//! Asking a run to cancel and terminating one.
//!
//! A cancel request is a fact for the workflow (`WorkflowExecutionCancelRequested`,
//! buffered while a workflow task runs, like a signal); the workflow's code
//! decides what it means. Termination closes the run at once without it.

use crate::backend::{BackendError, CancelRequest, RunOutcome, TerminateRequest};
use crate::converter::Payload;
use crate::failure::{Failure, TerminatedError};
use crate::history::{EventAttributes, WorkflowExecution};

use super::engine_task::EngineTask;
use super::open_run::append;
use super::runs::{check_id, check_run_id};
use super::state::{Incoming, RunKey};
use super::tasks::append_buffered;

/// The identity recorded on cancel and terminate events (requests do not
/// carry one yet).
const REQUEST_IDENTITY: &str = "";

impl EngineTask {
    /// The checks both requests share: ids, and a reason no larger than a
    /// payload may be (it goes into history).
    fn check_stop_request(
        &self,
        namespace: &str,
        workflow_id: &str,
        run_id: Option<&str>,
        reason: &str,
    ) -> Result<(), BackendError> {
        check_id("namespace", namespace)?;
        check_id("workflow id", workflow_id)?;
        check_run_id(run_id)?;
        let max = self.options.payload_limits.max_bytes;
        if reason.len() > max {
            return Err(BackendError::InvalidArgument(format!(
                "the reason is {} bytes, over the limit of {max}",
                reason.len()
            )));
        }
        Ok(())
    }

    pub(super) fn request_cancel(&mut self, req: CancelRequest) -> Result<(), BackendError> {
        self.check_stop_request(
            &req.namespace,
            &req.workflow_id,
            req.run_id.as_deref(),
            &req.reason,
        )?;
        let key = self.open_target(
            &req.namespace,
            &req.workflow_id,
            req.run_id.as_deref(),
            "cannot be cancelled",
        )?;
        self.cancel_run(&key, req.reason, REQUEST_IDENTITY, None);
        Ok(())
    }

    /// Asks an open run to cancel (`WorkflowExecutionCancelRequested`); a
    /// second request is acknowledged and writes nothing.
    pub(super) fn cancel_run(
        &mut self,
        key: &RunKey,
        cause: String,
        identity: &str,
        external: Option<WorkflowExecution>,
    ) {
        let now = self.now();
        let Some(run) = self.runs.get_mut(key) else {
            return;
        };
        if run.state.cancel_requested {
            // Asked once already: the workflow knows.
            return;
        }
        run.state.cancel_requested = true;
        let incoming = Incoming::CancelRequested {
            cause,
            identity: identity.to_string(),
            external,
        };
        self.deliver(key, incoming, now);
    }

    pub(super) fn terminate(&mut self, req: TerminateRequest) -> Result<(), BackendError> {
        self.check_stop_request(
            &req.namespace,
            &req.workflow_id,
            req.run_id.as_deref(),
            &req.reason,
        )?;
        self.options
            .payload_limits
            .check("termination details", &req.details)?;
        let key = self.open_target(
            &req.namespace,
            &req.workflow_id,
            req.run_id.as_deref(),
            "cannot be terminated",
        )?;
        self.terminate_run(&key, req.reason, req.details, REQUEST_IDENTITY);
        Ok(())
    }

    /// Closes an open run at once (`WorkflowExecutionTerminated`), its code
    /// not consulted.
    pub(super) fn terminate_run(
        &mut self,
        key: &RunKey,
        reason: String,
        details: Vec<Payload>,
        identity: &str,
    ) {
        let now = self.now();
        self.close_pending_task(key, "the run was terminated", now);
        let Some(run) = self.runs.get_mut(key) else {
            return;
        };
        // Facts that waited for a running workflow task stay in history;
        // that task's completion is refused once the run is closed.
        append_buffered(run, &mut self.batch, now);
        append(
            run,
            &mut self.batch,
            now,
            EventAttributes::WorkflowExecutionTerminated {
                reason: reason.clone(),
                details,
                identity: identity.to_string(),
            },
        );
        let outcome = RunOutcome::Terminated(Failure::Terminated(TerminatedError { reason }));
        self.close_run(key, outcome, now);
    }
}
