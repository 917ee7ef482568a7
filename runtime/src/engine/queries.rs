//! Queries: a query becomes a query task for a worker of the run's task
//! queue, handed out only while no workflow task of the run is in flight
//! (and once the run has completed its first workflow task), so the worker
//! answers from committed state. Nothing is written; the worker's answer
//! goes straight back to the caller.

use tokio::sync::oneshot;

use crate::backend::{BackendError, QueryRequest, TaskToken, WorkflowTask};
use crate::converter::Payload;
use crate::failure::Failure;

use super::deadlines::{Deadline, later};
use super::effects::Effect;
use super::engine_task::EngineTask;
use super::reads::Resolved;
use super::requests::{Lookup, Target, Tx, not_found};
use super::runs::{check_id, check_run_id};
use super::state::{RunKey, WftState};
use super::writer::Reading;

/// Where the worker's answer goes.
pub(crate) type AnswerTx = oneshot::Sender<Result<Payload, BackendError>>;
pub(crate) type AnswerRx = oneshot::Receiver<Result<Payload, BackendError>>;

/// A query and the run it goes to.
#[derive(Clone, Debug)]
pub(crate) struct QueryItem {
    pub key: RunKey,
    pub workflow_id: String,
    pub workflow_type: String,
    pub task_queue: String,
    pub request: QueryRequest,
}

/// A query waiting for its answer.
pub(crate) struct PendingQuery {
    pub item: QueryItem,
    pub answer: AnswerTx,
    /// Handed to a worker (a timeout then hands it out again).
    pub delivered: bool,
    /// Counts deliveries, so a stale timeout is ignored.
    pub deliveries: u32,
}

impl EngineTask {
    /// A query of a run: a query task for an open run, or the stored row of
    /// a closed one (the caller replays its history to answer).
    pub(super) fn query(&mut self, request: QueryRequest, tx: Tx<Lookup<AnswerRx>>) {
        let result = self.check_query(&request).and_then(|()| {
            let target = Target {
                namespace: request.namespace.clone(),
                workflow_id: request.workflow_id.clone(),
                run_id: request.run_id.clone(),
            };
            match self.resolve(&target)? {
                Resolved::Open(key) => {
                    let Some(run) = self.runs.get(&key) else {
                        return Err(not_found(&target));
                    };
                    let item = QueryItem {
                        key,
                        workflow_id: run.state.workflow_id.clone(),
                        workflow_type: run.state.workflow_type.clone(),
                        task_queue: run.state.task_queue.clone(),
                        request,
                    };
                    Ok(Lookup::Now(self.add_query(item)))
                }
                Resolved::Stored(run_id) => self
                    .read(&target.namespace, run_id, Reading::Row)
                    .map(Lookup::Stored),
            }
        });
        self.reply(tx, result);
    }

    pub(super) fn check_query(&self, request: &QueryRequest) -> Result<(), BackendError> {
        check_id("namespace", &request.namespace)?;
        check_id("workflow id", &request.workflow_id)?;
        check_id("query name", &request.query_name)?;
        check_run_id(request.run_id.as_deref())?;
        self.options.payload_limits.check(
            &format!("input of query {:?}", request.query_name),
            &request.input,
        )?;
        Ok(())
    }

    /// Registers a query; it is handed out now or once the run's workflow
    /// task in flight is done.
    pub(super) fn add_query(&mut self, item: QueryItem) -> AnswerRx {
        let (answer, rx) = oneshot::channel();
        self.next_query_id += 1;
        let id = self.next_query_id;
        let key = item.key.clone();
        self.queries.insert(
            id,
            PendingQuery {
                item,
                answer,
                delivered: false,
                deliveries: 0,
            },
        );
        if self.runs.contains_key(&key) && !self.run_takes_queries(&key) {
            self.parked_queries.entry(key).or_default().push(id);
        } else {
            self.effects.push(Effect::EnqueueQuery(id));
        }
        rx
    }

    /// Whether an open run's state is committed and settled: no workflow
    /// task in flight, and its first one completed.
    fn run_takes_queries(&self, key: &RunKey) -> bool {
        self.runs.get(key).is_some_and(|run| {
            !matches!(run.state.wft, WftState::Started { .. }) && run.state.events_since > 1
        })
    }

    /// Hands out the queries parked on runs that now take them (and those
    /// of runs that closed). Called before each flush, so they go out after
    /// the commit that settled the run.
    pub(super) fn release_parked_queries(&mut self) {
        if self.parked_queries.is_empty() {
            return;
        }
        let ready: Vec<RunKey> = self
            .parked_queries
            .keys()
            .filter(|key| !self.runs.contains_key(key) || self.run_takes_queries(key))
            .cloned()
            .collect();
        for key in ready {
            for id in self.parked_queries.remove(&key).unwrap_or_default() {
                self.effects.push(Effect::EnqueueQuery(id));
            }
        }
    }

    /// Puts a query in its task queue's line.
    pub(super) fn enqueue_query(&mut self, id: i64, front: bool) {
        let Some(pending) = self.queries.get(&id) else {
            return;
        };
        if pending.answer.is_closed() {
            // The caller stopped waiting.
            self.queries.remove(&id);
            return;
        }
        let queue = (
            pending.item.key.namespace.clone(),
            pending.item.task_queue.as_str().into(),
        );
        let line = self.query_queues.entry(queue.clone()).or_default();
        if front {
            line.push_front(id);
        } else {
            line.push_back(id);
        }
        self.match_wft(&queue);
    }

    /// The query task for query `id`, or `None` if it cannot go out now
    /// (answered, abandoned, or parked behind a workflow task).
    pub(super) fn start_query(&mut self, id: i64) -> Option<WorkflowTask> {
        let pending = self.queries.get(&id)?;
        if pending.answer.is_closed() {
            self.queries.remove(&id);
            return None;
        }
        let key = pending.item.key.clone();
        if self.runs.contains_key(&key) && !self.run_takes_queries(&key) {
            self.parked_queries.entry(key).or_default().push(id);
            return None;
        }
        let now = self.now();
        let timeout = self.options.workflow_task_timeout;
        let incarnation = self.incarnation;
        let (events, first_event_id, history_length, size) = match self.runs.get(&key) {
            Some(run) => (
                run.recent.clone(),
                run.state.events_since,
                run.state.history_length(),
                run.state.history_size_bytes,
            ),
            // A closed run: the worker replays its full history.
            None => (Vec::new(), 0, 0, 0),
        };
        let pending = self.queries.get_mut(&id)?;
        pending.delivered = true;
        pending.deliveries += 1;
        let delivery = pending.deliveries;
        let item = &pending.item;
        self.deadlines
            .arm(later(now, timeout), Deadline::QueryTimeout { id, delivery });
        Some(WorkflowTask {
            token: TaskToken {
                namespace: key.namespace.to_string(),
                run_id: key.run_id.to_string(),
                task_id: id,
                attempt: 0,
                incarnation,
            },
            workflow_id: item.workflow_id.clone(),
            workflow_type: item.workflow_type.clone(),
            events,
            first_event_id,
            history_length,
            started_time: now,
            attempt: 1,
            timeout,
            history_size_bytes: size,
            suggest_continue_as_new: false,
            updates: Vec::new(),
            query: Some(item.request.clone()),
        })
    }

    /// A query task's poller left before receiving it, or its worker did
    /// not answer in time: hand it out again.
    pub(super) fn requeue_query(&mut self, id: i64) {
        if let Some(pending) = self.queries.get_mut(&id) {
            pending.delivered = false;
            self.enqueue_query(id, true);
        }
    }

    pub(super) fn query_timed_out(&mut self, id: i64, delivery: u32) {
        if self
            .queries
            .get(&id)
            .is_some_and(|p| p.delivered && p.deliveries == delivery)
        {
            tracing::warn!(
                query_id = id,
                "query task not answered in time; handing it out again"
            );
            self.requeue_query(id);
        }
    }

    pub(super) fn respond_query(
        &mut self,
        token: &TaskToken,
        result: Result<Payload, Failure>,
    ) -> Result<(), BackendError> {
        let known = token.incarnation == self.incarnation
            && self.queries.get(&token.task_id).is_some_and(|p| {
                p.delivered
                    && *p.item.key.run_id == *token.run_id
                    && *p.item.key.namespace == *token.namespace
            });
        if !known {
            return Err(BackendError::TaskNotFound(
                "no such query task (answered already, timed out, or from before a restart)".into(),
            ));
        }
        if let Some(pending) = self.queries.remove(&token.task_id) {
            let limits = &self.options.payload_limits;
            let answer = match result {
                Ok(payload) => limits
                    .check("query answer", [&payload])
                    .map(|()| payload)
                    .map_err(BackendError::from),
                Err(failure) => Err(BackendError::QueryFailed(failure.truncated())),
            };
            // The caller may have stopped waiting.
            let _ = pending.answer.send(answer);
        }
        Ok(())
    }

    /// Fails every query waiting (engine stopping or shutting down).
    pub(super) fn fail_queries(&mut self, error: &BackendError) {
        self.parked_queries.clear();
        self.query_queues.clear();
        for (_, pending) in self.queries.drain() {
            let _ = pending.answer.send(Err(error.clone()));
        }
    }
}
