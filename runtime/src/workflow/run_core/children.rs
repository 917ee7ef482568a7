//! The per-run core's children: what it keeps of each started child, and
//! what the workflow's cancellation does to one whose result is awaited.

use super::{RunCore, SeqKind, Slot};
use crate::failure::{CanceledError, ChildWorkflowError, Failure, RetryState};
use crate::protocol::{ChildCancellationType, Command, Resolution};

/// What the core keeps about a child until it closes.
pub(crate) struct ChildMeta {
    pub cancellation_type: ChildCancellationType,
    pub workflow_id: String,
    pub workflow_type: String,
    /// Its first run, once started.
    pub run_id: String,
    /// `CancelChildWorkflow` was sent.
    pub cancel_sent: bool,
}

impl RunCore {
    /// Records a child whose start command is out.
    pub fn track_child(&mut self, seq: u32, meta: ChildMeta) {
        self.children.insert(seq, meta);
    }

    /// The child started: its result slot waits from now on, so the result
    /// lands even before (or without) anyone awaiting it.
    pub fn child_started(&mut self, seq: u32, run_id: &str) {
        if let Some(meta) = self.children.get_mut(&seq) {
            meta.run_id = run_id.to_string();
        }
        self.slots
            .entry((SeqKind::Child, seq))
            .or_insert(Slot::Waiting(None));
    }

    /// The child is over (it never started).
    pub fn child_done(&mut self, seq: u32) {
        self.children.remove(&seq);
    }

    /// The start's future was dropped before it resolved: its outcome is
    /// ignored when it comes.
    pub fn drop_child_start(&mut self, seq: u32) {
        if let Some(Slot::Waiting(_)) = self.slots.remove(&(SeqKind::ChildStart, seq)) {
            self.give_up(SeqKind::ChildStart, seq);
        }
    }

    /// Emits `CancelChildWorkflow` for a child, once.
    pub fn request_child_cancel(&mut self, seq: u32) {
        let Some(meta) = self.children.get_mut(&seq) else {
            return;
        };
        if meta.cancel_sent || self.closing {
            return;
        }
        meta.cancel_sent = true;
        self.commands.push(Command::CancelChildWorkflow { seq });
    }

    /// What the workflow's cancellation does to a child whose result is
    /// awaited: the slot to put in its place now, or `None` to wait on.
    pub(super) fn cancel_child(&mut self, seq: u32) -> Option<Slot> {
        let cancellation_type = self.children.get(&seq)?.cancellation_type;
        if cancellation_type != ChildCancellationType::Abandon {
            self.request_child_cancel(seq);
        }
        match cancellation_type {
            ChildCancellationType::TryCancel | ChildCancellationType::Abandon => {
                Some(self.canceled_child(seq))
            }
            ChildCancellationType::WaitCancellationRequested
            | ChildCancellationType::WaitCancellationCompleted => None,
        }
    }

    /// A cancel request for a child was recorded: the request's own future
    /// resolves, and so does the child's result when it waits only for the
    /// request ([`ChildCancellationType::WaitCancellationRequested`]).
    pub fn child_cancel_requested(&mut self, seq: u32, failure: Option<Failure>) {
        let done = Slot::Done(failure.clone().map_or(Ok(()), Err));
        if let Some(slot @ Slot::Waiting(_)) = self.slots.get_mut(&(SeqKind::CancelChild, seq))
            && let Slot::Waiting(Some(waker)) = std::mem::replace(slot, done)
        {
            waker.wake();
        }
        let waits_for_request = self.children.get(&seq).is_some_and(|m| {
            m.cancellation_type == ChildCancellationType::WaitCancellationRequested
        });
        if waits_for_request && failure.is_none() {
            let resolved = self.canceled_child(seq);
            if let Some(slot @ Slot::Waiting(Some(_))) = self.slots.get_mut(&(SeqKind::Child, seq))
            {
                if let Slot::Waiting(Some(waker)) = std::mem::replace(slot, resolved) {
                    waker.wake();
                }
                self.give_up(SeqKind::Child, seq);
            }
        }
    }

    /// The result a child's future gets when the workflow's cancellation
    /// resolves it without waiting for the child to close.
    fn canceled_child(&self, seq: u32) -> Slot {
        let (workflow_id, run_id, workflow_type) = self
            .children
            .get(&seq)
            .map(|m| {
                (
                    m.workflow_id.clone(),
                    m.run_id.clone(),
                    m.workflow_type.clone(),
                )
            })
            .unwrap_or_default();
        Slot::Resolved(Resolution::Failed(Failure::ChildWorkflow(Box::new(
            ChildWorkflowError {
                message: "Child Workflow execution cancelled".into(),
                workflow_id,
                run_id,
                workflow_type,
                retry_state: RetryState::NonRetryableFailure,
                cause: Box::new(Failure::Canceled(CanceledError {
                    message: "Cancelled".into(),
                    details: Vec::new(),
                })),
            },
        ))))
    }

    /// A uuid from the run's deterministic randomness (a child's default id).
    pub fn rng_uuid(&mut self) -> String {
        let mut bytes = [0u8; 16];
        for chunk in bytes.chunks_mut(8) {
            let word = self.rng.next_u64().to_le_bytes();
            chunk.copy_from_slice(&word[..chunk.len()]);
        }
        uuid::Builder::from_random_bytes(bytes)
            .into_uuid()
            .to_string()
    }
}
