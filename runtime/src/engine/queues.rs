//! Task queues: workflow and activity tasks ready for a worker, and the
//! pollers parked until one is; a task handed to a poller that left goes
//! back to the front of its queue.

use std::collections::{HashSet, VecDeque};
use std::time::{Duration, Instant};

use tokio::sync::oneshot;

use crate::backend::{ActivityTask, WorkflowTask};

use super::effects::Effect;
use super::engine_task::EngineTask;
use super::requests::{QueueKey, Tx};
use super::state::{ActivityPhase, RunKey, WftState};

pub(super) struct TaskQueue<T, P> {
    pub ready: VecDeque<T>,
    pub pollers: VecDeque<P>,
    /// Parked pollers are swept of ones that left when there are this many
    /// (doubling), so a poll costs amortized O(1) however many are parked.
    sweep_at: usize,
    /// When a worker last polled (machine time: it is about workers being
    /// alive, not about workflow time).
    last_poll: Option<Instant>,
    /// Task types already logged as waiting on this queue with no worker.
    warned: HashSet<String>,
}

impl<T, P> Default for TaskQueue<T, P> {
    fn default() -> Self {
        TaskQueue {
            ready: VecDeque::new(),
            pollers: VecDeque::new(),
            sweep_at: MIN_SWEEP,
            last_poll: None,
            warned: HashSet::new(),
        }
    }
}

const MIN_SWEEP: usize = 64;

/// A worker that polled this recently still counts as polling: a busy one
/// (every slot taken) is not parked.
const POLLED_RECENTLY: Duration = Duration::from_secs(60);

impl<T, P> TaskQueue<T, P> {
    /// True the first time a task of type `task_type` waits here while no
    /// worker has ever polled the queue, so the wait is logged once.
    pub fn first_unpolled(&mut self, task_type: &str) -> bool {
        self.last_poll.is_none() && self.warned.insert(task_type.to_string())
    }

    /// Whether tasks wait here and no worker has ever polled the queue.
    pub fn waits_unpolled(&self) -> bool {
        self.last_poll.is_none() && !self.ready.is_empty()
    }
}

impl<T, X> TaskQueue<T, oneshot::Sender<X>> {
    /// Parks a poller until a task is ready for it.
    pub fn park(&mut self, poller: oneshot::Sender<X>) {
        self.last_poll = Some(Instant::now());
        if self.pollers.len() >= self.sweep_at {
            self.pollers.retain(|p| !p.is_closed());
            self.sweep_at = (self.pollers.len() * 2).max(MIN_SWEEP);
        }
        self.pollers.push_back(poller);
    }

    /// Whether a poller is waiting; ones that left are dropped from the
    /// front (those further back are skipped when they get there).
    pub fn has_poller(&mut self) -> bool {
        while self.pollers.front().is_some_and(oneshot::Sender::is_closed) {
            self.pollers.pop_front();
        }
        !self.pollers.is_empty()
    }

    /// Whether a worker polls this queue: one is parked, or one polled
    /// lately.
    pub fn is_polled(&mut self) -> bool {
        self.has_poller()
            || self
                .last_poll
                .is_some_and(|t| t.elapsed() < POLLED_RECENTLY)
    }
}

/// Runs whose workflow task is ready, and parked pollers.
pub(super) type WftQueue = TaskQueue<RunKey, Tx<Option<WorkflowTask>>>;
/// Activity attempts (run, scheduled event id, attempt) ready, and parked pollers.
pub(super) type ActivityQueue = TaskQueue<(RunKey, i64, u32), Tx<Option<ActivityTask>>>;

impl EngineTask {
    /// Parks a workflow task poller and hands it a task if one is ready.
    pub(super) fn poll_wft(&mut self, queue: QueueKey, tx: Tx<Option<WorkflowTask>>) {
        self.wft_queues.entry(queue.clone()).or_default().park(tx);
        self.match_wft(&queue);
    }

    /// Parks an activity task poller and hands it a task if one is ready.
    pub(super) fn poll_activity(&mut self, queue: QueueKey, tx: Tx<Option<ActivityTask>>) {
        self.act_queues.entry(queue.clone()).or_default().park(tx);
        self.match_activities(&queue);
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

    pub(super) fn match_activities(&mut self, queue: &QueueKey) {
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

    /// Why the run `key` waits on a task queue no worker polls: for its
    /// workflow task, and for each activity waiting to be taken.
    pub(super) fn unpolled_warnings(&mut self, key: &RunKey) -> Vec<String> {
        let Some(run) = self.runs.get(key) else {
            return Vec::new();
        };
        let mut warnings = Vec::new();
        let namespace = &key.namespace;
        if matches!(run.state.wft, WftState::Ready { .. }) {
            let queue = run.wft_queue.clone();
            if !self
                .wft_queues
                .get_mut(&queue)
                .is_some_and(|q| q.is_polled())
            {
                warnings.push(no_worker("workflow", &run.state.workflow_type, &queue.1));
            }
        }
        for act in run.state.activities.values() {
            if act.phase != ActivityPhase::Scheduled {
                continue;
            }
            let queue = (namespace.clone(), act.task_queue.as_str().into());
            if !self
                .act_queues
                .get_mut(&queue)
                .is_some_and(|q| q.is_polled())
            {
                warnings.push(no_worker("activity", &act.activity_type, &queue.1));
            }
        }
        warnings.dedup();
        warnings
    }

    pub(super) fn undo_wft(&mut self, key: &RunKey, task_id: i64) {
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
        // What arrived meanwhile was buffered for that task: write it now
        // (after the task's scheduled event), so later arrivals (written
        // at once) cannot overtake it.
        let timeout = self.options.workflow_task_timeout;
        super::tasks::append_buffered_to_waiting(run, &mut self.batch, timeout, now);
        let queue = run.wft_queue.clone();
        self.wft_queues
            .entry(queue.clone())
            .or_default()
            .ready
            .push_front(key.clone());
        self.match_wft(&queue);
    }

    pub(super) fn undo_activity(&mut self, key: &RunKey, id: i64, attempt: u32) {
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
        let queue = (key.namespace.clone(), act.task_queue.as_str().into());
        self.act_queues
            .entry(queue.clone())
            .or_default()
            .ready
            .push_front((key.clone(), id, attempt));
        self.match_activities(&queue);
    }
}

/// The warning for a task of `kind` and `task_type` waiting on `queue`,
/// which no worker polls.
pub(super) fn no_worker(kind: &str, task_type: &str, queue: &str) -> String {
    format!(
        "no worker polls task queue {queue:?} for {kind} tasks: the {kind} {task_type:?} waits \
         until a worker that registers it runs on that queue (is the worker started, on that \
         queue, with the {kind} registered?)"
    )
}
