//! Effects and flushing: what a request makes happen outside the engine's
//! state (replies, task dispatch) waits for the commit of the batch it
//! came with, or of the newest batch in flight; workflow tasks, which only
//! compute, go at once (`Effect::is_unheld`). A flush sends the gathered
//! store ops as the next batch and files the effects behind it.

use crate::backend::{ActivityTask, BackendError, WorkflowTask};

use super::deadlines::{Deadline, later};
use super::engine_task::EngineTask;
use super::requests::QueueKey;

/// How long a task waits on a never-polled queue before that is logged.
const UNPOLLED_GRACE: std::time::Duration = std::time::Duration::from_secs(5);
use super::open_run::Batch;
use super::pacing::task_is_out;
use super::requests::{Held, Reply, Tx};
use super::state::{ActivityPhase, RunKey, WftState};
use super::store::StoreOp;
use super::writer::{WriterEvent, WriterMsg};

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
    /// durable (see `EngineTask::execute_unheld`). A query task waits: its answer
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

impl EngineTask {
    pub(super) fn reply<T: Send + 'static>(&mut self, tx: Tx<T>, value: Result<T, BackendError>) {
        self.effects
            .push(Effect::Reply(Box::new(Held { tx, value })));
    }

    /// Arms the log of a task type waiting on a queue no worker has
    /// polled, a grace period from now.
    fn watch_unpolled(&mut self, queue: &QueueKey, activity: bool, task_type: Option<String>) {
        let Some(task_type) = task_type else {
            return;
        };
        let at = later(self.now(), UNPOLLED_GRACE);
        let deadline = Deadline::Unpolled {
            queue: queue.clone(),
            activity,
            task_type,
        };
        self.deadlines.arm(at, deadline);
    }

    pub(super) fn execute(&mut self, effect: Effect) {
        match effect {
            Effect::Reply(reply) => reply.send(),
            Effect::EnqueueWft(key) => {
                let Some(run) = self.runs.get(&key) else {
                    return;
                };
                if !matches!(run.state.wft, WftState::Ready { .. }) {
                    return;
                }
                let queue = run.wft_queue.clone();
                let q = self.wft_queues.entry(queue.clone()).or_default();
                let unpolled = q
                    .first_unpolled(&run.state.workflow_type)
                    .then(|| run.state.workflow_type.clone());
                q.ready.push_back(key);
                self.watch_unpolled(&queue, false, unpolled);
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
                let queue = (key.namespace.clone(), act.task_queue.as_str().into());
                let q = self.act_queues.entry(queue.clone()).or_default();
                let unpolled = q
                    .first_unpolled(&act.activity_type)
                    .then(|| act.activity_type.clone());
                q.ready.push_back((key, id, attempt));
                self.watch_unpolled(&queue, true, unpolled);
                self.match_activities(&queue);
            }
            Effect::EnqueueQuery(id) => self.enqueue_query(id, false),
            Effect::DeliverWft(tx, task, key) => {
                let (task_id, query) = (task.token.task_id, task.query.is_some());
                match tx.send(Ok(Some(*task))) {
                    // The poller left before the task reached it: hand the
                    // task to the next one.
                    Err(_) if query => self.requeue_query(task_id),
                    Err(_) => self.undo_wft(&key, task_id),
                    Ok(()) if !query => {
                        self.pacing.handed_out(&key, task_id);
                        if let Some(run) = self.runs.get_mut(&key) {
                            run.handed_out = Some(std::time::Instant::now());
                        }
                    }
                    Ok(()) => {}
                }
            }
            Effect::DeliverActivity(tx, task, key) => {
                if let Err(Ok(Some(task))) = tx.send(Ok(Some(*task))) {
                    self.undo_activity(&key, task.token.task_id, task.attempt);
                }
            }
        }
    }

    /// Carries out the effects that need not wait (workflow tasks), then
    /// sends the gathered ops as a batch and places the other effects: on
    /// that batch, else on the newest batch in flight, else run now.
    pub(super) fn flush(&mut self) {
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
            if self.holds_batch() {
                break;
            }
            self.write_dirty();
            if self.batch.fatal.is_some() {
                continue;
            }
            let ops = std::mem::take(&mut self.batch.ops);
            let effects = std::mem::take(&mut self.effects);
            if ops.is_empty() && effects.is_empty() {
                break;
            }
            if ops.is_empty() {
                self.behind_in_flight(effects);
            } else {
                self.send_batch(ops, effects);
            }
        }
        if self.closing && self.in_flight.is_empty() {
            // Everything is durable: ending the writer closes the store.
            self.writer = None;
        }
    }

    /// Adds the rows of the runs changed since the last batch to it.
    fn write_dirty(&mut self) {
        for key in std::mem::take(&mut self.batch.dirty) {
            if let Some(run) = self.runs.get_mut(&key)
                && let Err(e) = run.writes(&mut self.batch.ops)
            {
                self.batch.fatal.get_or_insert(e);
            }
        }
    }

    /// Sends `ops` to the writer as the next batch, `effects` to be carried
    /// out once it is durable.
    fn send_batch(&mut self, ops: Vec<StoreOp>, effects: Vec<Effect>) {
        self.next_batch += 1;
        let id = self.next_batch;
        self.pacing.sent(id, self.in_flight.is_empty());
        let sent = self
            .writer
            .as_ref()
            .is_some_and(|w| w.send(WriterMsg::Batch { id, ops }).is_ok());
        self.in_flight.push_back((id, effects));
        if !sent {
            self.stop("the writer thread is gone".into());
        }
    }

    /// Sends what the batch has gathered at once, held for its workflow
    /// tasks or gathered by requests handled since the last flush, with the
    /// effects gathered so far behind it: for a read, which the writer
    /// answers after the commit of everything sent before it, and for a
    /// caller waiting until all is durable (a workflow task about to run a
    /// local activity, which a hold would otherwise wait for in turn).
    pub(super) fn send_gathered(&mut self) {
        self.write_dirty();
        let ops = std::mem::take(&mut self.batch.ops);
        // A row that cannot be written stops the engine at the next flush.
        if self.batch.fatal.is_none() && !ops.is_empty() {
            // What need not wait stays, to be carried out at the flush.
            let effects = self.effects.extract_if(.., |e| !e.is_unheld()).collect();
            self.send_batch(ops, effects);
        }
    }

    /// Sends a read or a list to the writer, after what the batch has
    /// gathered: the answer then includes what memory already holds.
    pub(super) fn send_to_writer(&mut self, msg: WriterMsg) -> Result<(), BackendError> {
        self.send_gathered();
        match &self.writer {
            Some(writer) if writer.send(msg).is_ok() => Ok(()),
            _ => Err(BackendError::Stopped("the writer thread is gone".into())),
        }
    }

    /// Whether the gathered batch waits for the workflow tasks it handed
    /// out, to commit with their completions (see `pacing`). Only with
    /// group commit, only while the writer is idle and the engine runs.
    fn holds_batch(&mut self) -> bool {
        if !self.options.group_commit
            || self.closing
            || self.batch.fatal.is_some()
            || !self.in_flight.is_empty()
            || (self.batch.ops.is_empty() && self.batch.dirty.is_empty())
        {
            return false;
        }
        let runs = &self.runs;
        self.pacing.hold(|key, task_id| {
            runs.get(key)
                .is_some_and(|run| task_is_out(&run.state.wft, task_id))
        })
    }

    /// A run's workflow task came back from its worker (completed or
    /// failed): times its turnaround, which decides whether batches wait
    /// for tasks at all.
    pub(super) fn task_came_back(&mut self, key: &RunKey) {
        if let Some(since) = self.runs.get_mut(key).and_then(|r| r.handed_out.take()) {
            self.pacing.task_back(since.elapsed());
        }
    }

    /// Answers a caller waiting until everything accepted before it is
    /// durable: behind the newest batch in flight, after sending what is
    /// gathered, or at once. Not with the effects gathered since, which a
    /// held batch keeps: the caller may be the very workflow task the hold
    /// waits for.
    pub(super) fn reply_when_durable(&mut self, tx: Tx<()>) {
        self.send_gathered();
        let reply = Effect::Reply(Box::new(Held { tx, value: Ok(()) }));
        self.behind_in_flight(vec![reply]);
    }

    /// Files effects with no ops of their own behind the newest batch in
    /// flight, or carries them out now when nothing is.
    fn behind_in_flight(&mut self, effects: Vec<Effect>) {
        match self.in_flight.back_mut() {
            Some((_, last)) => last.extend(effects),
            None => {
                for effect in effects {
                    self.execute(effect);
                }
            }
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

    pub(super) fn on_writer_event(&mut self, event: Option<WriterEvent>) {
        match event {
            Some(WriterEvent::Committed(id)) => {
                self.pacing.committed(id);
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
}

pub(super) fn fail_effect(effect: Effect, reason: &str) {
    let err = BackendError::Stopped(reason.to_string());
    match effect {
        Effect::Reply(reply) => reply.fail(err),
        Effect::DeliverWft(tx, _, _) => drop(tx.send(Err(err))),
        Effect::DeliverActivity(tx, _, _) => drop(tx.send(Err(err))),
        Effect::EnqueueWft(_) | Effect::EnqueueActivity(..) | Effect::EnqueueQuery(_) => {}
    }
}
