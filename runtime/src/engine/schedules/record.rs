//! A schedule as the engine keeps it: the schedule itself and its
//! bookkeeping, stored as one row (`StoreOp::PutSchedule`) and written in
//! the same batch as whatever the step that changed it did (the workflow
//! it started, the run that closed), so the two are durable together.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::SystemTime;

use serde::{Deserialize, Serialize};

use crate::backend::{BackendError, RunStatus};
use crate::schedule::{OverlapPolicy, Schedule, ScheduleActionResult, ScheduleInfo, ScheduledRun};

use super::super::store::{ScheduleRow, StoreOp};

/// Recent actions kept (Temporal shows 10).
pub(super) const RECENT_KEPT: usize = 10;

/// Errors kept for `describe`.
pub(super) const ERRORS_KEPT: usize = 5;

/// Starts a schedule buffers at most; later ones are dropped and counted.
pub(super) const BUFFER_LIMIT: usize = 1000;

/// A start waiting for its turn.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(super) struct BufferedStart {
    /// The time it is for (in the workflow id).
    pub nominal: SystemTime,
    /// When it was due (jitter included).
    pub actual: SystemTime,
    pub overlap: OverlapPolicy,
}

/// A workflow the schedule started and watches.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(super) struct Running {
    pub run: ScheduledRun,
    /// Whether it was asked to cancel (`CancelOther`), so it is asked once.
    #[serde(default)]
    pub cancel_requested: bool,
}

/// Everything the engine keeps of a schedule.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(super) struct ScheduleRecord {
    pub namespace: String,
    pub schedule_id: String,
    pub schedule: Schedule,
    pub created_at: SystemTime,
    #[serde(default)]
    pub last_updated_at: Option<SystemTime>,
    /// Every scheduled time up to this one has been processed.
    pub last_processed: SystemTime,
    #[serde(default)]
    pub conflict_token: u64,
    /// Starts attempted (each start's request id carries the count).
    #[serde(default)]
    pub launches: u64,
    #[serde(default)]
    pub num_actions: u64,
    #[serde(default)]
    pub missed_catchup_window: u64,
    #[serde(default)]
    pub overlap_skipped: u64,
    #[serde(default)]
    pub buffer_dropped: u64,
    #[serde(default)]
    pub buffer: VecDeque<BufferedStart>,
    #[serde(default)]
    pub running: Vec<Running>,
    #[serde(default)]
    pub recent: VecDeque<ScheduleActionResult>,
    #[serde(default)]
    pub errors: VecDeque<String>,
}

impl ScheduleRecord {
    pub fn new(
        namespace: &str,
        schedule_id: &str,
        schedule: Schedule,
        now: SystemTime,
    ) -> ScheduleRecord {
        ScheduleRecord {
            namespace: namespace.to_string(),
            schedule_id: schedule_id.to_string(),
            schedule,
            created_at: now,
            last_updated_at: None,
            last_processed: now,
            conflict_token: 1,
            launches: 0,
            num_actions: 0,
            missed_catchup_window: 0,
            overlap_skipped: 0,
            buffer_dropped: 0,
            buffer: VecDeque::new(),
            running: Vec::new(),
            recent: VecDeque::new(),
            errors: VecDeque::new(),
        }
    }

    /// The row that stores it.
    pub fn to_op(&self) -> Result<StoreOp, String> {
        let data = super::super::encoding::to_bytes(self)
            .map_err(|e| format!("cannot serialize schedule {}: {e}", self.schedule_id))?;
        Ok(StoreOp::PutSchedule(ScheduleRow {
            namespace: Arc::from(self.namespace.as_str()),
            schedule_id: Arc::from(self.schedule_id.as_str()),
            data,
        }))
    }

    pub fn from_row(row: &ScheduleRow) -> Result<ScheduleRecord, BackendError> {
        super::super::encoding::from_bytes(&row.data).map_err(|e| {
            BackendError::Store(format!("undecodable schedule {}: {e}", row.schedule_id))
        })
    }

    /// Remembers an error for `describe` (the latest few).
    pub fn note_error(&mut self, error: String) {
        self.errors.push_back(error);
        while self.errors.len() > ERRORS_KEPT {
            self.errors.pop_front();
        }
    }

    /// Remembers an action (the latest `RECENT_KEPT`).
    pub fn note_action(&mut self, action: ScheduleActionResult) {
        self.recent.push_back(action);
        while self.recent.len() > RECENT_KEPT {
            self.recent.pop_front();
        }
    }

    /// A watched workflow closed: it no longer runs, and its recent
    /// action shows how it ended. Returns whether it was watched.
    pub fn run_closed(&mut self, workflow_id: &str, status: RunStatus) -> bool {
        let before = self.running.len();
        self.running.retain(|r| r.run.workflow_id != workflow_id);
        for action in self.recent.iter_mut() {
            if action.workflow.workflow_id == workflow_id {
                action.status = status;
            }
        }
        self.running.len() != before
    }

    /// Forgets the watched workflows `closed` says have closed without
    /// the schedule noting it (its row comes from an older step): restored
    /// or read, such a workflow is no longer running.
    pub fn forget_closed(&mut self, closed: impl Fn(&str) -> bool) {
        self.running.retain(|r| !closed(&r.run.workflow_id));
    }

    /// What it did, as `describe` shows it (without the next times, which
    /// the spec computes).
    pub fn info(&self) -> ScheduleInfo {
        ScheduleInfo {
            num_actions: self.num_actions,
            missed_catchup_window: self.missed_catchup_window,
            overlap_skipped: self.overlap_skipped,
            buffer_dropped: self.buffer_dropped,
            buffer_size: self.buffer.len(),
            running_actions: self.running.iter().map(|r| r.run.clone()).collect(),
            recent_actions: self.recent.iter().cloned().collect(),
            next_action_times: Vec::new(),
            created_at: Some(self.created_at),
            last_updated_at: self.last_updated_at,
            errors: self.errors.iter().cloned().collect(),
        }
    }
}
