//! Restart: the engine's memory rebuilt from the store. Open runs come
//! back with their recent events, activities and updates; a workflow task
//! or activity attempt that was in flight is handed out again; deadlines
//! are armed anew; facts buffered for a lost task go to history; schedules
//! come back with their deadlines (times missed meanwhile are taken when
//! those fall due, within the catch-up window).

use std::collections::BTreeMap;
use std::time::SystemTime;

use crate::backend::BackendError;

use super::deadlines::{Deadline, later};
use super::effects::Effect;
use super::engine_task::{EngineTask, Latest};
use super::open_run::Run;
use super::state::{ActivityPhase, PendingActivity, RunKey, RunState, WftState, decode_rows};
use super::store::{ExecutionRow, ExecutionSummary, Loaded, Store};
use super::tasks::append_buffered_to_waiting;
use super::updates::UpdateRecord;

impl EngineTask {
    /// Rebuilds memory from the store: open runs (tasks in flight are made
    /// ready again, deadlines re-armed) and the latest run per workflow id.
    pub fn restore(&mut self, store: &mut dyn Store, loaded: Loaded) -> Result<(), BackendError> {
        let now = self.now();
        self.restore_latest(loaded.latest);
        self.restore_schedules(&loaded.schedules)?;
        for row in loaded.open {
            let run = self.restore_run(store, &row, now)?;
            let key = run.key.clone();
            self.runs.insert(run);
            self.arm_run_timeout(&key);
        }
        Ok(())
    }

    fn restore_latest(&mut self, latest: Vec<ExecutionSummary>) {
        for summary in latest {
            self.latest.insert(
                (summary.namespace, summary.workflow_id),
                Latest {
                    run_id: summary.run_id,
                    status: summary.status,
                    request_id: summary.request_id,
                    // Known for open runs (set when they are restored); a
                    // closed chain's first run id resolves to that run.
                    first_run_id: String::new(),
                },
            );
        }
    }

    fn restore_run(
        &mut self,
        store: &mut dyn Store,
        row: &ExecutionRow,
        now: SystemTime,
    ) -> Result<Run, BackendError> {
        let mut state = RunState::from_row(row)?;
        let key = RunKey::new(&state.namespace, &state.run_id);
        if let Some(latest) = self
            .latest
            .get_mut(&(state.namespace.clone(), state.workflow_id.clone()))
            && latest.run_id == state.run_id
        {
            latest.first_run_id = state.first_run_id().to_string();
        }
        let rows = store.events(&state.namespace, &state.run_id, state.events_since)?;
        let recent = super::encoding::events_from(&rows, state.events_since)
            .map_err(|e| BackendError::Store(format!("run {}: {e}", key.run_id)))?;
        // Activities and updates in rows of their own; a state written
        // before they had rows holds them itself, and they move at the
        // next write.
        let rows = store.activities(&state.namespace, &state.run_id)?;
        let stored_activities: BTreeMap<i64, PendingActivity> =
            decode_rows(&rows, "activity", &key.run_id)?;
        state.activities.extend(stored_activities.clone());
        let rows = store.updates(&state.namespace, &state.run_id)?;
        let stored_updates: BTreeMap<String, UpdateRecord> =
            decode_rows(&rows, "update", &key.run_id)?;
        state.updates.extend(stored_updates.clone());
        self.resume_wft(&key, &mut state, now);
        for (&id, act) in state.activities.iter_mut() {
            self.resume_activity(&key, id, act, now);
        }
        for (&started_event_id, timer) in &state.timers {
            self.deadlines.arm(
                timer.fire_at,
                Deadline::Timer {
                    run: key.clone(),
                    started_event_id,
                },
            );
        }
        let mut run = Run::new(state, recent);
        run.stored_activities = stored_activities;
        run.stored_updates = stored_updates;
        run.stored_as_is();
        // Facts buffered for a task that was in flight (signals, activity
        // results): that task is lost, so they go to history now (after
        // its scheduled event) and the task handed out again carries them.
        let timeout = self.options.workflow_task_timeout;
        append_buffered_to_waiting(&mut run, &mut self.batch, timeout, now);
        Ok(run)
    }

    /// A workflow task that was in flight is handed out again, with the
    /// updates it delivered; one in backoff waits out its backoff.
    fn resume_wft(&mut self, key: &RunKey, state: &mut RunState, now: SystemTime) {
        super::updates::undeliver_updates(state);
        if state.wft == WftState::Idle && super::updates::has_admitted(state) {
            state.wft = WftState::Ready {
                scheduled_time: now,
            };
        }
        match state.wft.clone() {
            WftState::Idle => {}
            WftState::Ready { .. } => self.effects.push(Effect::EnqueueWft(key.clone())),
            WftState::Started { scheduled_time, .. } => {
                state.wft = WftState::Ready { scheduled_time };
                self.effects.push(Effect::EnqueueWft(key.clone()));
            }
            WftState::Backoff { until } => self
                .deadlines
                .arm(until, Deadline::WftBackoff { run: key.clone() }),
        }
    }

    /// An activity's attempt that was running when the engine stopped runs
    /// again, same attempt, from now; its deadlines are armed anew.
    fn resume_activity(
        &mut self,
        key: &RunKey,
        id: i64,
        act: &mut PendingActivity,
        now: SystemTime,
    ) {
        if act.seq == 0 {
            // Stored before activities kept their command's seq (seqs
            // start at 1): the default activity id is the seq.
            act.seq = act.activity_id.parse().unwrap_or(0);
        }
        if let ActivityPhase::Started { .. } = act.phase {
            act.phase = ActivityPhase::Scheduled;
            act.attempt_scheduled_time = now;
        }
        if let Some(s2c) = act.schedule_to_close {
            self.deadlines.arm(
                later(act.scheduled_time, s2c),
                Deadline::ActivityScheduleToClose {
                    run: key.clone(),
                    id,
                },
            );
        }
        if let ActivityPhase::Backoff { until } = act.phase {
            self.deadlines.arm(
                until,
                Deadline::ActivityRetry {
                    run: key.clone(),
                    id,
                    attempt: act.attempt,
                },
            );
            return;
        }
        if let Some(s2s) = act.schedule_to_start {
            self.deadlines.arm(
                later(act.attempt_scheduled_time, s2s),
                Deadline::ActivityScheduleToStart {
                    run: key.clone(),
                    id,
                    attempt: act.attempt,
                },
            );
        }
        self.effects
            .push(Effect::EnqueueActivity(key.clone(), id, act.attempt));
    }
}
