//! Listing workflow runs: the filter a caller gives and the summary each
//! run gets. The embedded engine keeps only open runs in memory, so it
//! lists through its store ([`SqliteStore::list_runs`]); a weft server
//! offers the same listing to remote clients.
//!
//! [`SqliteStore::list_runs`]: crate::engine::SqliteStore::list_runs

use std::time::SystemTime;

use serde::{Deserialize, Serialize};

use super::{Description, RunStatus};

/// Which runs a listing returns. Every field set must match.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListFilter {
    /// Namespace of the runs.
    pub namespace: String,
    /// Only runs with this status.
    #[serde(default)]
    pub status: Option<RunStatus>,
    /// Only runs of this workflow type.
    #[serde(default)]
    pub workflow_type: Option<String>,
    /// Only runs of this workflow id.
    #[serde(default)]
    pub workflow_id: Option<String>,
    /// Only runs started at or after this time.
    #[serde(default)]
    pub started_after: Option<SystemTime>,
    /// Only runs started before this time.
    #[serde(default)]
    pub started_before: Option<SystemTime>,
    /// At most this many runs, the newest first (all when `None`).
    #[serde(default)]
    pub limit: Option<usize>,
}

impl ListFilter {
    /// Every run of `namespace`.
    pub fn namespace(namespace: impl Into<String>) -> Self {
        ListFilter {
            namespace: namespace.into(),
            ..ListFilter::default()
        }
    }

    /// Whether a run matches everything but the namespace and the limit.
    pub fn matches(&self, run: &WorkflowSummary) -> bool {
        self.status.is_none_or(|s| s == run.status)
            && self
                .workflow_type
                .as_ref()
                .is_none_or(|t| *t == run.workflow_type)
            && self
                .workflow_id
                .as_ref()
                .is_none_or(|id| *id == run.workflow_id)
            && self.started_after.is_none_or(|t| run.start_time >= t)
            && self.started_before.is_none_or(|t| run.start_time < t)
    }
}

/// One run, as a listing shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkflowSummary {
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
    /// When it started.
    pub start_time: SystemTime,
    /// When it closed.
    pub close_time: Option<SystemTime>,
    /// Number of history events.
    pub history_length: u64,
}

impl From<&Description> for WorkflowSummary {
    fn from(d: &Description) -> Self {
        WorkflowSummary {
            workflow_id: d.workflow_id.clone(),
            run_id: d.run_id.clone(),
            workflow_type: d.workflow_type.clone(),
            task_queue: d.task_queue.clone(),
            status: d.status,
            start_time: d.start_time,
            close_time: d.close_time,
            history_length: d.history_length,
        }
    }
}
