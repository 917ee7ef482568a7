//! Asking a run to cancel and terminating one.
//!
//! A cancel request is a fact for the workflow (`WorkflowExecutionCancelRequested`,
//! buffered while a workflow task runs, like a signal); the workflow's code
//! decides what it means. Termination closes the run at once without it.

use crate::backend::{BackendError, CancelRequest, RunOutcome, TerminateRequest};
use crate::failure::{Failure, TerminatedError};
use crate::history::EventAttributes;

use super::engine_task::EngineTask;
use super::open_run::append;
use super::runs::{check_id, check_run_id};
use super::state::Incoming;
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
        let now = self.now();
        let Some(run) = self.runs.get_mut(&key) else {
            return Err(BackendError::Store(format!(
                "run {} vanished while being cancelled",
                key.run_id
            )));
        };
        if run.state.cancel_requested {
            // Asked once already: the workflow knows.
            return Ok(());
        }
        run.state.cancel_requested = true;
        self.deliver(
            &key,
            Incoming::CancelRequested {
                cause: req.reason,
                identity: REQUEST_IDENTITY.to_string(),
            },
            now,
        );
        Ok(())
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
        let now = self.now();
        let Some(run) = self.runs.get_mut(&key) else {
            return Err(BackendError::Store(format!(
                "run {} vanished while being terminated",
                key.run_id
            )));
        };
        // Facts that waited for a running workflow task stay in history;
        // that task's completion is refused once the run is closed. (Its
        // task events are written only at completion, so none are written:
        // Temporal records a force-closed `WorkflowTaskFailed` here.)
        append_buffered(run, &mut self.batch, now);
        append(
            run,
            &mut self.batch,
            now,
            EventAttributes::WorkflowExecutionTerminated {
                reason: req.reason.clone(),
                details: req.details,
                identity: REQUEST_IDENTITY.to_string(),
            },
        );
        let outcome =
            RunOutcome::Terminated(Failure::Terminated(TerminatedError { reason: req.reason }));
        self.close_run(&key, outcome, now);
        Ok(())
    }
}
