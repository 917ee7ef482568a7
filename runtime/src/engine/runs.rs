//! Run lifecycle: starting a run (with the id policies), closing it, and
//! rebuilding open runs from the store when the engine starts.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use crate::backend::{
    BackendError, IdConflictPolicy, IdReusePolicy, MAX_ID_BYTES, RunOutcome, RunStatus,
    StartWorkflowRequest, StartWorkflowResponse,
};
use crate::converter::Payload;
use crate::history::{EventAttributes, ParentExecution, RunInitiator};
use crate::protocol::RunOptions;

use super::engine_task::{EngineTask, Latest, random_u64};
use super::open_run::{Run, append};
use super::requests::Lookup;
use super::state::{RunKey, RunState, WftState};
use super::updates::{
    Arrival, UpdateRecord, UpdateStatus, mark_completed, run_closed, trim_outcomes,
};

pub(super) fn check_id(what: &str, value: &str) -> Result<(), BackendError> {
    if value.is_empty() {
        return Err(BackendError::InvalidArgument(format!(
            "{what} must not be empty"
        )));
    }
    if value.len() > MAX_ID_BYTES {
        return Err(BackendError::InvalidArgument(format!(
            "{what} is {} bytes, over the limit of {MAX_ID_BYTES}",
            value.len()
        )));
    }
    Ok(())
}

/// Checks a run id, when one is given.
pub(super) fn check_run_id(run_id: Option<&str>) -> Result<(), BackendError> {
    run_id.map_or(Ok(()), |id| check_id("run id", id))
}

impl EngineTask {
    pub(super) fn start(
        &mut self,
        req: StartWorkflowRequest,
    ) -> Result<StartWorkflowResponse, BackendError> {
        self.start_run(req, None)
    }

    /// Starts a run as [`start`](Self::start) does; a child run names its
    /// parent.
    pub(super) fn start_run(
        &mut self,
        req: StartWorkflowRequest,
        parent: Option<ParentExecution>,
    ) -> Result<StartWorkflowResponse, BackendError> {
        check_id("namespace", &req.namespace)?;
        check_id("workflow id", &req.workflow_id)?;
        check_id("workflow type", &req.workflow_type)?;
        check_id("request id", &req.request_id)?;
        check_id("task queue", &req.task_queue)?;
        check_policies(&req, &self.options.search_attributes)?;
        self.options
            .payload_limits
            .check("workflow input", &req.input)?;
        let wf_key = (req.namespace.clone(), req.workflow_id.clone());
        if let Some(latest) = self.latest.get(&wf_key) {
            let existing = || StartWorkflowResponse {
                run_id: latest.run_id.clone(),
                started: false,
            };
            let refused = || BackendError::WorkflowAlreadyStarted {
                workflow_id: req.workflow_id.clone(),
                run_id: latest.run_id.clone(),
            };
            if latest.request_id == req.request_id {
                return Ok(existing());
            }
            if !latest.status.is_closed() {
                match (req.id_conflict_policy, req.id_reuse_policy) {
                    (IdConflictPolicy::UseExisting, _) => return Ok(existing()),
                    (IdConflictPolicy::TerminateExisting, _)
                    | (IdConflictPolicy::Fail, IdReusePolicy::TerminateIfRunning) => {
                        let old = latest.run_id.clone();
                        self.terminate_for_start(&req.namespace, &old);
                    }
                    (IdConflictPolicy::Fail, _) => return Err(refused()),
                }
            } else {
                match req.id_reuse_policy {
                    IdReusePolicy::AllowDuplicate | IdReusePolicy::TerminateIfRunning => {}
                    IdReusePolicy::AllowDuplicateFailedOnly => {
                        if latest.status == RunStatus::Completed {
                            return Err(refused());
                        }
                    }
                    IdReusePolicy::RejectDuplicate => return Err(refused()),
                }
            }
        }
        let now = self.now();
        let run_id = new_run_id();
        let execution_deadline = req
            .run_options
            .execution_timeout
            .map(|t| super::deadlines::later(now, t));
        self.open_run_with_id(
            NewRun {
                namespace: req.namespace,
                workflow_id: req.workflow_id,
                workflow_type: req.workflow_type,
                task_queue: req.task_queue,
                request_id: req.request_id,
                input: req.input,
                first_run_id: None,
                previous_runs: Vec::new(),
                parent,
                run_options: req.run_options,
                attempt: 1,
                execution_deadline,
                initiator: None,
                backoff: None,
            },
            run_id.clone(),
            now,
        );
        Ok(StartWorkflowResponse {
            run_id,
            started: true,
        })
    }

    /// Opens a run (its `WorkflowExecutionStarted` event in the batch, a
    /// workflow task ready) and makes it the workflow id's latest run.
    /// Returns the new run's key.
    pub(super) fn open_run_with_id(
        &mut self,
        mut new: NewRun,
        run_id: String,
        now: SystemTime,
    ) -> RunKey {
        let first_run_id = new.first_run_id.clone().unwrap_or_else(|| run_id.clone());
        let continued = new.previous_runs.last().cloned();
        let mut state = fresh_state(&new, &run_id, &first_run_id, now);
        state.previous_runs = std::mem::take(&mut new.previous_runs);
        let mut run = Run::new(state, Vec::new());
        let key = run.key.clone();
        append(
            &mut run,
            &mut self.batch,
            now,
            EventAttributes::WorkflowExecutionStarted {
                workflow_type: new.workflow_type,
                task_queue: new.task_queue,
                input: new.input,
                attempt: new.attempt,
                original_execution_run_id: run_id.clone(),
                first_execution_run_id: first_run_id.clone(),
                randomness_seed: random_u64(),
                request_id: new.request_id.clone(),
                continued_execution_run_id: continued,
                parent: new.parent,
                workflow_execution_timeout: new.run_options.execution_timeout,
                workflow_run_timeout: new.run_options.run_timeout,
                workflow_task_timeout: new.run_options.task_timeout,
                retry_policy: new.run_options.retry_policy,
                memo: new.run_options.memo,
                search_attributes: new.run_options.search_attributes,
                initiator: new.initiator,
                first_workflow_task_backoff: new.backoff,
            },
        );
        self.runs.insert(run);
        self.latest.insert(
            (new.namespace, new.workflow_id),
            Latest {
                run_id: run_id.clone(),
                status: RunStatus::Running,
                request_id: new.request_id,
                first_run_id,
            },
        );
        self.first_task(&key, new.backoff, now);
        self.arm_run_timeout(&key);
        key
    }

    /// Closes a run that continued as new and, in the same batch, starts
    /// the next run of its chain: same workflow id, type and task queue,
    /// fresh history and seed. Updates not yet accepted move to the new run
    /// (their callers keep waiting); completed outcomes and signal request
    /// ids carry over, so dedup spans the chain.
    pub(super) fn continue_as_new(
        &mut self,
        key: &RunKey,
        new_run_id: String,
        input: Vec<Payload>,
        now: SystemTime,
    ) {
        let Some(run) = self.runs.get_mut(key) else {
            return;
        };
        let (moved, carried, closed_answers) = split_updates(&mut run.state);
        // The closed run keeps the kept outcomes (stored lookups read them).
        run.state.updates = carried;
        let completions = run.state.update_completions;
        trim_outcomes(&mut run.state, self.options.update_outcomes_kept);
        let mut carried = run.state.updates.clone();
        let signal_request_ids = run.state.signal_request_ids.clone();
        let update_seq = run.state.update_seq;
        let new = NewRun::next_of(&run.state, input, 1, RunInitiator::ContinueAsNew, None);
        self.answer_updates(key, closed_answers);
        self.move_update_waiters(key, &new_run_id, moved.keys());
        self.close_run(
            key,
            RunOutcome::ContinuedAsNew {
                new_run_id: new_run_id.clone(),
            },
            now,
        );
        let opened = self.open_run_with_id(new, new_run_id, now);
        if let Some(run) = self.runs.get_mut(&opened) {
            carried.extend(moved);
            run.state.updates = carried;
            run.state.update_seq = update_seq;
            run.state.update_completions = completions;
            run.state.signal_request_ids = signal_request_ids;
            self.batch.dirty.insert(opened);
        }
    }
}

/// How a run's updates part when it continues as new: those not yet
/// accepted move to the new run (they arrived before anything it
/// receives); those whose handler was running fail, their outcome kept
/// with the completed ones; returns (moved, kept, answers for the failed).
fn split_updates(state: &mut RunState) -> (Updates, Updates, Vec<UpdateAnswer>) {
    let mut moved = BTreeMap::new();
    let mut kept = BTreeMap::new();
    let mut answers = Vec::new();
    for (id, record) in std::mem::take(&mut state.updates) {
        match record.status {
            UpdateStatus::Admitted | UpdateStatus::Delivered { .. } => {
                let record = UpdateRecord {
                    status: UpdateStatus::Admitted,
                    arrived: Arrival::After(0),
                    ..record
                };
                moved.insert(id, record);
            }
            UpdateStatus::Accepted => {
                let failure = run_closed(&id, true);
                answers.push((id.clone(), Err(BackendError::UpdateFailed(failure.clone()))));
                let mut record = record;
                mark_completed(&mut record, &mut state.update_completions, Err(failure));
                kept.insert(id, record);
            }
            UpdateStatus::Completed(_) => {
                kept.insert(id, record);
            }
        }
    }
    (moved, kept, answers)
}

type Updates = BTreeMap<String, UpdateRecord>;
type UpdateAnswer = (String, Result<Payload, BackendError>);

/// What a new run is started with.
pub(super) struct NewRun {
    namespace: String,
    workflow_id: String,
    workflow_type: String,
    task_queue: String,
    request_id: String,
    input: Vec<Payload>,
    /// The chain's first run, when the run continues one.
    first_run_id: Option<String>,
    previous_runs: Vec<String>,
    /// The parent, when the run is a child (a continued child keeps it).
    parent: Option<ParentExecution>,
    run_options: RunOptions,
    attempt: u32,
    /// The chain's execution deadline, carried from its first run.
    execution_deadline: Option<SystemTime>,
    initiator: Option<RunInitiator>,
    /// How long the first workflow task waits (a retry's backoff).
    backoff: Option<Duration>,
}

impl NewRun {
    /// The next run of `state`'s chain, with `input`: same workflow id,
    /// type, task queue, parent, options and execution deadline.
    pub(super) fn next_of(
        state: &RunState,
        input: Vec<Payload>,
        attempt: u32,
        initiator: RunInitiator,
        backoff: Option<Duration>,
    ) -> NewRun {
        NewRun {
            namespace: state.namespace.clone(),
            workflow_id: state.workflow_id.clone(),
            workflow_type: state.workflow_type.clone(),
            task_queue: state.task_queue.clone(),
            request_id: state.request_id.clone(),
            input,
            first_run_id: Some(state.first_run_id().to_string()),
            previous_runs: state
                .previous_runs
                .iter()
                .chain([&state.run_id])
                .cloned()
                .collect(),
            parent: state.parent.clone(),
            run_options: state.run_options.clone(),
            attempt,
            execution_deadline: state.execution_deadline,
            initiator: Some(initiator),
            backoff,
        }
    }
}

/// Refuses policies that cannot go together, as Temporal does, and search
/// attributes not `registered` with their values' types.
fn check_policies(
    req: &StartWorkflowRequest,
    registered: &BTreeMap<String, crate::search_attributes::SearchAttributeType>,
) -> Result<(), BackendError> {
    let attributes = &req.run_options.search_attributes;
    crate::visibility::check_attributes(attributes.iter().map(|(n, v)| (n, Some(v))), registered)?;
    crate::visibility::check_total(attributes)?;
    if req.id_reuse_policy == IdReusePolicy::TerminateIfRunning
        && req.id_conflict_policy != IdConflictPolicy::Fail
    {
        return Err(BackendError::InvalidArgument(
            "the id reuse policy TerminateIfRunning cannot be used together with an id \
             conflict policy: leave the conflict policy at Fail, or use \
             IdConflictPolicy::TerminateExisting instead"
                .into(),
        ));
    }
    if let Some(policy) = &req.run_options.retry_policy {
        policy
            .validate()
            .map_err(|e| BackendError::InvalidArgument(format!("retry policy: {e}")))?;
    }
    Ok(())
}

impl EngineTask {
    /// Closes a run: its final row goes into the batch, waiters get the
    /// outcome once that commits, and it leaves memory.
    pub fn close_run(&mut self, key: &RunKey, outcome: RunOutcome, now: SystemTime) {
        let Some(mut run) = self.runs.remove(key) else {
            return;
        };
        let status = match outcome {
            RunOutcome::Completed(_) => RunStatus::Completed,
            RunOutcome::Failed(_) => RunStatus::Failed,
            RunOutcome::ContinuedAsNew { .. } => RunStatus::ContinuedAsNew,
            RunOutcome::Canceled(_) => RunStatus::Canceled,
            RunOutcome::Terminated(_) => RunStatus::Terminated,
            RunOutcome::TimedOut(_) => RunStatus::TimedOut,
            RunOutcome::Retried {
                timed_out: true, ..
            } => RunStatus::TimedOut,
            RunOutcome::Retried { .. } => RunStatus::Failed,
        };
        run.state.status = status;
        run.state.close_time = Some(now);
        run.state.outcome = Some(outcome.clone());
        run.state.wft = WftState::Idle;
        for id in run.state.activities.keys() {
            self.deadlines.disarm_activity(key, *id);
        }
        for id in run.state.timers.keys() {
            self.deadlines.disarm_timer(key, *id);
        }
        self.deadlines.disarm_run_timeout(key);
        run.state.activities.clear();
        run.state.timers.clear();
        run.state.signal_request_ids.clear();
        self.close_updates(key, &mut run.state);
        // The final row, and the removal of the activities' rows.
        if let Err(e) = run.writes(&mut self.batch.ops) {
            self.batch.fatal.get_or_insert(e);
        }
        self.batch.dirty.remove(key);
        if let Some(latest) = self
            .latest
            .get_mut(&(key.namespace.to_string(), run.state.workflow_id.clone()))
            && *latest.run_id == *key.run_id
        {
            latest.status = status;
        }
        self.scheduled_run_closed(&key.namespace, &run.state.workflow_id, &outcome, now);
        for tx in run.waiters {
            self.reply(tx, Ok(Lookup::Now(outcome.clone())));
        }
        // A child chain's runs keep their parent; only its last run's close
        // reaches the parent.
        self.child_closed(key, &run.state, &outcome, now);
        let children = std::mem::take(&mut run.state.children);
        self.apply_parent_close_policies(key, &run.state.workflow_id, children);
    }
}

/// A new run id: a UUID in the time-ordered layout (version 7). Runs started
/// close together get neighbouring ids, so their rows and events land on the
/// same few pages of the store's indexes instead of one random page each.
pub(super) fn new_run_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// The state of a run just opened: running, its first workflow task ready.
fn fresh_state(new: &NewRun, run_id: &str, first_run_id: &str, now: SystemTime) -> RunState {
    RunState {
        namespace: new.namespace.clone(),
        workflow_id: new.workflow_id.clone(),
        run_id: run_id.to_string(),
        workflow_type: new.workflow_type.clone(),
        task_queue: new.task_queue.clone(),
        request_id: new.request_id.clone(),
        status: RunStatus::Running,
        start_time: now,
        close_time: None,
        outcome: None,
        next_event_id: 1,
        events_since: 1,
        wft: WftState::Ready {
            scheduled_time: now,
        },
        wft_attempt: 1,
        last_wft_failure: None,
        wft_seq: 0,
        buffered: Vec::new(),
        activities: BTreeMap::new(),
        timers: BTreeMap::new(),
        signal_request_ids: Default::default(),
        updates: BTreeMap::new(),
        update_seq: 0,
        update_completions: 0,
        new_events: true,
        wft_scheduled_event: None,
        first_run_id: first_run_id.to_string(),
        previous_runs: Vec::new(),
        history_size_bytes: 0,
        cancel_requested: false,
        parent: new.parent.clone(),
        children: BTreeMap::new(),
        run_options: new.run_options.clone(),
        attempt: new.attempt,
        execution_deadline: new.execution_deadline,
        first_task_backoff: new.backoff,
        retry_input: new
            .run_options
            .retry_policy
            .is_some()
            .then(|| new.input.clone()),
    }
}
