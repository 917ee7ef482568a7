//! Child workflows, on the engine's side.
//!
//! A parent's `StartChildWorkflowExecutionInitiated` starts the child in
//! the same batch (the id reuse policy decides; an open run with the id
//! refuses it), and the parent gets `ChildWorkflowExecutionStarted` or
//! `StartChildWorkflowExecutionFailed` right after its task's events, so
//! the start and its record commit together. The child names its parent
//! (on its `WorkflowExecutionStarted` and in its state); when its chain's
//! last run closes, the parent gets the child's closing event. When the
//! parent closes, each child still open gets the parent's close policy:
//! terminated, asked to cancel, or left alone.

use std::collections::BTreeMap;
use std::time::SystemTime;

use crate::backend::{IdConflictPolicy, RunOutcome, StartWorkflowRequest};
use crate::failure::RetryState;
use crate::history::{EventAttributes, ExternalFailureCause, ParentExecution, WorkflowExecution};
use crate::protocol::{ParentClosePolicy, StartChild};

use super::engine_task::EngineTask;
use super::signals::ENGINE_IDENTITY;
use super::state::{
    ChildFact, ChildOutcome, ExternalFact, Incoming, PendingChild, RunKey, RunState,
};

/// The reason a child terminated by its parent's close policy records.
const CLOSED_BY_PARENT: &str = "by parent close policy";

impl EngineTask {
    /// The parent `parent` recorded `StartChildWorkflowExecutionInitiated`
    /// as event `initiated`: the child starts now, in the same batch.
    pub(super) fn start_child(
        &mut self,
        parent: &RunKey,
        initiated: i64,
        child: StartChild,
        task_queue: String,
        now: SystemTime,
    ) {
        let Some(run) = self.runs.get(parent) else {
            return;
        };
        let link = ParentExecution {
            workflow_id: run.state.workflow_id.clone(),
            run_id: run.state.run_id.clone(),
            initiated_event_id: initiated,
        };
        let request = StartWorkflowRequest {
            namespace: parent.namespace.to_string(),
            workflow_id: child.workflow_id.clone(),
            workflow_type: child.workflow_type.clone(),
            task_queue,
            input: child.input.clone(),
            // Unique per initiation, so a start the engine saw once is
            // never made twice.
            request_id: format!("{}-child-{initiated}", parent.run_id),
            id_reuse_policy: child.id_reuse_policy,
            id_conflict_policy: IdConflictPolicy::Fail,
            run_options: child.run_options.clone(),
        };
        let fact = match self.start_run(request, Some(link)) {
            Ok(started) => {
                self.track_child(parent, initiated, &child, &started.run_id);
                ChildFact::Started {
                    initiated_event_id: initiated,
                    workflow_id: child.workflow_id,
                    run_id: started.run_id,
                    workflow_type: child.workflow_type,
                }
            }
            Err(refused) => {
                tracing::warn!(
                    parent = %parent.run_id,
                    child = %child.workflow_id,
                    error = %refused,
                    "child workflow not started"
                );
                ChildFact::StartFailed {
                    initiated_event_id: initiated,
                    workflow_id: child.workflow_id,
                    workflow_type: child.workflow_type,
                }
            }
        };
        self.deliver(parent, Incoming::Child(fact), now);
    }

    /// Remembers a started child on its parent, for its close policy and
    /// for the parent's cancel requests.
    fn track_child(&mut self, parent: &RunKey, initiated: i64, child: &StartChild, run_id: &str) {
        let Some(run) = self.runs.get_mut(parent) else {
            return;
        };
        // The started event comes right after the task's events: its id
        // is the next one.
        let started_event_id = run.state.next_event_id;
        run.state.children.insert(
            initiated,
            PendingChild {
                seq: child.seq,
                workflow_id: child.workflow_id.clone(),
                workflow_type: child.workflow_type.clone(),
                run_id: run_id.to_string(),
                started_event_id,
                parent_close_policy: child.parent_close_policy,
            },
        );
    }

    /// The parent asked (event `initiated`) to cancel its child `seq`.
    pub(super) fn cancel_child(
        &mut self,
        parent: &RunKey,
        initiated: i64,
        seq: u32,
        now: SystemTime,
    ) {
        let Some(run) = self.runs.get(parent) else {
            return;
        };
        let requester = WorkflowExecution {
            workflow_id: run.state.workflow_id.clone(),
            run_id: run.state.run_id.clone(),
        };
        let Some(child) = run.state.children.values().find(|c| c.seq == seq).cloned() else {
            return;
        };
        let target = self.open_target(&parent.namespace, &child.workflow_id, None, "");
        let reached = match target {
            Ok(key) => {
                self.cancel_run(&key, String::new(), ENGINE_IDENTITY, Some(requester));
                Some(key.run_id.to_string())
            }
            Err(_) => None,
        };
        let fact = ExternalFact {
            initiated_event_id: initiated,
            workflow_id: child.workflow_id,
            run_id: reached,
            signal: false,
        };
        self.deliver(parent, Incoming::External(fact), now);
    }

    /// A run closed: if it is a child, its parent (if open) gets the
    /// child's closing event.
    pub(super) fn child_closed(
        &mut self,
        key: &RunKey,
        state: &RunState,
        outcome: &RunOutcome,
        now: SystemTime,
    ) {
        let (Some(link), Some(outcome)) = (&state.parent, ChildOutcome::of(outcome)) else {
            return;
        };
        let Some(parent) = self.open_key(&key.namespace, &link.run_id) else {
            return;
        };
        let Some(pending) = self
            .runs
            .get_mut(&parent)
            .and_then(|p| p.state.children.remove(&link.initiated_event_id))
        else {
            return;
        };
        self.batch.dirty.insert(parent.clone());
        let fact = ChildFact::Closed {
            initiated_event_id: link.initiated_event_id,
            started_event_id: pending.started_event_id,
            workflow_id: state.workflow_id.clone(),
            run_id: pending.run_id,
            workflow_type: state.workflow_type.clone(),
            outcome,
        };
        self.deliver(&parent, Incoming::Child(fact), now);
    }

    /// A parent closed: each child still open gets its close policy.
    pub(super) fn apply_parent_close_policies(
        &mut self,
        parent: &RunKey,
        parent_workflow_id: &str,
        children: BTreeMap<i64, PendingChild>,
    ) {
        for child in children.into_values() {
            let Ok(key) = self.open_target(&parent.namespace, &child.workflow_id, None, "") else {
                continue;
            };
            match child.parent_close_policy {
                ParentClosePolicy::Terminate => {
                    self.terminate_run(&key, CLOSED_BY_PARENT.into(), Vec::new(), ENGINE_IDENTITY)
                }
                ParentClosePolicy::RequestCancel => self.cancel_run(
                    &key,
                    CLOSED_BY_PARENT.into(),
                    ENGINE_IDENTITY,
                    Some(WorkflowExecution {
                        workflow_id: parent_workflow_id.to_string(),
                        run_id: parent.run_id.to_string(),
                    }),
                ),
                ParentClosePolicy::Abandon => {}
            }
        }
    }
}

/// The event a fact about a child becomes in its parent's history.
pub(super) fn child_event(fact: ChildFact) -> EventAttributes {
    match fact {
        ChildFact::Started {
            initiated_event_id,
            workflow_id,
            run_id,
            workflow_type,
        } => EventAttributes::ChildWorkflowExecutionStarted {
            workflow_id,
            run_id,
            workflow_type,
            initiated_event_id,
        },
        ChildFact::StartFailed {
            initiated_event_id,
            workflow_id,
            workflow_type,
        } => EventAttributes::StartChildWorkflowExecutionFailed {
            workflow_id,
            workflow_type,
            cause: ExternalFailureCause::WorkflowAlreadyExists,
            initiated_event_id,
        },
        ChildFact::Closed {
            initiated_event_id,
            started_event_id,
            workflow_id,
            run_id,
            workflow_type,
            outcome,
        } => closed_event(
            initiated_event_id,
            started_event_id,
            workflow_id,
            run_id,
            workflow_type,
            outcome,
        ),
    }
}

fn closed_event(
    initiated_event_id: i64,
    started_event_id: i64,
    workflow_id: String,
    run_id: String,
    workflow_type: String,
    outcome: ChildOutcome,
) -> EventAttributes {
    match outcome {
        ChildOutcome::Completed(result) => EventAttributes::ChildWorkflowExecutionCompleted {
            workflow_id,
            run_id,
            workflow_type,
            result,
            initiated_event_id,
            started_event_id,
        },
        ChildOutcome::Canceled(details) => EventAttributes::ChildWorkflowExecutionCanceled {
            workflow_id,
            run_id,
            workflow_type,
            details,
            initiated_event_id,
            started_event_id,
        },
        ChildOutcome::Terminated => EventAttributes::ChildWorkflowExecutionTerminated {
            workflow_id,
            run_id,
            workflow_type,
            initiated_event_id,
            started_event_id,
        },
        ChildOutcome::TimedOut => EventAttributes::ChildWorkflowExecutionTimedOut {
            workflow_id,
            run_id,
            workflow_type,
            retry_state: RetryState::Timeout,
            initiated_event_id,
            started_event_id,
        },
        ChildOutcome::Failed(failure) => EventAttributes::ChildWorkflowExecutionFailed {
            workflow_id,
            run_id,
            workflow_type,
            failure,
            retry_state: RetryState::RetryPolicyNotSet,
            initiated_event_id,
            started_event_id,
        },
    }
}
