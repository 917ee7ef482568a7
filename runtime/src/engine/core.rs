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
//! Run start/close/restore live in `runs.rs`, workflow task rules in
//! `tasks.rs`, activities, timers and deadlines in `activities.rs`.

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::sync::Arc;
use std::sync::mpsc as std_mpsc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use futures::future::BoxFuture;
use serde::Serialize;
use tokio::sync::{mpsc, oneshot};

use crate::backend::{
    ActivityTask, ActivityTaskResult, BackendError, CancelRequest, Description, HeartbeatResponse,
    QueryRequest, RunOutcome, RunStatus, SignalRequest, StartWorkflowRequest,
    StartWorkflowResponse, TaskToken, TerminateRequest, UpdateRequest, WorkflowTask,
    WorkflowTaskCompletion,
};
use crate::converter::Payload;
use crate::failure::Failure;
use crate::history::{Event, EventAttributes};

use super::queries::{AnswerRx, PendingQuery, QueryItem};
use super::state::{ActivityPhase, PendingActivity, RunKey, RunState, WftState};
use super::store::StoreOp;
use super::updates::UpdateRecord;
use super::writer::{ReadReply, Reading, StoredRun, WriterEvent, WriterMsg};
use super::{Clock, EngineOptions};

pub(crate) type Tx<T> = oneshot::Sender<Result<T, BackendError>>;
pub(crate) type StoredRx = oneshot::Receiver<Result<Option<StoredRun>, BackendError>>;

/// An answer either known now or to be read from the store (closed runs,
/// histories), which the caller awaits without holding up the engine.
pub(crate) enum Lookup<T> {
    Now(T),
    Stored(StoredRx),
}

/// Which run a read asks for.
#[derive(Clone, Debug)]
pub(crate) struct Target {
    pub namespace: String,
    pub workflow_id: String,
    pub run_id: Option<String>,
}

pub(crate) enum Request {
    Start(Box<StartWorkflowRequest>, Tx<StartWorkflowResponse>),
    Signal(Box<SignalRequest>, Tx<()>),
    Cancel(Box<CancelRequest>, Tx<()>),
    Terminate(Box<TerminateRequest>, Tx<()>),
    Heartbeat(TaskToken, Vec<Payload>, Tx<HeartbeatResponse>),
    SignalWithStart(Box<SignalWithStart>, Tx<StartWorkflowResponse>),
    PollWorkflowTask(QueueKey, Tx<Option<WorkflowTask>>),
    CompleteWorkflowTask(Box<WorkflowTaskCompletion>, Tx<()>),
    FailWorkflowTask {
        token: TaskToken,
        failure: Box<Failure>,
        nondeterminism: bool,
        tx: Tx<()>,
    },
    PollActivityTask(QueueKey, Tx<Option<ActivityTask>>),
    CompleteActivityTask(TaskToken, Box<ActivityTaskResult>, Tx<()>),
    Describe(Target, Tx<Lookup<Description>>),
    History(Target, Tx<StoredRx>),
    WaitResult(Target, Tx<Lookup<RunOutcome>>),
    Query(Box<QueryRequest>, Tx<Lookup<AnswerRx>>),
    QueryClosed(Box<QueryItem>, Tx<AnswerRx>),
    RespondQuery(TaskToken, Box<Result<Payload, Failure>>, Tx<()>),
    Update(Box<UpdateRequest>, Tx<Lookup<AnswerRx>>),
    UpdateWithStart(
        Box<(StartWorkflowRequest, UpdateRequest)>,
        Tx<(StartWorkflowResponse, Lookup<AnswerRx>)>,
    ),
    WaitDurable(Tx<()>),
    Shutdown(oneshot::Sender<()>),
}

/// A signal-with-start request's parts.
pub(crate) struct SignalWithStart {
    pub start: StartWorkflowRequest,
    pub signal_name: String,
    pub input: Vec<Payload>,
}

/// (namespace, task queue).
pub(crate) type QueueKey = (String, String);

/// A reply held until its batch commits; it can still be turned into an error.
pub(crate) trait Reply: Send {
    fn send(self: Box<Self>);
    fn fail(self: Box<Self>, error: BackendError);
}

struct Held<T> {
    tx: Tx<T>,
    value: Result<T, BackendError>,
}

impl<T: Send> Reply for Held<T> {
    fn send(self: Box<Self>) {
        // The caller may have stopped waiting; nothing to undo for a reply.
        let _ = self.tx.send(self.value);
    }
    fn fail(self: Box<Self>, error: BackendError) {
        let _ = self.tx.send(Err(error));
    }
}

pub(crate) enum Effect {
    Reply(Box<dyn Reply>),
    EnqueueWft(RunKey),
    EnqueueActivity(RunKey, i64, u32),
    EnqueueQuery(i64),
    DeliverWft(Tx<Option<WorkflowTask>>, Box<WorkflowTask>, RunKey),
    DeliverActivity(Tx<Option<ActivityTask>>, Box<ActivityTask>, RunKey),
}

impl Effect {
    /// Whether the effect may happen before the batch it came with is
    /// durable (see `Core::execute_unheld`). A query task waits: its answer
    /// goes to a client, and the worker may answer from events and
    /// completions still on their way to disk. An activity task reaches the
    /// ready queue only through `EnqueueActivity`, which waits for the
    /// commit of its schedule (or is an attempt already handed out once), so
    /// handing it to a poller need not wait again.
    fn is_unheld(&self) -> bool {
        match self {
            Effect::EnqueueWft(_) | Effect::DeliverActivity(..) => true,
            Effect::DeliverWft(_, task, _) => task.query.is_none(),
            Effect::Reply(_) | Effect::EnqueueActivity(..) | Effect::EnqueueQuery(_) => false,
        }
    }
}

/// Something the engine must do at a time; checked against the current
/// state when it fires, so stale entries are simply ignored.
#[derive(Clone, Debug)]
pub(crate) enum Deadline {
    WftTimeout {
        run: RunKey,
        task_id: i64,
    },
    WftBackoff {
        run: RunKey,
    },
    ActivityRetry {
        run: RunKey,
        id: i64,
        attempt: u32,
    },
    /// `started` tells this dispatch of the attempt from an earlier one that
    /// never reached its worker.
    ActivityStartToClose {
        run: RunKey,
        id: i64,
        attempt: u32,
        started: SystemTime,
    },
    ActivityScheduleToStart {
        run: RunKey,
        id: i64,
        attempt: u32,
    },
    /// Checks the attempt heartbeated within its heartbeat timeout
    /// (re-armed from the last heartbeat, not on each one).
    ActivityHeartbeat {
        run: RunKey,
        id: i64,
        attempt: u32,
        started: SystemTime,
    },
    ActivityScheduleToClose {
        run: RunKey,
        id: i64,
    },
    Timer {
        run: RunKey,
        started_event_id: i64,
    },
    QueryTimeout {
        id: i64,
        delivery: u32,
    },
}

#[derive(Default)]
pub(crate) struct Deadlines {
    map: BTreeMap<(SystemTime, u64), Deadline>,
    seq: u64,
    owned: HashMap<Owner, (SystemTime, u64)>,
}

/// What a long-lived deadline belongs to, so it can be dropped when that
/// ends early (a cancelled timer, a closed activity) instead of lingering
/// until it falls due.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum Owner {
    Timer(RunKey, i64),
    ScheduleToClose(RunKey, i64),
}

impl Deadline {
    fn owner(&self) -> Option<Owner> {
        match self {
            Deadline::Timer {
                run,
                started_event_id,
            } => Some(Owner::Timer(run.clone(), *started_event_id)),
            Deadline::ActivityScheduleToClose { run, id } => {
                Some(Owner::ScheduleToClose(run.clone(), *id))
            }
            _ => None,
        }
    }
}

impl Deadlines {
    pub fn arm(&mut self, at: SystemTime, deadline: Deadline) {
        self.seq += 1;
        if let Some(owner) = deadline.owner()
            && let Some(old) = self.owned.insert(owner, (at, self.seq))
        {
            self.map.remove(&old);
        }
        self.map.insert((at, self.seq), deadline);
    }

    /// Drops a timer's deadline (it was cancelled, or its run closed).
    pub fn disarm_timer(&mut self, run: &RunKey, started_event_id: i64) {
        if let Some(key) = self
            .owned
            .remove(&Owner::Timer(run.clone(), started_event_id))
        {
            self.map.remove(&key);
        }
    }

    /// Drops an activity's schedule-to-close deadline (it closed).
    pub fn disarm_activity(&mut self, run: &RunKey, id: i64) {
        if let Some(key) = self.owned.remove(&Owner::ScheduleToClose(run.clone(), id)) {
            self.map.remove(&key);
        }
    }

    fn first(&self) -> Option<(SystemTime, &Deadline)> {
        self.map.first_key_value().map(|(k, d)| (k.0, d))
    }

    fn pop_first(&mut self) -> Option<Deadline> {
        let deadline = self.map.pop_first()?.1;
        if let Some(owner) = deadline.owner() {
            self.owned.remove(&owner);
        }
        Some(deadline)
    }

    fn next(&self) -> Option<SystemTime> {
        self.first().map(|(at, _)| at)
    }

    fn pop_due(&mut self, now: SystemTime) -> Option<Deadline> {
        if self.next()? > now {
            return None;
        }
        self.pop_first()
    }
}

/// `t + d`, saturating far in the future instead of overflowing.
///
/// Rounded up to a whole millisecond: the engine's `now()` is cut to
/// milliseconds, so a deadline between two of them would never read as due
/// and the loop would spin until the next one (forever on a virtual clock).
pub(crate) fn later(t: SystemTime, d: Duration) -> SystemTime {
    const FAR: Duration = Duration::from_secs(10_000 * 365 * 86_400);
    let d = d.min(FAR);
    let sub_ms = d.subsec_nanos() % 1_000_000;
    let d = if sub_ms == 0 {
        d
    } else {
        d + Duration::from_nanos(u64::from(1_000_000 - sub_ms))
    };
    t.checked_add(d).unwrap_or(t)
}

#[cfg(test)]
mod later_tests {
    use super::*;

    #[test]
    fn deadlines_round_up_to_whole_milliseconds() {
        let t = UNIX_EPOCH + Duration::from_millis(1_000);
        assert_eq!(
            later(t, Duration::from_micros(1_500)),
            t + Duration::from_millis(2)
        );
        assert_eq!(
            later(t, Duration::from_millis(3)),
            t + Duration::from_millis(3)
        );
        assert_eq!(
            later(t, Duration::from_nanos(1)),
            t + Duration::from_millis(1)
        );
        assert!(later(t, Duration::MAX) > t);
    }
}

/// Store ops and dirty runs gathered while handling requests.
#[derive(Default)]
pub(crate) struct Batch {
    pub ops: Vec<StoreOp>,
    pub dirty: BTreeSet<RunKey>,
    /// Set when something could not be serialized: the engine must stop.
    pub fatal: Option<String>,
}

/// An open run in memory.
pub(crate) struct Run {
    pub state: RunState,
    /// Events with id >= `state.events_since`: the next workflow task's events.
    pub recent: Vec<Event>,
    pub waiters: Vec<Tx<Lookup<RunOutcome>>>,
    /// The pending activities as last sent to the store: a write sends only
    /// the ones that differ.
    pub stored_activities: BTreeMap<i64, PendingActivity>,
    /// The updates as last sent to the store, likewise.
    pub stored_updates: BTreeMap<String, UpdateRecord>,
}

impl Run {
    pub fn new(state: RunState, recent: Vec<Event>) -> Run {
        Run {
            state,
            recent,
            waiters: Vec::new(),
            stored_activities: BTreeMap::new(),
            stored_updates: BTreeMap::new(),
        }
    }

    /// The run's row, and the activity and update writes that bring the
    /// store up to date with memory.
    pub fn writes(&mut self, ops: &mut Vec<StoreOp>) -> Result<(), String> {
        ops.push(StoreOp::PutExecution(self.state.to_row()?));
        let namespace = &self.state.namespace;
        let run_id = &self.state.run_id;
        sync_rows(
            &mut self.stored_activities,
            &self.state.activities,
            PendingActivity::same_when_stored,
            |id, data| StoreOp::PutActivity {
                namespace: namespace.clone(),
                run_id: run_id.clone(),
                id: *id,
                data,
            },
            |id| StoreOp::DeleteActivity {
                namespace: namespace.clone(),
                run_id: run_id.clone(),
                id: *id,
            },
            ops,
        )
        .map_err(|e| format!("cannot serialize an activity of run {run_id}: {e}"))?;
        sync_rows(
            &mut self.stored_updates,
            &self.state.updates,
            UpdateRecord::eq,
            |update_id, data| StoreOp::PutUpdate {
                namespace: namespace.clone(),
                run_id: run_id.clone(),
                update_id: update_id.clone(),
                data,
            },
            |update_id| StoreOp::DeleteUpdate {
                namespace: namespace.clone(),
                run_id: run_id.clone(),
                update_id: update_id.clone(),
            },
            ops,
        )
        .map_err(|e| format!("cannot serialize an update of run {run_id}: {e}"))
    }
}

/// Brings `stored` (what the store holds) to `current`: a put for each
/// entry that is new or not `same` as its stored one, a delete for each
/// entry gone.
fn sync_rows<K: Ord + Clone, V: Clone + Serialize>(
    stored: &mut BTreeMap<K, V>,
    current: &BTreeMap<K, V>,
    same: impl Fn(&V, &V) -> bool,
    put: impl Fn(&K, Vec<u8>) -> StoreOp,
    delete: impl Fn(&K) -> StoreOp,
    ops: &mut Vec<StoreOp>,
) -> Result<(), serde_json::Error> {
    stored.retain(|key, _| {
        let kept = current.contains_key(key);
        if !kept {
            ops.push(delete(key));
        }
        kept
    });
    for (key, value) in current {
        if stored.get(key).is_some_and(|old| same(value, old)) {
            continue;
        }
        ops.push(put(key, serde_json::to_vec(value)?));
        stored.insert(key.clone(), value.clone());
    }
    Ok(())
}

/// Appends an event to a run's history (in the batch and in memory).
pub(crate) fn append(
    run: &mut Run,
    batch: &mut Batch,
    time: SystemTime,
    attributes: EventAttributes,
) -> i64 {
    let event_id = run.state.next_event_id;
    let event = Event {
        event_id,
        event_time: time,
        attributes,
    };
    match serde_json::to_vec(&event) {
        Ok(data) => {
            run.state.history_size_bytes = run
                .state
                .history_size_bytes
                .saturating_add(u64::try_from(data.len()).unwrap_or(u64::MAX));
            batch.ops.push(StoreOp::AppendEvent {
                namespace: run.state.namespace.clone(),
                run_id: run.state.run_id.clone(),
                event_id,
                data,
            })
        }
        Err(e) => {
            batch
                .fatal
                .get_or_insert(format!("cannot serialize event {event_id}: {e}"));
        }
    }
    run.state.next_event_id += 1;
    run.recent.push(event);
    batch.dirty.insert(run.state.key());
    event_id
}

pub(crate) struct Latest {
    pub run_id: String,
    /// The first run of its continue-as-new chain (empty when unknown: a
    /// closed run read at start-up). A run id naming it addresses the chain.
    pub first_run_id: String,
    pub status: RunStatus,
    pub request_id: String,
}

struct TaskQueue<T, P> {
    ready: VecDeque<T>,
    pollers: VecDeque<P>,
    /// Parked pollers are swept of ones that left when there are this many
    /// (doubling), so a poll costs amortized O(1) however many are parked.
    sweep_at: usize,
}

impl<T, P> Default for TaskQueue<T, P> {
    fn default() -> Self {
        TaskQueue {
            ready: VecDeque::new(),
            pollers: VecDeque::new(),
            sweep_at: MIN_SWEEP,
        }
    }
}

const MIN_SWEEP: usize = 64;

impl<T, X> TaskQueue<T, oneshot::Sender<X>> {
    /// Parks a poller until a task is ready for it.
    fn park(&mut self, poller: oneshot::Sender<X>) {
        if self.pollers.len() >= self.sweep_at {
            self.pollers.retain(|p| !p.is_closed());
            self.sweep_at = (self.pollers.len() * 2).max(MIN_SWEEP);
        }
        self.pollers.push_back(poller);
    }

    /// Whether a poller is waiting; ones that left are dropped from the
    /// front (those further back are skipped when they get there).
    fn has_poller(&mut self) -> bool {
        while self.pollers.front().is_some_and(oneshot::Sender::is_closed) {
            self.pollers.pop_front();
        }
        !self.pollers.is_empty()
    }
}

/// Runs whose workflow task is ready, and parked pollers.
type WftQueue = TaskQueue<RunKey, Tx<Option<WorkflowTask>>>;
/// Activity attempts (run, scheduled event id, attempt) ready, and parked pollers.
type ActivityQueue = TaskQueue<(RunKey, i64, u32), Tx<Option<ActivityTask>>>;

pub(super) enum Resolved {
    Open(RunKey),
    Stored(String),
}

pub(crate) struct Core {
    pub(super) options: EngineOptions,
    pub(super) clock: Arc<dyn Clock>,
    pub(super) incarnation: u64,
    pub(super) runs: HashMap<RunKey, Run>,
    pub(super) latest: HashMap<(String, String), Latest>,
    wft_queues: HashMap<QueueKey, WftQueue>,
    act_queues: HashMap<QueueKey, ActivityQueue>,
    pub(super) deadlines: Deadlines,
    pub(super) batch: Batch,
    pub(super) effects: Vec<Effect>,
    /// Queries waiting for an answer, by query id.
    pub(super) queries: HashMap<i64, PendingQuery>,
    pub(super) next_query_id: i64,
    /// Queries waiting for a run's workflow task in flight to end.
    pub(super) parked_queries: BTreeMap<RunKey, Vec<i64>>,
    /// Queries ready to go out, per task queue (served before workflow tasks).
    pub(super) query_queues: HashMap<QueueKey, VecDeque<i64>>,
    /// Callers waiting for an update's outcome, by (run, update id).
    pub(super) update_waiters: HashMap<(RunKey, String), Vec<super::queries::AnswerTx>>,
    in_flight: VecDeque<(u64, Vec<Effect>)>,
    next_batch: u64,
    writer: Option<std_mpsc::Sender<WriterMsg>>,
    writer_events: mpsc::UnboundedReceiver<WriterEvent>,
    stopped: Option<String>,
    closing: bool,
    shutdown_replies: Vec<oneshot::Sender<()>>,
    finished: bool,
}

pub(crate) fn random_u64() -> u64 {
    uuid::Uuid::new_v4().as_u64_pair().0
}

impl Core {
    pub fn new(
        options: EngineOptions,
        writer_events: mpsc::UnboundedReceiver<WriterEvent>,
    ) -> Core {
        Core {
            clock: options.clock.clone(),
            options,
            incarnation: random_u64(),
            runs: HashMap::new(),
            latest: HashMap::new(),
            wft_queues: HashMap::new(),
            act_queues: HashMap::new(),
            deadlines: Deadlines::default(),
            batch: Batch::default(),
            effects: Vec::new(),
            queries: HashMap::new(),
            next_query_id: 0,
            parked_queries: BTreeMap::new(),
            query_queues: HashMap::new(),
            update_waiters: HashMap::new(),
            in_flight: VecDeque::new(),
            next_batch: 0,
            writer: None,
            writer_events,
            stopped: None,
            closing: false,
            shutdown_replies: Vec::new(),
            finished: false,
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
            tokio::select! {
                biased;
                event = self.writer_events.recv() => self.on_writer_event(event),
                request = requests.recv(), if !self.closing => match request {
                    Some(request) => self.handle(request),
                    None => self.begin_shutdown(None),
                },
                () = sleep => self.fire_due(),
            }
            self.flush();
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

    fn on_writer_event(&mut self, event: Option<WriterEvent>) {
        match event {
            Some(WriterEvent::Committed(id)) => {
                while self.in_flight.front().is_some_and(|(b, _)| *b <= id) {
                    if let Some((_, effects)) = self.in_flight.pop_front() {
                        for effect in effects {
                            self.execute(effect);
                        }
                    }
                }
            }
            Some(WriterEvent::Failed(reason)) => self.stop(reason),
            Some(WriterEvent::Closed) | None => {
                if !self.closing {
                    self.stop("the writer thread ended".into());
                }
                self.finished = true;
                for reply in self.shutdown_replies.drain(..) {
                    let _ = reply.send(());
                }
            }
        }
    }

    pub(super) fn reply<T: Send + 'static>(&mut self, tx: Tx<T>, value: Result<T, BackendError>) {
        self.effects
            .push(Effect::Reply(Box::new(Held { tx, value })));
    }

    fn handle(&mut self, request: Request) {
        if let Some(reason) = self.stopped.clone() {
            let err = BackendError::Stopped(reason);
            match request {
                Request::Start(_, tx) | Request::SignalWithStart(_, tx) => drop(tx.send(Err(err))),
                Request::Signal(_, tx) | Request::Cancel(_, tx) | Request::Terminate(_, tx) => {
                    drop(tx.send(Err(err)))
                }
                Request::Heartbeat(_, _, tx) => drop(tx.send(Err(err))),
                Request::PollWorkflowTask(_, tx) => drop(tx.send(Err(err))),
                Request::CompleteWorkflowTask(_, tx)
                | Request::FailWorkflowTask { tx, .. }
                | Request::CompleteActivityTask(_, _, tx) => drop(tx.send(Err(err))),
                Request::PollActivityTask(_, tx) => drop(tx.send(Err(err))),
                Request::Describe(_, tx) => drop(tx.send(Err(err))),
                Request::History(_, tx) => drop(tx.send(Err(err))),
                Request::WaitResult(_, tx) => drop(tx.send(Err(err))),
                Request::Query(_, tx) | Request::Update(_, tx) => drop(tx.send(Err(err))),
                Request::UpdateWithStart(_, tx) => drop(tx.send(Err(err))),
                Request::QueryClosed(_, tx) => drop(tx.send(Err(err))),
                Request::RespondQuery(_, _, tx) | Request::WaitDurable(tx) => {
                    drop(tx.send(Err(err)))
                }
                Request::Shutdown(tx) => self.begin_shutdown(Some(tx)),
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
            Request::PollWorkflowTask(queue, tx) => {
                let q = self.wft_queues.entry(queue.clone()).or_default();
                q.park(tx);
                self.match_wft(&queue);
            }
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
            Request::PollActivityTask(queue, tx) => {
                let q = self.act_queues.entry(queue.clone()).or_default();
                q.park(tx);
                self.match_activities(&queue);
            }
            Request::CompleteActivityTask(token, result, tx) => {
                let result = self.complete_activity(&token, *result);
                self.reply(tx, result);
            }
            Request::Describe(target, tx) => {
                let result = match self.resolve(&target) {
                    Ok(Resolved::Open(key)) => match self.runs.get(&key) {
                        Some(run) => Ok(Lookup::Now(run.state.describe())),
                        None => Err(not_found(&target)),
                    },
                    Ok(Resolved::Stored(run_id)) => self
                        .read(&target.namespace, run_id, Reading::Row)
                        .map(Lookup::Stored),
                    Err(e) => Err(e),
                };
                self.reply(tx, result);
            }
            Request::History(target, tx) => {
                // Histories are always read from the store: committed data
                // only. A run id names exactly that run (the first run of
                // a chain included): each run has its own history.
                let result = match target.run_id.clone() {
                    Some(run_id) => self.read(&target.namespace, run_id, Reading::History),
                    None => self.resolve(&target).and_then(|resolved| match resolved {
                        Resolved::Open(key) => {
                            self.read(&target.namespace, key.run_id, Reading::History)
                        }
                        Resolved::Stored(run_id) => {
                            self.read(&target.namespace, run_id, Reading::History)
                        }
                    }),
                };
                // The read is queued behind every batch sent so far, so
                // the reply need not wait for them.
                let _ = tx.send(result);
            }
            Request::WaitResult(target, tx) => match self.resolve(&target) {
                Ok(Resolved::Open(key)) => match self.runs.get_mut(&key) {
                    Some(run) => run.waiters.push(tx),
                    None => self.reply(tx, Err(not_found(&target))),
                },
                Ok(Resolved::Stored(run_id)) => {
                    let result = self
                        .read(&target.namespace, run_id, Reading::Row)
                        .map(Lookup::Stored);
                    let _ = tx.send(result);
                }
                Err(e) => self.reply(tx, Err(e)),
            },
            Request::Query(request, tx) => {
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
                                request: *request,
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
            // Held like any reply: it goes out with the newest batch.
            Request::WaitDurable(tx) => self.reply(tx, Ok(())),
            Request::Shutdown(tx) => self.begin_shutdown(Some(tx)),
        }
    }

    pub(super) fn read(
        &mut self,
        namespace: &str,
        run_id: String,
        reading: Reading,
    ) -> Result<StoredRx, BackendError> {
        let (reply, rx): (ReadReply, StoredRx) = oneshot::channel();
        let msg = WriterMsg::Read {
            namespace: namespace.to_string(),
            run_id,
            reading,
            reply,
        };
        match &self.writer {
            Some(writer) if writer.send(msg).is_ok() => Ok(rx),
            _ => Err(BackendError::Stopped("the writer thread is gone".into())),
        }
    }

    /// The run a run id stands for: the current run of the workflow's
    /// chain when `run_id` is that chain's first run, else `run_id`.
    pub(super) fn chain_run(&self, namespace: &str, workflow_id: &str, run_id: &str) -> String {
        match self
            .latest
            .get(&(namespace.to_string(), workflow_id.to_string()))
        {
            Some(latest) if !latest.first_run_id.is_empty() && latest.first_run_id == run_id => {
                latest.run_id.clone()
            }
            _ => run_id.to_string(),
        }
    }

    pub(super) fn resolve(&self, target: &Target) -> Result<Resolved, BackendError> {
        let run_id = match &target.run_id {
            Some(id) => self.chain_run(&target.namespace, &target.workflow_id, id),
            None => match self
                .latest
                .get(&(target.namespace.clone(), target.workflow_id.clone()))
            {
                Some(latest) => latest.run_id.clone(),
                None => return Err(not_found(target)),
            },
        };
        let key = RunKey {
            namespace: target.namespace.clone(),
            run_id,
        };
        match self.runs.get(&key) {
            Some(run) if run.state.workflow_id == target.workflow_id => Ok(Resolved::Open(key)),
            Some(_) => Err(not_found(target)),
            None => Ok(Resolved::Stored(key.run_id)),
        }
    }

    pub(super) fn match_wft(&mut self, queue: &QueueKey) {
        loop {
            let Some(q) = self.wft_queues.get_mut(queue) else {
                return;
            };
            if !q.has_poller() {
                return;
            }
            // Queries first: they are short and change nothing.
            let (key, task) = if let Some(id) = self
                .query_queues
                .get_mut(queue)
                .and_then(VecDeque::pop_front)
            {
                let Some(task) = self.start_query(id) else {
                    continue;
                };
                let Some(key) = self.queries.get(&id).map(|p| p.item.key.clone()) else {
                    continue;
                };
                (key, task)
            } else {
                let Some(key) = self
                    .wft_queues
                    .get_mut(queue)
                    .and_then(|q| q.ready.pop_front())
                else {
                    return;
                };
                let Some(task) = self.start_wft(&key) else {
                    continue;
                };
                (key, task)
            };
            if let Some(tx) = self
                .wft_queues
                .get_mut(queue)
                .and_then(|q| q.pollers.pop_front())
            {
                self.effects
                    .push(Effect::DeliverWft(tx, Box::new(task), key));
            }
        }
    }

    fn match_activities(&mut self, queue: &QueueKey) {
        loop {
            let Some(q) = self.act_queues.get_mut(queue) else {
                return;
            };
            if !q.has_poller() {
                return;
            }
            let Some((key, id, attempt)) = q.ready.pop_front() else {
                return;
            };
            let Some(task) = self.start_activity(&key, id, attempt) else {
                continue;
            };
            if let Some(tx) = self
                .act_queues
                .get_mut(queue)
                .and_then(|q| q.pollers.pop_front())
            {
                self.effects
                    .push(Effect::DeliverActivity(tx, Box::new(task), key));
            }
        }
    }

    fn execute(&mut self, effect: Effect) {
        match effect {
            Effect::Reply(reply) => reply.send(),
            Effect::EnqueueWft(key) => {
                let Some(run) = self.runs.get(&key) else {
                    return;
                };
                if !matches!(run.state.wft, WftState::Ready { .. }) {
                    return;
                }
                let queue = (key.namespace.clone(), run.state.task_queue.clone());
                self.wft_queues
                    .entry(queue.clone())
                    .or_default()
                    .ready
                    .push_back(key);
                self.match_wft(&queue);
            }
            Effect::EnqueueActivity(key, id, attempt) => {
                let Some(act) = self
                    .runs
                    .get(&key)
                    .and_then(|r| r.state.activities.get(&id))
                else {
                    return;
                };
                if act.attempt != attempt || act.phase != ActivityPhase::Scheduled {
                    return;
                }
                let queue = (key.namespace.clone(), act.task_queue.clone());
                self.act_queues
                    .entry(queue.clone())
                    .or_default()
                    .ready
                    .push_back((key, id, attempt));
                self.match_activities(&queue);
            }
            Effect::EnqueueQuery(id) => self.enqueue_query(id, false),
            Effect::DeliverWft(tx, task, key) => {
                if let Err(Ok(Some(task))) = tx.send(Ok(Some(*task))) {
                    // The poller left before the task reached it: hand the
                    // task to the next one.
                    if task.query.is_some() {
                        self.requeue_query(task.token.task_id);
                    } else {
                        self.undo_wft(&key, task.token.task_id);
                    }
                }
            }
            Effect::DeliverActivity(tx, task, key) => {
                if let Err(Ok(Some(task))) = tx.send(Ok(Some(*task))) {
                    self.undo_activity(&key, task.token.task_id, task.attempt);
                }
            }
        }
    }

    fn undo_wft(&mut self, key: &RunKey, task_id: i64) {
        let now = self.now();
        let Some(run) = self.runs.get_mut(key) else {
            return;
        };
        let WftState::Started {
            task_id: current,
            scheduled_time,
            ..
        } = run.state.wft
        else {
            return;
        };
        if current != task_id {
            return;
        }
        run.state.wft = WftState::Ready { scheduled_time };
        super::updates::undeliver_updates(&mut run.state);
        // What arrived meanwhile was buffered for that task: write it now,
        // so later arrivals (written at once) cannot overtake it.
        super::tasks::append_buffered(run, &mut self.batch, now);
        let queue = (key.namespace.clone(), run.state.task_queue.clone());
        self.wft_queues
            .entry(queue.clone())
            .or_default()
            .ready
            .push_front(key.clone());
        self.match_wft(&queue);
    }

    fn undo_activity(&mut self, key: &RunKey, id: i64, attempt: u32) {
        let Some(act) = self
            .runs
            .get_mut(key)
            .and_then(|r| r.state.activities.get_mut(&id))
        else {
            return;
        };
        if act.attempt != attempt || !matches!(act.phase, ActivityPhase::Started { .. }) {
            return;
        }
        act.phase = ActivityPhase::Scheduled;
        // (A cancel-requested activity is closed when it is next handed
        // out: see `start_activity`.)
        let queue = (key.namespace.clone(), act.task_queue.clone());
        self.act_queues
            .entry(queue.clone())
            .or_default()
            .ready
            .push_front((key.clone(), id, attempt));
        self.match_activities(&queue);
    }

    fn fire_due(&mut self) {
        let now = self.now();
        while let Some(deadline) = self.deadlines.pop_due(now) {
            self.on_deadline(deadline, now);
        }
    }

    /// Carries out the effects that need not wait (workflow tasks), then
    /// sends the gathered ops as a batch and places the other effects: on
    /// that batch, else on the newest batch in flight, else run now.
    fn flush(&mut self) {
        if self.stopped.is_none() {
            self.release_parked_queries();
        }
        loop {
            if let Some(reason) = self.batch.fatal.take() {
                self.stop(reason);
            }
            if self.stopped.is_some() {
                let reason = self.stopped.clone().unwrap_or_default();
                self.batch = Batch::default();
                for effect in std::mem::take(&mut self.effects) {
                    fail_effect(effect, &reason);
                }
                break;
            }
            self.execute_unheld();
            for key in std::mem::take(&mut self.batch.dirty) {
                if let Some(run) = self.runs.get_mut(&key)
                    && let Err(e) = run.writes(&mut self.batch.ops)
                {
                    self.batch.fatal.get_or_insert(e);
                }
            }
            if self.batch.fatal.is_some() {
                continue;
            }
            let ops = std::mem::take(&mut self.batch.ops);
            let effects = std::mem::take(&mut self.effects);
            if ops.is_empty() && effects.is_empty() {
                break;
            }
            if !ops.is_empty() {
                self.next_batch += 1;
                let id = self.next_batch;
                let sent = self
                    .writer
                    .as_ref()
                    .is_some_and(|w| w.send(WriterMsg::Batch { id, ops }).is_ok());
                self.in_flight.push_back((id, effects));
                if !sent {
                    self.stop("the writer thread is gone".into());
                }
            } else if let Some((_, last)) = self.in_flight.back_mut() {
                last.extend(effects);
            } else {
                for effect in effects {
                    self.execute(effect);
                }
            }
        }
        if self.closing && self.in_flight.is_empty() {
            // Everything is durable: ending the writer closes the store.
            self.writer = None;
        }
    }

    /// Carries out at once the effects that need not wait for a commit:
    /// handing out workflow tasks and activity tasks whose scheduling is
    /// already durable. A workflow task only computes; its completion is
    /// committed after everything it read, and the engine's order of
    /// commits keeps it so if the process dies in between. What leaves the
    /// process (a reply, an activity first dispatched) still waits.
    fn execute_unheld(&mut self) {
        loop {
            // Taken out in place: the held ones keep their order and their
            // vector, and nothing is allocated when none may go now.
            let now: Vec<Effect> = self.effects.extract_if(.., |e| e.is_unheld()).collect();
            if now.is_empty() {
                return;
            }
            for effect in now {
                self.execute(effect);
            }
        }
    }

    /// Fail-stop: nothing pending is acknowledged, nothing later is accepted.
    fn stop(&mut self, reason: String) {
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
        for (_, run) in self.runs.drain() {
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

fn fail_effect(effect: Effect, reason: &str) {
    let err = BackendError::Stopped(reason.to_string());
    match effect {
        Effect::Reply(reply) => reply.fail(err),
        Effect::DeliverWft(tx, _, _) => drop(tx.send(Err(err))),
        Effect::DeliverActivity(tx, _, _) => drop(tx.send(Err(err))),
        Effect::EnqueueWft(_) | Effect::EnqueueActivity(..) | Effect::EnqueueQuery(_) => {}
    }
}

pub(crate) fn not_found(target: &Target) -> BackendError {
    BackendError::NotFound {
        workflow_id: target.workflow_id.clone(),
        run_id: target.run_id.clone(),
        detail: None,
    }
}
