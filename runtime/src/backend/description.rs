//! What `describe` answers: a run's status and identity, its pending
//! activities one by one, what keeps it from moving, and its chain.

use std::time::SystemTime;

use serde::{Deserialize, Serialize};

use super::RunStatus;
use crate::converter::Payload;

/// A run, as `describe` shows it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Description {
    /// The workflow id.
    pub workflow_id: String,
    /// The run's id.
    pub run_id: String,
    /// Type name.
    pub workflow_type: String,
    /// Task queue.
    pub task_queue: String,
    /// Where it stands.
    pub status: RunStatus,
    /// Number of history events.
    pub history_length: u64,
    /// Activities scheduled and not yet closed.
    pub pending_activities: usize,
    /// Those activities, one by one.
    pub activities: Vec<PendingActivityDescription>,
    /// What keeps the run from moving that its owner should know: its
    /// workflow task or an activity waiting on a task queue no worker
    /// polls. Empty for a closed run.
    pub warnings: Vec<String>,
    /// Attempt of the current workflow task (above 1 while it keeps failing).
    pub workflow_task_attempt: u32,
    /// The last workflow task failure's message, while failures continue.
    pub last_workflow_task_failure: Option<String>,
    /// Run ids of this run's continue-as-new chain, oldest first, this one
    /// included (one entry for a run that did not continue another).
    pub run_chain: Vec<String>,
    /// The run that took over when this one continued as new or was
    /// retried: the chain goes on there.
    pub next_run_id: Option<String>,
    /// When the run started.
    pub start_time: SystemTime,
    /// When it closed.
    pub close_time: Option<SystemTime>,
    /// Attempt of the run (above 1 when a retry policy started it again).
    pub attempt: u32,
    /// Children started and not closed.
    pub pending_children: usize,
    /// Those children, one by one, in the order they were started.
    #[serde(default)]
    pub children: Vec<PendingChildDescription>,
    /// The run's memo, as its start gave it.
    pub memo: std::collections::BTreeMap<String, Payload>,
    /// Its search attributes as they stand (never encoded by a codec).
    pub search_attributes: crate::search_attributes::SearchAttributes,
}

/// An activity scheduled and not yet closed, as `describe` shows it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PendingActivityDescription {
    /// Its id within the run.
    pub activity_id: String,
    /// Its type name.
    pub activity_type: String,
    /// The task queue it waits on.
    pub task_queue: String,
    /// Where it stands.
    pub state: PendingActivityState,
    /// The current attempt, from 1.
    pub attempt: u32,
    /// The failure of the previous attempt, as its chain prints.
    pub last_failure: Option<String>,
    /// When the current attempt last heartbeated (as far as this process
    /// saw: a restart forgets it).
    pub last_heartbeat: Option<SystemTime>,
}

/// Where a pending activity stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum PendingActivityState {
    /// Waiting for a worker to take it.
    Scheduled,
    /// Waiting out a retry's backoff, until then.
    Backoff(SystemTime),
    /// Running on a worker since then.
    Started(SystemTime),
}

/// A child started and not closed, as its parent's `describe` shows it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PendingChildDescription {
    /// The child's workflow id.
    pub workflow_id: String,
    /// Its first run.
    pub run_id: String,
    /// Its workflow type.
    pub workflow_type: String,
    /// What happens to it when the parent closes.
    pub parent_close_policy: crate::protocol::ParentClosePolicy,
}
