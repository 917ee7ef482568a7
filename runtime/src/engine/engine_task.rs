//! The engine task: sole owner of the authoritative in-memory state (open
//! runs, latest run per workflow id, task queues, deadlines) and of the
//! order in which changes reach the store.
//!
//! Each request becomes store ops plus effects (replies, task dispatch).
//! Ops go to the writer thread as numbered batches; effects wait for their
//! batch's commit (or, when they have no ops of their own, for the newest
//! batch in flight), so nothing is acknowledged, and no activity or query
//! handed out, before it is durable. Workflow tasks are the exception
//! (`Effect::is_unheld`): they only compute, and their completions commit
//! after what they read. A failed commit stops the engine for good
//! (fail-stop).
//!
//! Where the rest lives: requests and replies in `requests`, effects and
//! flushing in `effects`, deadlines in `deadlines`, task queues in
//! `queues`, open runs in `open_run`; run start/close/restore in `runs`,
//! workflow tasks in `tasks` and `completion`, activities in `activities`,
//! timers in `timers`, reads of runs in `reads`, queries in `queries`.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::Arc;
use std::sync::mpsc as std_mpsc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use futures::future::BoxFuture;
use tokio::sync::{mpsc, oneshot};

use crate::backend::{BackendError, RunStatus};

use super::deadlines::Deadlines;
use super::effects::{Effect, fail_effect};
use super::open_run::{Batch, Runs};
use super::pacing::Pacing;
use super::queries::PendingQuery;
use super::queues::{ActivityQueue, WftQueue};
use super::requests::{QueueKey, Request};
use super::schedules::Schedules;
use super::state::{ActivityPhase, RunKey, WftState};
use super::writer::{WriterEvent, WriterMsg};
use super::{Clock, EngineOptions};

pub(crate) struct Latest {
    pub run_id: String,
    /// The first run of its continue-as-new chain (empty when unknown: a
    /// closed run read at start-up). A run id naming it addresses the chain.
    pub first_run_id: String,
    pub status: RunStatus,
    pub request_id: String,
}

pub(crate) struct EngineTask {
    pub(super) options: EngineOptions,
    pub(super) clock: Arc<dyn Clock>,
    pub(super) incarnation: u64,
    pub(super) runs: Runs,
    pub(super) latest: FastMap<(String, String), Latest>,
    pub(super) wft_queues: FastMap<QueueKey, WftQueue>,
    pub(super) act_queues: FastMap<QueueKey, ActivityQueue>,
    pub(super) deadlines: Deadlines,
    pub(super) batch: Batch,
    pub(super) effects: Vec<Effect>,
    /// Queries waiting for an answer, by query id.
    pub(super) queries: FastMap<i64, PendingQuery>,
    pub(super) next_query_id: i64,
    /// Queries waiting for a run's workflow task in flight to end.
    pub(super) parked_queries: BTreeMap<RunKey, Vec<i64>>,
    /// Queries ready to go out, per task queue (served before workflow tasks).
    pub(super) query_queues: FastMap<QueueKey, VecDeque<i64>>,
    /// Callers waiting for an update's outcome, by (run, update id).
    pub(super) update_waiters: FastMap<(RunKey, String), Vec<super::queries::AnswerTx>>,
    pub(super) in_flight: VecDeque<(u64, Vec<Effect>)>,
    pub(super) next_batch: u64,
    /// Whether a batch waits for the workflow tasks it handed out.
    pub(super) pacing: Pacing,
    pub(super) writer: Option<std_mpsc::Sender<WriterMsg>>,
    pub(super) writer_events: mpsc::UnboundedReceiver<WriterEvent>,
    pub(super) stopped: Option<String>,
    pub(super) closing: bool,
    pub(super) shutdown_replies: Vec<oneshot::Sender<()>>,
    pub(super) finished: bool,
    pub(super) schedules: Schedules,
    /// While a completion's commands are applied: the run, and the facts
    /// its commands produced for it (a child started, a signal delivered),
    /// written after every command's own events, as Temporal orders them.
    pub(super) held: Option<(RunKey, Vec<super::state::Incoming>)>,
}

/// The most requests handled between two flushes.
const DRAIN: usize = 64;

/// The engine's maps: keys are its own ids or the names requests carry,
/// hashed with foldhash, which costs a fraction of std's SipHash.
pub(crate) type FastMap<K, V> = HashMap<K, V, foldhash::fast::RandomState>;

pub(crate) fn random_u64() -> u64 {
    uuid::Uuid::new_v4().as_u64_pair().0
}

impl EngineTask {
    pub fn new(
        options: EngineOptions,
        writer_events: mpsc::UnboundedReceiver<WriterEvent>,
    ) -> EngineTask {
        let pacing = Pacing::new(options.workflow_task_hold);
        EngineTask {
            clock: options.clock.clone(),
            options,
            incarnation: random_u64(),
            runs: Runs::default(),
            latest: FastMap::default(),
            wft_queues: FastMap::default(),
            act_queues: FastMap::default(),
            deadlines: Deadlines::default(),
            batch: Batch::default(),
            effects: Vec::new(),
            queries: FastMap::default(),
            next_query_id: 0,
            parked_queries: BTreeMap::new(),
            query_queues: FastMap::default(),
            update_waiters: FastMap::default(),
            in_flight: VecDeque::new(),
            next_batch: 0,
            pacing,
            writer: None,
            writer_events,
            stopped: None,
            closing: false,
            shutdown_replies: Vec::new(),
            finished: false,
            schedules: Schedules::default(),
            held: None,
        }
    }

    pub fn set_writer(&mut self, writer: std_mpsc::Sender<WriterMsg>) {
        self.writer = Some(writer);
    }

    /// The clock's time cut to whole milliseconds, the precision history
    /// stores: a task's events and times then equal what replay reads back.
    pub fn now(&self) -> SystemTime {
        let now = self.clock.now();
        match now.duration_since(UNIX_EPOCH) {
            Ok(since) => {
                let ms = u64::try_from(since.as_millis()).unwrap_or(u64::MAX);
                UNIX_EPOCH
                    .checked_add(Duration::from_millis(ms))
                    .unwrap_or(now)
            }
            Err(_) => UNIX_EPOCH,
        }
    }

    /// The engine task's loop.
    pub async fn run(mut self, mut requests: mpsc::Receiver<Request>) {
        self.flush();
        while !self.finished {
            if !self.closing
                && self.stopped.is_none()
                && self.clock.skips_time()
                && requests.is_empty()
                && self.is_idle()
            {
                // Deadlines of work that ended are dropped first: time
                // jumps only to one that still means something.
                while let Some((_, deadline)) = self.deadlines.first() {
                    if self.is_live(deadline) {
                        break;
                    }
                    self.deadlines.pop_first();
                }
                if let Some(at) = self.deadlines.next() {
                    self.clock.skip_to(at);
                }
            }
            let sleep: BoxFuture<'static, ()> = match self.deadlines.next() {
                Some(at) if !self.closing && self.stopped.is_none() => self.clock.sleep_until(at),
                _ => Box::pin(futures::future::pending()),
            };
            let held_until = self.pacing.deadline();
            tokio::select! {
                biased;
                event = self.writer_events.recv() => self.on_writer_event(event),
                request = requests.recv(), if !self.closing => match request {
                    Some(request) => {
                        self.handle(request);
                        self.handle_queued(&mut requests);
                    }
                    None => self.begin_shutdown(None),
                },
                () = sleep => self.fire_due(),
                // A held batch's time is up: the flush below sends it.
                () = until(held_until) => {}
            }
            self.flush();
        }
    }

    /// Handles the requests already queued, up to `DRAIN` of them, before
    /// the flush: their ops go to the writer as one batch, a run changed by
    /// several of them is written once, and the loop's own work (its
    /// timers, the select) is done once for all of them.
    /// Without group commit each request's batch is its own transaction,
    /// so each is flushed on its own.
    fn handle_queued(&mut self, requests: &mut mpsc::Receiver<Request>) {
        if !self.options.group_commit {
            return;
        }
        for _ in 1..DRAIN {
            if self.closing {
                return;
            }
            match requests.try_recv() {
                Ok(request) => self.handle(request),
                Err(mpsc::error::TryRecvError::Empty) => return,
                Err(mpsc::error::TryRecvError::Disconnected) => {
                    self.begin_shutdown(None);
                    return;
                }
            }
        }
    }

    /// Whether nothing can happen before the next deadline: everything is
    /// committed and handed out, and no workflow task, activity or query
    /// is waiting for a worker or running on one. Asked only with a
    /// time-skipping clock: it walks every open run.
    fn is_idle(&self) -> bool {
        self.in_flight.is_empty()
            && self.effects.is_empty()
            && self.queries.is_empty()
            && self.runs.values().all(|run| {
                matches!(run.state.wft, WftState::Idle | WftState::Backoff { .. })
                    && run
                        .state
                        .activities
                        .values()
                        .all(|a| matches!(a.phase, ActivityPhase::Backoff { .. }))
            })
    }

    fn handle(&mut self, request: Request) {
        if let Some(reason) = self.stopped.clone() {
            if let Some(tx) = request.reject(BackendError::Stopped(reason)) {
                self.begin_shutdown(Some(tx));
            }
            return;
        }
        match request {
            Request::Start(req, tx) => {
                let result = self.start(*req);
                self.reply(tx, result);
            }
            Request::Signal(req, tx) => {
                let result = self.signal(*req);
                self.reply(tx, result);
            }
            Request::SignalWithStart(req, tx) => {
                let result = self.signal_with_start(*req);
                self.reply(tx, result);
            }
            Request::Cancel(req, tx) => {
                let result = self.request_cancel(*req);
                self.reply(tx, result);
            }
            Request::Terminate(req, tx) => {
                let result = self.terminate(*req);
                self.reply(tx, result);
            }
            Request::Heartbeat(token, details, tx) => {
                let result = self.heartbeat(&token, details);
                self.reply(tx, result);
            }
            Request::PollWorkflowTask(queue, tx) => self.poll_wft(queue, tx),
            Request::CompleteWorkflowTask(completion, tx) => {
                let result = self.complete_wft(*completion);
                self.reply(tx, result);
            }
            Request::FailWorkflowTask {
                token,
                failure,
                nondeterminism,
                tx,
            } => {
                let result = self.fail_wft(&token, *failure, nondeterminism);
                self.reply(tx, result);
            }
            Request::PollActivityTask(queue, tx) => self.poll_activity(queue, tx),
            Request::CompleteActivityTask(token, result, tx) => {
                let result = self.complete_activity(&token, *result);
                self.reply(tx, result);
            }
            Request::Describe(target, tx) => self.describe(target, tx),
            Request::History(target, tx) => self.history(target, tx),
            Request::WaitResult(target, tx) => self.wait_result(target, tx),
            Request::Query(request, tx) => self.query(*request, tx),
            Request::QueryClosed(item, tx) => {
                let rx = self.add_query(*item);
                self.reply(tx, Ok(rx));
            }
            Request::RespondQuery(token, result, tx) => {
                let result = self.respond_query(&token, *result);
                self.reply(tx, result);
            }
            Request::Update(request, tx) => {
                let result = self.update(*request);
                self.reply(tx, result);
            }
            Request::UpdateWithStart(request, tx) => {
                let (start, update) = *request;
                let result = self.update_with_start(start, update);
                self.reply(tx, result);
            }
            Request::WaitDurable(tx) => self.reply_when_durable(tx),
            Request::Visibility(call, tx) => self.visibility(*call, tx),
            Request::Schedule(call) => self.schedule_call(*call),
            Request::Backlog(tx) => drop(tx.send(Ok(self.backlog()))),
            Request::Shutdown(tx) => self.begin_shutdown(Some(tx)),
        }
    }

    /// Fail-stop: nothing pending is acknowledged, nothing later is accepted.
    /// The key of the open run `run_id` of `namespace`.
    pub(super) fn open_key(&self, namespace: &str, run_id: &str) -> Option<RunKey> {
        self.runs.find(namespace, run_id).map(|run| run.key.clone())
    }

    pub(super) fn stop(&mut self, reason: String) {
        if self.stopped.is_some() {
            return;
        }
        tracing::error!(%reason, "engine stopped");
        self.stopped = Some(reason.clone());
        for (_, effects) in std::mem::take(&mut self.in_flight) {
            for effect in effects {
                fail_effect(effect, &reason);
            }
        }
        for effect in std::mem::take(&mut self.effects) {
            fail_effect(effect, &reason);
        }
        self.batch = Batch::default();
        self.pacing = Pacing::new(self.options.workflow_task_hold);
        let err = || BackendError::Stopped(reason.clone());
        for (_, q) in self.wft_queues.drain() {
            for tx in q.pollers {
                let _ = tx.send(Err(err()));
            }
        }
        for (_, q) in self.act_queues.drain() {
            for tx in q.pollers {
                let _ = tx.send(Err(err()));
            }
        }
        for run in self.runs.drain() {
            for tx in run.waiters {
                let _ = tx.send(Err(err()));
            }
        }
        self.deadlines = Deadlines::default();
        self.fail_queries(&err());
        self.fail_update_waiters(&err());
    }

    fn begin_shutdown(&mut self, reply: Option<oneshot::Sender<()>>) {
        self.shutdown_replies.extend(reply);
        if self.closing {
            return;
        }
        self.closing = true;
        for (_, q) in self.wft_queues.iter_mut() {
            for tx in q.pollers.drain(..) {
                let _ = tx.send(Ok(None));
            }
        }
        for (_, q) in self.act_queues.iter_mut() {
            for tx in q.pollers.drain(..) {
                let _ = tx.send(Ok(None));
            }
        }
        for run in self.runs.values_mut() {
            for tx in run.waiters.drain(..) {
                let _ = tx.send(Err(BackendError::Stopped("the engine shut down".into())));
            }
        }
        let err = BackendError::Stopped("the engine shut down".into());
        self.fail_queries(&err);
        self.fail_update_waiters(&err);
    }
}

/// Waits for a real-time instant, or for ever when there is none.
async fn until(at: Option<std::time::Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at.into()).await,
        None => futures::future::pending().await,
    }
}
