//! Workflow code reaching another workflow: a signal
//! (`SignalExternalWorkflowExecutionInitiated`) or a cancel request
//! (`RequestCancelExternalWorkflowExecutionInitiated`) is carried out in the
//! same batch as the task that asked, and the sender gets how it ended
//! (`ExternalWorkflowExecutionSignaled` / `...CancelRequested`, or the
//! matching `...Failed` when no open run of that id exists, or when a
//! target that must be the sender's child is not).

use std::time::SystemTime;

use crate::converter::Payload;
use crate::history::{EventAttributes, ExternalFailureCause, WorkflowExecution};
use crate::protocol::ExternalTarget;

use super::engine_task::EngineTask;
use super::signals::ENGINE_IDENTITY;
use super::state::{ExternalFact, Incoming, RunKey};

impl EngineTask {
    /// `sender` signals `target` (its event `initiated`).
    pub(super) fn signal_external(
        &mut self,
        sender: &RunKey,
        initiated: i64,
        target: ExternalTarget,
        signal_name: String,
        input: Vec<Payload>,
        now: SystemTime,
    ) {
        let Some(from) = self.execution(sender) else {
            return;
        };
        let reached = self.external_target(sender, &from, &target);
        let run_id = reached.and_then(|key| {
            // Unique per initiation: a retried batch never signals twice.
            let request_id = format!("{}-signal-{initiated}", sender.run_id);
            self.signal_open_run(&key, signal_name, input, &request_id, Some(from))
                .ok()
                .map(|_| key.run_id.to_string())
        });
        let fact = ExternalFact {
            initiated_event_id: initiated,
            workflow_id: target.workflow_id,
            run_id,
            signal: true,
        };
        self.deliver(sender, Incoming::External(fact), now);
    }

    /// `sender` asks `target` to cancel (its event `initiated`).
    pub(super) fn cancel_external(
        &mut self,
        sender: &RunKey,
        initiated: i64,
        target: ExternalTarget,
        now: SystemTime,
    ) {
        let Some(from) = self.execution(sender) else {
            return;
        };
        let run_id = self.external_target(sender, &from, &target).map(|key| {
            self.cancel_run(&key, String::new(), ENGINE_IDENTITY, Some(from));
            key.run_id.to_string()
        });
        let fact = ExternalFact {
            initiated_event_id: initiated,
            workflow_id: target.workflow_id,
            run_id,
            signal: false,
        };
        self.deliver(sender, Incoming::External(fact), now);
    }

    /// The open run's workflow id and run id, as events name it.
    fn execution(&self, key: &RunKey) -> Option<WorkflowExecution> {
        self.runs.get(key).map(|run| WorkflowExecution {
            workflow_id: run.state.workflow_id.clone(),
            run_id: run.state.run_id.clone(),
        })
    }

    /// The open run a target names; a target that must be the sender's
    /// child is one only if its parent is the sender.
    fn external_target(
        &self,
        sender: &RunKey,
        from: &WorkflowExecution,
        target: &ExternalTarget,
    ) -> Option<RunKey> {
        let key = self
            .open_target(
                &sender.namespace,
                &target.workflow_id,
                target.run_id.as_deref(),
                "",
            )
            .ok()?;
        if target.child_workflow_only {
            let parent = self.runs.get(&key)?.state.parent.as_ref()?;
            if parent.workflow_id != from.workflow_id {
                return None;
            }
        }
        Some(key)
    }
}

/// The event a signal's or cancel request's outcome becomes in the
/// sender's history.
pub(super) fn external_event(fact: ExternalFact) -> EventAttributes {
    let ExternalFact {
        initiated_event_id,
        workflow_id,
        run_id,
        signal,
    } = fact;
    let cause = ExternalFailureCause::ExternalWorkflowExecutionNotFound;
    match (signal, run_id) {
        (true, Some(run_id)) => EventAttributes::ExternalWorkflowExecutionSignaled {
            workflow_id,
            run_id,
            initiated_event_id,
        },
        (true, None) => EventAttributes::SignalExternalWorkflowExecutionFailed {
            workflow_id,
            run_id: None,
            cause,
            initiated_event_id,
        },
        (false, Some(run_id)) => EventAttributes::ExternalWorkflowExecutionCancelRequested {
            workflow_id,
            run_id,
            initiated_event_id,
        },
        (false, None) => EventAttributes::RequestCancelExternalWorkflowExecutionFailed {
            workflow_id,
            run_id: None,
            cause,
            initiated_event_id,
        },
    }
}
