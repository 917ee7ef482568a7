//! Updates: admitted into the run's state (durable, deduplicated by update
//! id), delivered with the next workflow task, then accepted
//! (`WorkflowExecutionUpdateAccepted`) or rejected (nothing written) and
//! completed (`WorkflowExecutionUpdateCompleted`) by the task's commands.
//! Callers get the outcome once the completion is durable.
//! Update-with-start admits the update in the batch that starts the run
//! (or finds it), so both commit together.
//!
//! Dedup is per chain: (namespace, workflow id, first execution run id,
//! update id). Continue-as-new carries every record to the new run
//! (completed outcomes, and updates not yet accepted, whose callers keep
//! waiting), so a retry after a boundary returns the first outcome and
//! nothing runs twice. Completed outcomes stay in the run's state, closed
//! runs included, for a bounded window: the latest
//! `EngineOptions::update_outcomes_kept` (1,000 by default) of a chain,
//! the oldest completed dropped first. An update id whose outcome was
//! dropped is unknown again: a retry of it is a new update, validated and
//! applied once more. Updates not yet completed are never dropped.

use serde::{Deserialize, Serialize};
use tokio::sync::oneshot;

use crate::backend::{
    BackendError, StartWorkflowRequest, StartWorkflowResponse, UpdateDelivery, UpdateRequest,
};
use crate::converter::Payload;
use crate::failure::{ApplicationError, Failure};
use crate::history::UNSEQUENCED;
use crate::protocol::{Command, UpdateResponse};

use super::effects::Effect;
use super::engine_task::EngineTask;
use super::queries::AnswerRx;
use super::reads::Resolved;
use super::requests::{Lookup, Target};
use super::runs::{check_id, check_run_id};
use super::state::{RunKey, RunState, WftState, failure_payloads};

/// Where an update stands in its run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) enum UpdateStatus {
    /// Waiting for a workflow task to deliver it.
    Admitted,
    /// Delivered with workflow task `task_id` (memory only in effect: a
    /// restart or a failed task makes it `Admitted` again).
    Delivered { task_id: i64 },
    /// Its validator passed; the handler runs.
    Accepted,
    /// Its handler finished (or the run closed before it did).
    Completed(Result<Payload, Failure>),
}

/// An update the run knows.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct UpdateRecord {
    /// Arrival order.
    pub seq: u64,
    pub name: String,
    /// Dropped once accepted (history holds it then).
    pub input: Vec<Payload>,
    pub status: UpdateStatus,
    /// Where the update arrived among the run's incoming events.
    #[serde(default)]
    pub arrived: Arrival,
    /// Completion order (0 until completed, and for records written
    /// before it was counted): the oldest completed are dropped first.
    #[serde(default)]
    pub completed: u64,
}

/// Where an update arrived among the run's incoming events (signals,
/// cancel requests, activity results, timers), which decides where the
/// workflow gets it among them, live and on replay.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum Arrival {
    /// After history's event with this id (the last event when it arrived;
    /// 0: before all of them).
    After(i64),
    /// While a workflow task ran, after the first `n` facts buffered then:
    /// the event it follows is known once the buffer is written (the task
    /// ends before another can deliver the update).
    Buffered(usize),
}

impl Default for Arrival {
    /// Records from before arrivals were kept: after every event.
    fn default() -> Self {
        Arrival::After(UNSEQUENCED)
    }
}

impl Arrival {
    /// The update's sequencing event id (the event it follows).
    pub fn event_id(self) -> i64 {
        match self {
            Arrival::After(id) => id,
            // Not expected at delivery; after everything, as before.
            Arrival::Buffered(_) => UNSEQUENCED,
        }
    }
}

/// Where an update arriving now stands: after the last event, or, while a
/// workflow task runs, after the facts buffered so far (incoming facts go
/// to the buffer then).
pub(crate) fn arrival_now(state: &RunState) -> Arrival {
    if matches!(state.wft, WftState::Started { .. }) {
        Arrival::Buffered(state.buffered.len())
    } else {
        Arrival::After(state.next_event_id - 1)
    }
}

/// The buffer was written: `base` is the last event id before it, `ends[i]`
/// the last event id of buffered fact `i`. Updates that arrived while it
/// filled now follow a known event.
pub(crate) fn place_buffered_arrivals(state: &mut RunState, base: i64, ends: &[i64]) {
    for record in state.updates.values_mut() {
        if let Arrival::Buffered(n) = record.arrived {
            let after = n
                .checked_sub(1)
                .and_then(|i| ends.get(i))
                .copied()
                .unwrap_or(base);
            record.arrived = Arrival::After(after);
        }
    }
}

/// Marks an update completed with `result`, numbered in completion order.
pub(crate) fn mark_completed(
    record: &mut UpdateRecord,
    completions: &mut u64,
    result: Result<Payload, Failure>,
) {
    *completions += 1;
    record.completed = *completions;
    record.status = UpdateStatus::Completed(result);
}

/// Drops the oldest completed outcomes past `limit` (see the module doc).
pub(crate) fn trim_outcomes(state: &mut RunState, limit: usize) {
    // Most calls have nothing to drop: count before collecting.
    if state.updates.len() <= limit {
        return;
    }
    let mut completed: Vec<(u64, u64, String)> = state
        .updates
        .iter()
        .filter(|(_, r)| matches!(r.status, UpdateStatus::Completed(_)))
        .map(|(id, r)| (r.completed, r.seq, id.clone()))
        .collect();
    let Some(excess) = completed.len().checked_sub(limit).filter(|n| *n > 0) else {
        return;
    };
    completed.sort_unstable();
    for (_, _, id) in completed.into_iter().take(excess) {
        state.updates.remove(&id);
    }
}

/// The failure callers of an update get when the run closes before it completed.
pub(crate) fn run_closed(update_id: &str, accepted: bool) -> Failure {
    let what = if accepted {
        "completed"
    } else {
        "was accepted"
    };
    ApplicationError::new(format!(
        "the workflow run closed before update {update_id:?} {what}"
    ))
    .with_type("UpdateRunClosed")
    .into()
}

fn answer(result: Result<Payload, Failure>) -> Result<Payload, BackendError> {
    result.map_err(BackendError::UpdateFailed)
}

/// The outcome of a known update id on a closed run (read from its row).
pub(crate) fn closed_run_update(
    state: &RunState,
    update_id: &str,
) -> Result<Payload, BackendError> {
    match state.updates.get(update_id).map(|r| &r.status) {
        Some(UpdateStatus::Completed(result)) => answer(result.clone()),
        _ => Err(BackendError::NotFound {
            workflow_id: state.workflow_id.clone(),
            run_id: Some(state.run_id.clone()),
            detail: Some(format!(
                "run {} is closed and takes no more updates",
                state.run_id
            )),
        }),
    }
}

/// Updates waiting for a workflow task to deliver them.
pub(crate) fn has_admitted(state: &RunState) -> bool {
    state
        .updates
        .values()
        .any(|r| r.status == UpdateStatus::Admitted)
}

/// Takes the admitted updates, in arrival order, for workflow task `task_id`.
pub(crate) fn deliver_updates(state: &mut RunState, task_id: i64) -> Vec<UpdateDelivery> {
    let mut admitted: Vec<(&String, &mut UpdateRecord)> = state
        .updates
        .iter_mut()
        .filter(|(_, r)| r.status == UpdateStatus::Admitted)
        .collect();
    admitted.sort_by_key(|(_, r)| r.seq);
    admitted
        .into_iter()
        .map(|(id, r)| {
            r.status = UpdateStatus::Delivered { task_id };
            UpdateDelivery {
                update_id: id.clone(),
                name: r.name.clone(),
                input: r.input.clone(),
                sequencing_event_id: r.arrived.event_id(),
            }
        })
        .collect()
}

/// The task that carried them is gone (failed, timed out, refused, lost in
/// a restart): the next one delivers them again.
pub(crate) fn undeliver_updates(state: &mut RunState) {
    for r in state.updates.values_mut() {
        if matches!(r.status, UpdateStatus::Delivered { .. }) {
            r.status = UpdateStatus::Admitted;
        }
    }
}

/// Checks a completion's update responses against the run's updates.
pub(crate) fn check_update_commands(
    state: &RunState,
    commands: &[Command],
    limits: &crate::converter::PayloadLimits,
) -> Result<(), BackendError> {
    let mut accepted_now = std::collections::HashSet::new();
    for command in commands {
        let Command::UpdateResponse { id, response } = command else {
            continue;
        };
        let status = state.updates.get(id).map(|r| &r.status);
        let bad = |why: &str| {
            Err(BackendError::InvalidArgument(format!(
                "update response for {id:?}: {why}"
            )))
        };
        match response {
            UpdateResponse::Accepted | UpdateResponse::Rejected(_) => {
                if !matches!(status, Some(UpdateStatus::Delivered { .. })) {
                    return bad("the update was not delivered with this task");
                }
                if let UpdateResponse::Rejected(f) = response {
                    limits.check("update rejection details", failure_payloads(f))?;
                } else {
                    accepted_now.insert(id.clone());
                }
            }
            UpdateResponse::Completed(result) => {
                if !(matches!(status, Some(UpdateStatus::Accepted)) || accepted_now.contains(id)) {
                    return bad("the update is not accepted (or completed already)");
                }
                match result {
                    Ok(p) => limits.check("update result", [p])?,
                    Err(f) => limits.check("update failure details", failure_payloads(f))?,
                }
            }
        }
    }
    Ok(())
}

/// Whether a completion is "speculative": its only commands reject updates
/// and the task carried nothing new, so nothing is written for it.
pub(crate) fn is_speculative(state: &RunState, commands: &[Command]) -> bool {
    !state.new_events
        && !commands.is_empty()
        && commands.iter().all(|c| {
            matches!(
                c,
                Command::UpdateResponse {
                    response: UpdateResponse::Rejected(_),
                    ..
                }
            )
        })
}

/// Applies one update response of a completion to the run's updates (its
/// event, if any, is the command mapping's); returns the outcome for the
/// callers as (update id, answer).
pub(crate) fn apply_update_response(
    state: &mut RunState,
    id: String,
    response: UpdateResponse,
) -> Option<(String, Result<Payload, BackendError>)> {
    match response {
        UpdateResponse::Rejected(failure) => {
            state.updates.remove(&id);
            Some((id, Err(BackendError::UpdateFailed(failure.truncated()))))
        }
        UpdateResponse::Accepted => {
            let record = state.updates.get_mut(&id)?;
            record.status = UpdateStatus::Accepted;
            // History holds the input now.
            record.input = Vec::new();
            None
        }
        UpdateResponse::Completed(result) => {
            let result = result.map_err(Failure::truncated);
            let record = state.updates.get_mut(&id)?;
            mark_completed(record, &mut state.update_completions, result.clone());
            record.name.clear();
            Some((id, answer(result)))
        }
    }
}

impl EngineTask {
    fn check_update(&self, req: &UpdateRequest) -> Result<(), BackendError> {
        check_id("namespace", &req.namespace)?;
        check_id("workflow id", &req.workflow_id)?;
        check_id("update id", &req.update_id)?;
        check_id("update name", &req.name)?;
        check_run_id(req.run_id.as_deref())?;
        self.options
            .payload_limits
            .check(&format!("input of update {:?}", req.name), &req.input)?;
        Ok(())
    }

    /// Update-with-start: the start (or the run found) and the admitted
    /// update land in the same batch, so they commit together. Everything
    /// that could refuse the update is checked before the start.
    pub(super) fn update_with_start(
        &mut self,
        start: StartWorkflowRequest,
        update: UpdateRequest,
    ) -> Result<(StartWorkflowResponse, Lookup<AnswerRx>), BackendError> {
        if update.namespace != start.namespace || update.workflow_id != start.workflow_id {
            return Err(BackendError::InvalidArgument(
                "update-with-start: the update must name the started workflow's namespace \
                 and workflow id"
                    .into(),
            ));
        }
        if update.run_id.is_some() {
            return Err(BackendError::InvalidArgument(
                "update-with-start: the update names no run id (it goes to the run started \
                 or found)"
                    .into(),
            ));
        }
        self.check_update(&update)?;
        let started = self.start(start)?;
        let lookup = self.update(UpdateRequest {
            run_id: Some(started.run_id.clone()),
            ..update
        })?;
        Ok((started, lookup))
    }

    pub(super) fn update(&mut self, req: UpdateRequest) -> Result<Lookup<AnswerRx>, BackendError> {
        self.check_update(&req)?;
        let target = Target {
            namespace: req.namespace.clone(),
            workflow_id: req.workflow_id.clone(),
            run_id: req.run_id.clone(),
        };
        let key = match self.resolve(&target)? {
            Resolved::Open(key) => key,
            Resolved::Stored(run_id) => {
                return self
                    .read(&target.namespace, run_id, super::writer::Reading::Updates)
                    .map(Lookup::Stored);
            }
        };
        let now = self.now();
        let Some(run) = self.runs.get_mut(&key) else {
            return Err(super::requests::not_found(&target));
        };
        let (tx, rx) = oneshot::channel();
        match run.state.updates.get(&req.update_id).map(|r| &r.status) {
            Some(UpdateStatus::Completed(result)) => {
                // The first outcome, again; nothing runs.
                let _ = tx.send(answer(result.clone()));
                return Ok(Lookup::Now(rx));
            }
            Some(_) => {}
            None => {
                run.state.update_seq += 1;
                let seq = run.state.update_seq;
                let arrived = arrival_now(&run.state);
                run.state.updates.insert(
                    req.update_id.clone(),
                    UpdateRecord {
                        seq,
                        name: req.name,
                        input: req.input,
                        status: UpdateStatus::Admitted,
                        arrived,
                        completed: 0,
                    },
                );
                self.batch.dirty.insert(key.clone());
                if run.state.wft == WftState::Idle {
                    run.state.wft = WftState::Ready {
                        scheduled_time: now,
                    };
                    self.effects.push(Effect::EnqueueWft(key.clone()));
                }
            }
        }
        self.update_waiters
            .entry((key, req.update_id))
            .or_default()
            .push(tx);
        Ok(Lookup::Now(rx))
    }

    /// Sends update outcomes to their callers once the batch commits.
    /// Callers of updates that moved to a run's successor wait on it now.
    pub(super) fn move_update_waiters<'a>(
        &mut self,
        key: &RunKey,
        new_run_id: &str,
        moved: impl Iterator<Item = &'a String>,
    ) {
        let new_key = RunKey {
            namespace: key.namespace.clone(),
            run_id: new_run_id.into(),
        };
        for id in moved {
            if let Some(waiters) = self.update_waiters.remove(&(key.clone(), id.clone())) {
                self.update_waiters
                    .entry((new_key.clone(), id.clone()))
                    .or_default()
                    .extend(waiters);
            }
        }
    }

    pub(super) fn answer_updates(
        &mut self,
        key: &RunKey,
        answers: Vec<(String, Result<Payload, BackendError>)>,
    ) {
        for (id, result) in answers {
            for tx in self
                .update_waiters
                .remove(&(key.clone(), id))
                .unwrap_or_default()
            {
                self.reply(tx, result.clone());
            }
        }
    }

    /// The run closed: updates not completed end with an error for their
    /// callers; accepted ones keep it as their outcome.
    pub(super) fn close_updates(&mut self, key: &RunKey, state: &mut RunState) {
        let mut answers = Vec::new();
        let completions = &mut state.update_completions;
        state.updates.retain(|id, record| match record.status {
            UpdateStatus::Completed(_) => true,
            UpdateStatus::Accepted => {
                let failure = run_closed(id, true);
                mark_completed(record, completions, Err(failure.clone()));
                answers.push((id.clone(), Err(BackendError::UpdateFailed(failure))));
                true
            }
            UpdateStatus::Admitted | UpdateStatus::Delivered { .. } => {
                answers.push((
                    id.clone(),
                    Err(BackendError::UpdateFailed(run_closed(id, false))),
                ));
                false
            }
        });
        trim_outcomes(state, self.options.update_outcomes_kept);
        self.answer_updates(key, answers);
        // Waiters of ids the run no longer knows (none expected).
        let stale: Vec<_> = self
            .update_waiters
            .keys()
            .filter(|(k, _)| k == key)
            .cloned()
            .collect();
        for k in stale {
            for tx in self.update_waiters.remove(&k).unwrap_or_default() {
                let failure = run_closed(&k.1, false);
                self.reply(tx, Err(BackendError::UpdateFailed(failure)));
            }
        }
    }

    pub(super) fn fail_update_waiters(&mut self, error: &BackendError) {
        for (_, txs) in self.update_waiters.drain() {
            for tx in txs {
                let _ = tx.send(Err(error.clone()));
            }
        }
    }
}
