//! A schedule read from its stored row without an engine, for tools that
//! inspect a file (`SqliteStore::list_schedules`, `describe_schedule`):
//! decoded as a restore decodes it, and shown through the engine's own
//! `describe` and listing, next action times included. Reading takes no
//! action and writes nothing: a time that fell due while no engine ran is
//! listed as it is, for the next engine to take or count as missed.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::backend::BackendError;
use crate::schedule::{ScheduleDescription, ScheduleListEntry};

use super::super::store::ScheduleRow;
use super::Entry;
use super::record::ScheduleRecord;

/// A schedule as its row holds it.
pub(crate) struct StoredSchedule {
    entry: Entry,
}

impl StoredSchedule {
    /// Decodes a stored row; a row that does not decode is an error naming
    /// the schedule (the file is damaged, or of a newer weft).
    pub(crate) fn from_row(row: &ScheduleRow) -> Result<StoredSchedule, BackendError> {
        Ok(StoredSchedule {
            entry: Entry::new(ScheduleRecord::from_row(row)?),
        })
    }

    /// The ids of the workflows the row says the schedule watches.
    pub(crate) fn running_workflow_ids(&self) -> impl Iterator<Item = &str> {
        self.entry
            .record
            .running
            .iter()
            .map(|r| r.run.workflow_id.as_str())
    }

    /// Forgets the watched workflows `closed` says have closed, as a
    /// restore does.
    pub(crate) fn forget_closed(&mut self, closed: impl Fn(&str) -> bool) {
        self.entry.record.forget_closed(closed);
    }

    /// What the engine's `describe` would answer at `now`.
    pub(crate) fn description(&self, now: SystemTime) -> ScheduleDescription {
        self.entry.description(now)
    }

    /// What the engine's listing would answer at `now`.
    pub(crate) fn list_entry(&self, now: SystemTime) -> ScheduleListEntry {
        self.entry.list_entry(now)
    }
}

/// The wall clock to the millisecond, as the engine's clock reads it, so
/// next times from it are the ones an engine would list.
pub(crate) fn wall_clock() -> SystemTime {
    let now = SystemTime::now();
    now.duration_since(UNIX_EPOCH)
        .ok()
        .and_then(|since| u64::try_from(since.as_millis()).ok())
        .and_then(|ms| UNIX_EPOCH.checked_add(Duration::from_millis(ms)))
        .unwrap_or(now)
}
