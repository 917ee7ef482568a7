//! Clients' calls that read or change a schedule: create, describe,
//! update, delete, list, pause and unpause. Each checks what it is given
//! first and changes nothing when it refuses; each change writes the
//! schedule's row and re-arms its deadline.

use std::time::SystemTime;

use crate::backend::{BackendError, MAX_ID_BYTES};
use crate::schedule::spec::CompiledSpec;
use crate::schedule::{
    MIN_CATCHUP_WINDOW, Schedule, ScheduleAction, ScheduleDescription, ScheduleListEntry,
};

use super::super::engine_task::EngineTask;
use super::super::runs::check_id;
use super::super::store::StoreOp;
use super::record::ScheduleRecord;
use super::{Entry, ScheduleKey, later_by, not_found};

/// Next action times `describe` lists (Temporal: 10) and listings (5).
const DESCRIBED_TIMES: usize = 10;
const LISTED_TIMES: usize = 5;

/// What a scheduled workflow's id adds to the action's: `-` and an RFC
/// 3339 time to the second.
const ID_SUFFIX_BYTES: usize = "-2006-01-02T15:04:05Z".len();

impl EngineTask {
    /// Checks a schedule a client gave, and raises a catch-up window
    /// shorter than the least to the least (as Temporal does).
    fn check_schedule(&self, id: &str, schedule: &mut Schedule) -> Result<(), BackendError> {
        check_id("schedule id", id)?;
        let invalid =
            |what: String| BackendError::InvalidArgument(format!("schedule {id:?}: {what}"));
        let ScheduleAction::StartWorkflow(action) = &schedule.action;
        check_id("the action's workflow id", &action.workflow_id)?;
        check_id("the action's workflow type", &action.workflow_type)?;
        check_id("the action's task queue", &action.task_queue)?;
        if action.workflow_id.len() + ID_SUFFIX_BYTES > MAX_ID_BYTES {
            return Err(invalid(format!(
                "the action's workflow id is {} bytes; with the time each action adds it \
                 must stay within {MAX_ID_BYTES}",
                action.workflow_id.len()
            )));
        }
        self.options
            .payload_limits
            .check("the schedule action's input", &action.input)?;
        CompiledSpec::new(&schedule.spec).map_err(|e| invalid(format!("spec: {e}")))?;
        let max = self.options.payload_limits.max_bytes;
        if schedule.state.note.len() > max {
            return Err(invalid(format!(
                "the note is {} bytes, over the limit of {max}",
                schedule.state.note.len()
            )));
        }
        let window = &mut schedule.policies.catchup_window;
        *window = (*window).max(MIN_CATCHUP_WINDOW);
        Ok(())
    }

    pub(super) fn create_schedule(
        &mut self,
        namespace: &str,
        id: &str,
        mut schedule: Schedule,
    ) -> Result<(), BackendError> {
        check_id("namespace", namespace)?;
        self.check_schedule(id, &mut schedule)?;
        if self
            .schedules
            .map
            .contains_key(&ScheduleKey::new(namespace, id))
        {
            return Err(BackendError::ScheduleAlreadyExists {
                schedule_id: id.to_string(),
            });
        }
        let record = ScheduleRecord::new(namespace, id, schedule, self.now());
        let key = self.insert_schedule(record);
        self.write_schedule(&key);
        tracing::info!(schedule_id = %id, "schedule created");
        Ok(())
    }

    pub(super) fn describe_schedule(
        &self,
        namespace: &str,
        id: &str,
    ) -> Result<ScheduleDescription, BackendError> {
        let entry = self
            .schedules
            .map
            .get(&ScheduleKey::new(namespace, id))
            .ok_or_else(|| not_found(id))?;
        Ok(entry.description(self.now()))
    }

    pub(super) fn update_schedule(
        &mut self,
        namespace: &str,
        id: &str,
        mut schedule: Schedule,
        conflict_token: Option<u64>,
    ) -> Result<(), BackendError> {
        self.check_schedule(id, &mut schedule)?;
        let now = self.now();
        let key = ScheduleKey::new(namespace, id);
        let entry = self
            .schedules
            .map
            .get_mut(&key)
            .ok_or_else(|| not_found(id))?;
        if conflict_token.is_some_and(|t| t != entry.record.conflict_token) {
            return Err(BackendError::ScheduleConflict {
                schedule_id: id.to_string(),
            });
        }
        let record = &mut entry.record;
        if schedule.state.paused {
            record.buffer.clear();
        }
        // Times before the update are not taken by the new spec.
        record.last_processed = record.last_processed.max(now);
        record.schedule = schedule;
        record.last_updated_at = Some(now);
        record.conflict_token += 1;
        entry.spec = CompiledSpec::new(&record.schedule.spec).map_err(|e| e.to_string());
        self.arm_schedule(&key);
        self.write_schedule(&key);
        tracing::info!(schedule_id = %id, "schedule updated");
        Ok(())
    }

    pub(super) fn delete_schedule(
        &mut self,
        namespace: &str,
        id: &str,
    ) -> Result<(), BackendError> {
        let key = ScheduleKey::new(namespace, id);
        let entry = self
            .schedules
            .map
            .remove(&key)
            .ok_or_else(|| not_found(id))?;
        // Its workflows run on, unwatched.
        for running in &entry.record.running {
            self.schedules.unwatch(&key, &running.run.workflow_id);
        }
        self.batch.ops.push(StoreOp::DeleteSchedule {
            namespace: key.namespace.clone(),
            schedule_id: key.id.clone(),
        });
        tracing::info!(schedule_id = %id, "schedule deleted");
        Ok(())
    }

    pub(super) fn list_schedules(&self, namespace: &str) -> Vec<ScheduleListEntry> {
        let now = self.now();
        self.schedules
            .map
            .iter()
            .filter(|(key, _)| &*key.namespace == namespace)
            .map(|(_, entry)| entry.list_entry(now))
            .collect()
    }

    /// Pauses (dropping buffered starts, as Temporal does) or unpauses (times
    /// that passed meanwhile are not caught up); `note` replaces the note.
    pub(super) fn pause_schedule(
        &mut self,
        namespace: &str,
        id: &str,
        paused: bool,
        note: Option<String>,
    ) -> Result<(), BackendError> {
        let now = self.now();
        let key = ScheduleKey::new(namespace, id);
        let entry = self
            .schedules
            .map
            .get_mut(&key)
            .ok_or_else(|| not_found(id))?;
        let record = &mut entry.record;
        let state = &mut record.schedule.state;
        state.paused = paused;
        state.note = note.unwrap_or_else(|| {
            if paused {
                "Paused via weft"
            } else {
                "Unpaused via weft"
            }
            .to_string()
        });
        if paused {
            record.buffer.clear();
        } else {
            record.last_processed = record.last_processed.max(now);
        }
        record.conflict_token += 1;
        self.arm_schedule(&key);
        self.write_schedule(&key);
        tracing::info!(schedule_id = %id, paused, "schedule paused or unpaused");
        Ok(())
    }
}

impl Entry {
    /// The schedule as `describe` shows it at `now` (the engine's, and a
    /// tool's reading the stored row).
    pub(super) fn description(&self, now: SystemTime) -> ScheduleDescription {
        let mut info = self.record.info();
        info.next_action_times = next_times(self, DESCRIBED_TIMES, now);
        if let Err(e) = &self.spec {
            info.errors.push(format!(
                "the spec no longer compiles, so no scheduled action is taken until the \
                 schedule is updated: {e}"
            ));
        }
        ScheduleDescription {
            schedule_id: self.record.schedule_id.clone(),
            schedule: self.record.schedule.clone(),
            info,
            conflict_token: self.record.conflict_token,
        }
    }

    /// The schedule as a listing shows it at `now`.
    pub(super) fn list_entry(&self, now: SystemTime) -> ScheduleListEntry {
        let record = &self.record;
        ScheduleListEntry {
            schedule_id: record.schedule_id.clone(),
            workflow_type: record.schedule.action.workflow_type().to_string(),
            note: record.schedule.state.note.clone(),
            paused: record.schedule.state.paused,
            recent_actions: record.recent.iter().cloned().collect(),
            next_action_times: next_times(self, LISTED_TIMES, now),
        }
    }
}

/// The next `n` action times (jitter included), fewer when the actions
/// left are fewer; listed while paused too, from now (the times a pause
/// passes over are not caught up).
fn next_times(entry: &Entry, n: usize, now: SystemTime) -> Vec<SystemTime> {
    let Ok(spec) = &entry.spec else {
        return Vec::new();
    };
    let state = &entry.record.schedule.state;
    let n = state
        .remaining_actions
        .map_or(n, |left| n.min(usize::try_from(left).unwrap_or(usize::MAX)));
    let mut t = if state.paused {
        entry.record.last_processed.max(now)
    } else {
        entry.record.last_processed
    };
    let mut times = Vec::with_capacity(n);
    while times.len() < n {
        let Some(nominal) = spec.next_after(t) else {
            break;
        };
        times.push(later_by(nominal, spec.jitter(entry.seed, nominal)));
        t = nominal;
    }
    times
}
