//! Taking a schedule's actions: the times that fell due (with the
//! catch-up window and the actions left), triggers and backfills, each
//! start settled by its overlap policy, the workflow started through the
//! engine's own start (id policies included) in the batch that writes the
//! schedule's row; and what a watched workflow's close changes.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::backend::{
    BackendError, CancelRequest, IdConflictPolicy, IdReusePolicy, RunOutcome, RunStatus,
    StartWorkflowRequest, TerminateRequest,
};
use crate::schedule::spec::id_time;
use crate::schedule::{
    Backfill, OverlapPolicy, ScheduleAction, ScheduleActionResult, ScheduledRun,
};

use super::super::engine_task::EngineTask;
use super::record::{BUFFER_LIMIT, BufferedStart, Running};
use super::{ScheduleKey, later_by, not_found};

/// Times missed past the catch-up window counted one by one in a wake;
/// past that the rest are counted at once and skipped.
const MISSED_ONE_BY_ONE: u64 = 1000;

/// Times a backfill may hold.
const BACKFILL_LIMIT: usize = 10_000;

/// What the next due time of a schedule asks for.
enum Due {
    /// Nothing is due (or the schedule takes no scheduled action now).
    Nothing,
    /// A time too old for the catch-up window.
    Missed,
    Take(BufferedStart),
}

impl EngineTask {
    /// A schedule's deadline fell due: takes every time due by now, in
    /// order, and arms the next.
    pub(in crate::engine) fn schedule_due(&mut self, key: &ScheduleKey, now: SystemTime) {
        let mut missed = 0;
        loop {
            match self.next_due_time(key, now) {
                Due::Nothing => break,
                Due::Missed => {
                    missed += 1;
                    if missed == MISSED_ONE_BY_ONE {
                        self.skip_missed(key, now);
                    }
                }
                Due::Take(start) => self.take_start(key, start, now),
            }
        }
        if missed > 0 {
            tracing::warn!(schedule_id = %key.id, missed,
                "scheduled times older than the catch-up window were skipped");
        }
        self.arm_schedule(key);
        self.write_schedule(key);
    }

    /// Moves the schedule past its next time if that is due, and says
    /// what to do with it.
    fn next_due_time(&mut self, key: &ScheduleKey, now: SystemTime) -> Due {
        let Some(entry) = self.schedules.map.get_mut(key) else {
            return Due::Nothing;
        };
        let (Ok(spec), record) = (&entry.spec, &mut entry.record) else {
            return Due::Nothing;
        };
        let state = &mut record.schedule.state;
        if state.paused || state.remaining_actions == Some(0) {
            return Due::Nothing;
        }
        let Some(nominal) = spec.next_after(record.last_processed) else {
            return Due::Nothing;
        };
        let actual = later_by(nominal, spec.jitter(entry.seed, nominal));
        if actual > now {
            return Due::Nothing;
        }
        record.last_processed = nominal;
        let late = now.duration_since(actual).unwrap_or(Duration::ZERO);
        if late > record.schedule.policies.catchup_window {
            record.missed_catchup_window += 1;
            return Due::Missed;
        }
        if let Some(left) = &mut state.remaining_actions {
            *left -= 1;
        }
        Due::Take(BufferedStart {
            nominal,
            actual,
            overlap: record.schedule.policies.overlap,
        })
    }

    /// Counts the rest of the times older than the catch-up window at
    /// once (up to a limit) and moves past them.
    fn skip_missed(&mut self, key: &ScheduleKey, now: SystemTime) {
        let Some(entry) = self.schedules.map.get_mut(key) else {
            return;
        };
        let (Ok(spec), record) = (&entry.spec, &mut entry.record) else {
            return;
        };
        let window = record.schedule.policies.catchup_window;
        let Some(cutoff) = now.checked_sub(window) else {
            return;
        };
        let from = record.last_processed + Duration::from_nanos(1);
        let skipped = spec
            .times_between(from, cutoff, 1_000_000)
            .map_or(1_000_000, |times| times.len());
        record.missed_catchup_window += u64::try_from(skipped).unwrap_or(u64::MAX);
        record.last_processed = record.last_processed.max(cutoff);
    }

    /// Starts the schedule's workflow now, for the time now (to the
    /// second), under `overlap` or the schedule's policy. A paused schedule
    /// is triggered too, and the action left count is not touched.
    pub(super) fn trigger_schedule(
        &mut self,
        namespace: &str,
        id: &str,
        overlap: Option<OverlapPolicy>,
    ) -> Result<(), BackendError> {
        let now = self.now();
        let key = ScheduleKey::new(namespace, id);
        let entry = self.schedules.map.get(&key).ok_or_else(|| not_found(id))?;
        let start = BufferedStart {
            nominal: whole_second(now),
            actual: now,
            overlap: overlap.unwrap_or(entry.record.schedule.policies.overlap),
        };
        self.take_start(&key, start, now);
        self.write_schedule(&key);
        Ok(())
    }

    /// Takes an action for every time of each range, both ends included
    /// (as on Temporal), whether the schedule is paused or not.
    pub(super) fn backfill_schedule(
        &mut self,
        namespace: &str,
        id: &str,
        backfills: &[Backfill],
    ) -> Result<(), BackendError> {
        let now = self.now();
        let key = ScheduleKey::new(namespace, id);
        let entry = self.schedules.map.get(&key).ok_or_else(|| not_found(id))?;
        let spec = entry.spec.as_ref().map_err(|e| {
            BackendError::InvalidArgument(format!(
                "schedule {id:?} cannot be backfilled: its spec does not compile: {e}"
            ))
        })?;
        let mut starts = Vec::new();
        for (i, backfill) in backfills.iter().enumerate() {
            let invalid = |what: String| {
                BackendError::InvalidArgument(format!("schedule {id:?}: backfill {i}: {what}"))
            };
            if backfill.start_at > backfill.end_at {
                return Err(invalid("start_at is after end_at".into()));
            }
            let times = spec
                .times_between(backfill.start_at, backfill.end_at, BACKFILL_LIMIT)
                .map_err(|limit| invalid(format!("more than {limit} times: split the range")))?;
            let overlap = backfill
                .overlap
                .unwrap_or(entry.record.schedule.policies.overlap);
            starts.extend(times.into_iter().map(|t| BufferedStart {
                nominal: t,
                actual: t,
                overlap,
            }));
        }
        for start in starts {
            self.take_start(&key, start, now);
        }
        self.write_schedule(&key);
        Ok(())
    }

    /// Settles a start by its overlap policy: started now, buffered,
    /// skipped, or started once the running workflows are cancelled or
    /// terminated.
    fn take_start(&mut self, key: &ScheduleKey, start: BufferedStart, now: SystemTime) {
        let Some(record) = self.schedules.map.get_mut(key).map(|e| &mut e.record) else {
            return;
        };
        let free = record.running.is_empty() && record.buffer.is_empty();
        match start.overlap {
            OverlapPolicy::AllowAll => return self.launch(key, start, now),
            _ if free => record.buffer.push_back(start),
            OverlapPolicy::Skip => record.overlap_skipped += 1,
            OverlapPolicy::BufferOne if record.buffer.is_empty() => record.buffer.push_back(start),
            OverlapPolicy::BufferOne => record.overlap_skipped += 1,
            OverlapPolicy::BufferAll if record.buffer.len() >= BUFFER_LIMIT => {
                record.buffer_dropped += 1;
            }
            OverlapPolicy::BufferAll => record.buffer.push_back(start),
            OverlapPolicy::CancelOther => {
                record.buffer.clear();
                record.buffer.push_back(start);
                self.cancel_running(key);
            }
            OverlapPolicy::TerminateOther => {
                record.buffer.clear();
                record.buffer.push_back(start);
                self.terminate_running(key);
            }
        }
        self.drain_buffer(key, now);
    }

    /// Starts buffered starts while no watched workflow runs.
    fn drain_buffer(&mut self, key: &ScheduleKey, now: SystemTime) {
        loop {
            let Some(record) = self.schedules.map.get_mut(key).map(|e| &mut e.record) else {
                return;
            };
            if !record.running.is_empty() {
                return;
            }
            let Some(start) = record.buffer.pop_front() else {
                return;
            };
            self.launch(key, start, now);
        }
    }

    /// Asks the watched workflows to cancel (once each); the buffered
    /// start goes when they have closed.
    fn cancel_running(&mut self, key: &ScheduleKey) {
        let Some(record) = self.schedules.map.get_mut(key).map(|e| &mut e.record) else {
            return;
        };
        let mut asks = Vec::new();
        for running in record.running.iter_mut().filter(|r| !r.cancel_requested) {
            running.cancel_requested = true;
            asks.push(CancelRequest {
                namespace: key.namespace.to_string(),
                workflow_id: running.run.workflow_id.clone(),
                run_id: None,
                reason: format!("overlap policy CancelOther of schedule {}", key.id),
            });
        }
        for ask in asks {
            let workflow_id = ask.workflow_id.clone();
            if let Err(e) = self.request_cancel(ask) {
                tracing::warn!(schedule_id = %key.id, %workflow_id, error = %e,
                    "a scheduled workflow could not be asked to cancel");
            }
        }
    }

    /// Terminates the watched workflows; they stop being watched first, so
    /// their close changes nothing more here.
    fn terminate_running(&mut self, key: &ScheduleKey) {
        let Some(record) = self.schedules.map.get_mut(key).map(|e| &mut e.record) else {
            return;
        };
        let running = std::mem::take(&mut record.running);
        for r in &running {
            record.run_closed(&r.run.workflow_id, RunStatus::Terminated);
        }
        for r in running {
            self.schedules.unwatch(key, &r.run.workflow_id);
            let request = TerminateRequest {
                namespace: key.namespace.to_string(),
                workflow_id: r.run.workflow_id.clone(),
                run_id: None,
                reason: format!("overlap policy TerminateOther of schedule {}", key.id),
                details: Vec::new(),
            };
            if let Err(e) = self.terminate(request) {
                tracing::warn!(schedule_id = %key.id, workflow_id = %r.run.workflow_id,
                    error = %e, "a scheduled workflow could not be terminated");
            }
        }
    }

    /// Starts the action's workflow for `start`, with an id made of the
    /// action's and the nominal time: a time taken twice finds the
    /// workflow it started (the conflict is recorded, not a second run).
    fn launch(&mut self, key: &ScheduleKey, start: BufferedStart, now: SystemTime) {
        let Some(record) = self.schedules.map.get_mut(key).map(|e| &mut e.record) else {
            return;
        };
        let ScheduleAction::StartWorkflow(action) = &record.schedule.action;
        record.launches += 1;
        let request = StartWorkflowRequest {
            namespace: key.namespace.to_string(),
            workflow_id: format!("{}-{}", action.workflow_id, id_time(start.nominal)),
            workflow_type: action.workflow_type.clone(),
            task_queue: action.task_queue.clone(),
            input: action.input.clone(),
            request_id: format!("schedule {} start {}", key.id, record.launches),
            id_reuse_policy: IdReusePolicy::AllowDuplicate,
            id_conflict_policy: IdConflictPolicy::Fail,
            run_options: action.options.clone(),
        };
        let workflow_id = request.workflow_id.clone();
        match self.start(request) {
            Ok(started) => self.launched(key, start, workflow_id, started.run_id, now),
            Err(e) => {
                tracing::warn!(schedule_id = %key.id, %workflow_id, error = %e,
                    "a scheduled workflow did not start");
                if let Some(entry) = self.schedules.map.get_mut(key) {
                    entry.record.note_error(format!(
                        "{}: workflow {workflow_id} did not start: {e}",
                        id_time(now)
                    ));
                }
            }
        }
    }

    /// Notes a started workflow: counted, recent, and watched unless it
    /// was started under `AllowAll`.
    fn launched(
        &mut self,
        key: &ScheduleKey,
        start: BufferedStart,
        workflow_id: String,
        run_id: String,
        now: SystemTime,
    ) {
        let Some(record) = self.schedules.map.get_mut(key).map(|e| &mut e.record) else {
            return;
        };
        let run = ScheduledRun {
            workflow_id: workflow_id.clone(),
            run_id,
        };
        record.num_actions += 1;
        record.note_action(ScheduleActionResult {
            nominal_time: start.nominal,
            scheduled_at: start.actual,
            started_at: now,
            workflow: run.clone(),
            status: RunStatus::Running,
        });
        if start.overlap != OverlapPolicy::AllowAll {
            record.running.push(Running {
                run,
                cancel_requested: false,
            });
            self.schedules.watch(key, &workflow_id);
        }
        tracing::info!(schedule_id = %key.id, %workflow_id, "scheduled workflow started");
    }

    /// A run closed (called by `close_run`): if a schedule watches its
    /// workflow, it no longer runs there, the schedule pauses if it failed
    /// and the policy says so, and a buffered start may go.
    pub(in crate::engine) fn scheduled_run_closed(
        &mut self,
        namespace: &str,
        workflow_id: &str,
        outcome: &RunOutcome,
        now: SystemTime,
    ) {
        // The workflow goes on in a new run: it is still running.
        if matches!(
            outcome,
            RunOutcome::ContinuedAsNew { .. } | RunOutcome::Retried { .. }
        ) {
            return;
        }
        let Some(key) = self.schedules.watcher(namespace, workflow_id) else {
            return;
        };
        self.schedules.unwatch(&key, workflow_id);
        let Some(record) = self.schedules.map.get_mut(&key).map(|e| &mut e.record) else {
            return;
        };
        record.run_closed(workflow_id, status_of(outcome));
        if let RunOutcome::Failed(failure) | RunOutcome::TimedOut(failure) = outcome
            && record.schedule.policies.pause_on_failure
        {
            let note = format!("paused due to workflow failure: {workflow_id}: {failure}");
            tracing::warn!(schedule_id = %key.id, %note, "schedule paused");
            record.schedule.state.paused = true;
            record.schedule.state.note = note;
            record.buffer.clear();
            record.conflict_token += 1;
        }
        self.drain_buffer(&key, now);
        self.arm_schedule(&key);
        self.write_schedule(&key);
    }
}

fn status_of(outcome: &RunOutcome) -> RunStatus {
    match outcome {
        RunOutcome::Completed(_) => RunStatus::Completed,
        RunOutcome::Failed(_) => RunStatus::Failed,
        RunOutcome::Canceled(_) => RunStatus::Canceled,
        RunOutcome::Terminated(_) => RunStatus::Terminated,
        RunOutcome::TimedOut(_) => RunStatus::TimedOut,
        RunOutcome::ContinuedAsNew { .. } | RunOutcome::Retried { .. } => RunStatus::ContinuedAsNew,
    }
}

/// `t` cut to the second (a trigger's time, as on Temporal).
fn whole_second(t: SystemTime) -> SystemTime {
    let secs = t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    UNIX_EPOCH + Duration::from_secs(secs)
}
