//! The per-run core: what a run's context, its futures and the executor
//! share on the workflow thread (commands produced, pending futures' slots,
//! seq counters, randomness, patches, conditions, cancellation).

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::rc::Rc;
use std::task::Waker;
use std::time::Duration;

use ::futures::future::LocalBoxFuture;

use super::error::TaskError;
use super::executor::SideEffectMode;
use super::rng::Rng;
use super::time::WorkflowTime;
use crate::converter::Payload;
use crate::failure::{ActivityError, ApplicationError, Failure};
use crate::protocol::{ActivityCancellationType, ChildStart, Command, Resolution};

/// The check a condition runs: true once it holds.
pub(crate) type Check = Rc<dyn Fn() -> bool>;

/// A condition waiting in the executor.
pub(crate) struct Pending {
    pub check: Check,
    pub waker: Option<Waker>,
    /// Set by the executor when the check held; the future then resolves.
    pub fired: bool,
    /// Whether a cancellation of the workflow ends the wait (with a
    /// `CanceledError`), as it ends Temporal's `wait_condition`.
    pub cancellable: bool,
    /// Set when a cancellation reached the wait.
    pub canceled: bool,
}

/// Kinds of commands that carry their own `seq` numbering.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum SeqKind {
    Activity,
    LocalActivity,
    Timer,
    SideEffect,
    /// A child's result (its seq numbers the run's children).
    Child,
    /// A child's start (the child's seq).
    ChildStart,
    /// A request that a child cancel (the child's seq).
    CancelChild,
    SignalExternal,
    CancelExternal,
}

/// What a pending runtime future is waiting for.
pub(crate) enum Slot {
    Waiting(Option<Waker>),
    Resolved(Resolution),
    Fired,
    /// A timer the workflow's cancellation resolved.
    Canceled,
    /// A child's start resolved.
    Started(ChildStart),
    /// A signal or cancel request to another workflow resolved.
    Done(Result<(), Failure>),
}

/// What the core keeps about a scheduled activity until its future is done:
/// what a cancellation needs to answer for it.
pub(crate) struct ActivityMeta {
    pub cancellation_type: ActivityCancellationType,
    pub activity_type: String,
    pub activity_id: String,
    /// `RequestCancelActivity` was sent (a cancellation that waits).
    pub cancel_sent: bool,
}

/// Per-run state shared by the context, the futures and the executor.
pub(crate) struct RunCore {
    pub now: WorkflowTime,
    pub replaying: bool,
    next_seq: HashMap<SeqKind, u32>,
    pub commands: Vec<Command>,
    pub slots: HashMap<(SeqKind, u32), Slot>,
    /// Set when workflow code hit an error that must fail the workflow task
    /// (not the workflow), such as an undecodable activity result.
    pub task_failure: Option<TaskError>,
    /// The run's deterministic random generator (seeded by the start job).
    pub rng: Rng,
    /// On replay: side effect values recorded in the task being replayed.
    pub side_effects: HashMap<u32, Option<Payload>>,
    /// Whether side effects are ready at once or wait for their value.
    pub side_effect_mode: SideEffectMode,
    /// On replay: patches whose marker the task being replayed holds.
    pub known_patches: HashSet<String>,
    /// What `patched(id)` answered first in this run; later calls repeat it.
    pub patch_decisions: HashMap<String, bool>,
    /// Patch ids whose marker command this run has emitted.
    pub sent_patches: HashSet<String>,
    /// Tasks spawned since the executor last took them, in spawn order.
    pub spawned: Vec<LocalBoxFuture<'static, ()>>,
    /// Conditions waiting, by creation number (so checked in creation order).
    pub conditions: BTreeMap<u64, Pending>,
    next_condition: u64,
    /// Signals that found no handler or whose input did not decode.
    pub unhandled_signals: u64,
    /// Async signal handlers started and not yet finished.
    pub handlers_running: usize,
    /// What the current workflow task said about continue-as-new.
    pub continue_as_new_suggested: bool,
    /// History size in bytes the current workflow task reported.
    pub history_size_bytes: u64,
    /// Events in history when the current workflow task started.
    pub history_length: u64,
    /// The input `continue_as_new` encoded, waiting for the run to return
    /// the failure it handed out.
    pub continue_as_new: Option<Vec<Payload>>,
    /// Set once the run has produced its terminal command, or its instance
    /// is being dropped: futures dropped from then on emit nothing.
    pub closing: bool,
    /// Timers and activities the code stopped waiting for (dropped, or
    /// resolved by a cancellation), with the history length when it did: a
    /// resolution that arrives for one later is ignored.
    given_up: HashMap<(SeqKind, u32), u64>,
    /// Activities scheduled whose futures are not done yet.
    activities: HashMap<(SeqKind, u32), ActivityMeta>,
    /// Children started and not closed, by seq.
    children: HashMap<u32, ChildMeta>,
    /// Whether cancellation of the workflow was requested.
    pub cancel_requested: bool,
    /// A cancellation request waiting to reach the futures pending after
    /// the current poll pass.
    pub cancel_due: bool,
    /// The worker's start-to-close timeout for activities scheduled with
    /// no timeout of their own.
    pub default_start_to_close_timeout: Option<Duration>,
}

impl RunCore {
    pub fn new() -> Self {
        RunCore {
            now: WorkflowTime::UNIX_EPOCH,
            replaying: false,
            next_seq: HashMap::new(),
            commands: Vec::new(),
            slots: HashMap::new(),
            task_failure: None,
            rng: Rng::new(0),
            side_effects: HashMap::new(),
            side_effect_mode: SideEffectMode::Marker,
            known_patches: HashSet::new(),
            patch_decisions: HashMap::new(),
            sent_patches: HashSet::new(),
            spawned: Vec::new(),
            conditions: BTreeMap::new(),
            next_condition: 0,
            unhandled_signals: 0,
            handlers_running: 0,
            continue_as_new_suggested: false,
            history_size_bytes: 0,
            history_length: 0,
            continue_as_new: None,
            closing: false,
            given_up: HashMap::new(),
            activities: HashMap::new(),
            children: HashMap::new(),
            cancel_requested: false,
            cancel_due: false,
            default_start_to_close_timeout: None,
        }
    }

    /// The creation number of a new condition.
    pub fn next_condition_id(&mut self) -> u64 {
        self.next_condition += 1;
        self.next_condition
    }

    /// Records that workflow code hit an error that fails the task; the
    /// first error wins.
    pub fn fail_task(&mut self, error: TaskError) {
        self.task_failure.get_or_insert(error);
    }

    pub fn patch(&mut self, patch_id: &str, deprecated: bool) -> bool {
        if let Some(decided) = self.patch_decisions.get(patch_id) {
            return *decided;
        }
        let use_patch = !self.replaying || self.known_patches.contains(patch_id);
        self.patch_decisions.insert(patch_id.to_string(), use_patch);
        if use_patch && self.sent_patches.insert(patch_id.to_string()) {
            self.commands.push(Command::SetPatchMarker {
                patch_id: patch_id.to_string(),
                deprecated,
            });
        }
        use_patch
    }

    /// Records a scheduled activity until its future is done.
    pub fn track_activity(&mut self, kind: SeqKind, seq: u32, meta: ActivityMeta) {
        self.activities.insert((kind, seq), meta);
    }

    /// Forgets an activity whose future has its outcome.
    pub fn activity_done(&mut self, kind: SeqKind, seq: u32) {
        self.activities.remove(&(kind, seq));
    }

    /// Whether a resolution for `(kind, seq)` is one the code gave up on
    /// (then it is ignored, once).
    pub fn take_given_up(&mut self, kind: SeqKind, seq: u32) -> bool {
        self.given_up.remove(&(kind, seq)).is_some()
    }

    fn give_up(&mut self, kind: SeqKind, seq: u32) {
        self.given_up.insert((kind, seq), self.history_length);
    }

    /// Forgets cancelled timers once a later workflow task's events were
    /// applied: a timer that fired while its cancellation was on the way is
    /// delivered in the very next task, and one that did not never fires
    /// (`TimerCanceled`). Given-up activities are kept until their outcome
    /// comes, which it always does while the run is open.
    pub fn forget_cancelled_timers(&mut self, history_length: u64) {
        self.given_up
            .retain(|(kind, _), at| *kind != SeqKind::Timer || *at >= history_length);
    }

    /// A started timer's future was dropped: if it still waited, the timer
    /// is cancelled (`CancelTimer`), unless the run is closing.
    pub fn drop_timer(&mut self, seq: u32) {
        if let Some(Slot::Waiting(_)) = self.slots.remove(&(SeqKind::Timer, seq)) {
            self.give_up(SeqKind::Timer, seq);
            if !self.closing {
                self.commands.push(Command::CancelTimer { seq });
            }
        }
    }

    /// A side effect's value came: to the future waiting for it, or (ahead
    /// of the code, on replay of a [`SideEffectMode::Marker`] run) kept
    /// until the code asks. A value for a side effect whose future was
    /// dropped while it waited is ignored.
    pub fn side_effect_resolved(&mut self, seq: u32, value: Option<Payload>) {
        let key = (SeqKind::SideEffect, seq);
        if let Some(slot @ Slot::Waiting(_)) = self.slots.get_mut(&key) {
            let resolved = Slot::Resolved(match value {
                Some(value) => Resolution::Completed(value),
                None => Resolution::Failed(
                    ApplicationError::new("the recorded side effect holds no value").into(),
                ),
            });
            if let Slot::Waiting(Some(waker)) = std::mem::replace(slot, resolved) {
                waker.wake();
            }
        } else if !self.take_given_up(SeqKind::SideEffect, seq) {
            self.side_effects.insert(seq, value);
        }
    }

    /// A side effect's future was dropped: if it still waited for its
    /// value, the value that comes is ignored.
    pub fn drop_side_effect(&mut self, seq: u32) {
        if let Some(Slot::Waiting(_)) = self.slots.remove(&(SeqKind::SideEffect, seq)) {
            self.give_up(SeqKind::SideEffect, seq);
        }
    }

    /// A scheduled activity's future was dropped: if it still waited, the
    /// activity's cancellation is requested (`RequestCancelActivity`),
    /// unless its cancellation type is `Abandon`, it is a local activity
    /// (its result is recorded when it ends, and ignored), the request was
    /// already sent, or the run is closing.
    pub fn drop_activity(&mut self, kind: SeqKind, seq: u32) {
        let meta = self.activities.remove(&(kind, seq));
        if let Some(Slot::Waiting(_)) = self.slots.remove(&(kind, seq)) {
            self.give_up(kind, seq);
            let request = kind == SeqKind::Activity
                && meta.is_some_and(|m| {
                    m.cancellation_type != ActivityCancellationType::Abandon && !m.cancel_sent
                });
            if request && !self.closing {
                self.commands.push(Command::RequestCancelActivity { seq });
            }
        }
    }

    /// Delivers a cancellation request to every timer and activity future
    /// waiting now, once: timers are cancelled and resolve with a
    /// [`CanceledError`]; activities are cancelled as their cancellation
    /// type says (see [`ActivityCancellationType`]); local activities
    /// resolve with the canceled error at once. Returns whether any future
    /// was resolved.
    pub fn deliver_cancel(&mut self) -> bool {
        let conditions = self.cancel_conditions();
        // A child's result slot waits from its start; the cancellation
        // reaches it only while code awaits it (it has a waker).
        let mut waiting: Vec<(SeqKind, u32)> = self
            .slots
            .iter()
            .filter(|((kind, _), slot)| match slot {
                Slot::Waiting(waker) => *kind != SeqKind::Child || waker.is_some(),
                _ => false,
            })
            .map(|(key, _)| *key)
            .collect();
        // Slots live in a hash map: sort so the commands come out in the
        // same order on every replay.
        waiting.sort_by_key(|(kind, seq)| (kind.rank(), *seq));
        let mut woke = false;
        for (kind, seq) in waiting {
            let resolved = match kind {
                SeqKind::Timer => {
                    self.commands.push(Command::CancelTimer { seq });
                    Some(Slot::Canceled)
                }
                SeqKind::Activity | SeqKind::LocalActivity => self.cancel_activity(kind, seq),
                SeqKind::Child => self.cancel_child(seq),
                SeqKind::SideEffect
                | SeqKind::ChildStart
                | SeqKind::CancelChild
                | SeqKind::SignalExternal
                | SeqKind::CancelExternal => None,
            };
            let Some(resolved) = resolved else {
                continue;
            };
            self.give_up(kind, seq);
            if let Some(Slot::Waiting(Some(waker))) = self.slots.insert((kind, seq), resolved) {
                waker.wake();
            }
            woke = true;
        }
        woke || conditions
    }

    /// Ends every cancellable condition waiting now; returns whether any.
    fn cancel_conditions(&mut self) -> bool {
        let mut woke = false;
        for pending in self.conditions.values_mut() {
            if pending.cancellable && !pending.fired && !pending.canceled {
                pending.canceled = true;
                if let Some(waker) = pending.waker.take() {
                    waker.wake();
                }
                woke = true;
            }
        }
        woke
    }

    /// What a cancellation does to one waiting activity: the slot to put in
    /// its place, or `None` when it keeps waiting.
    fn cancel_activity(&mut self, kind: SeqKind, seq: u32) -> Option<Slot> {
        let meta = self.activities.get_mut(&(kind, seq))?;
        let remote = kind == SeqKind::Activity;
        let waits =
            remote && meta.cancellation_type == ActivityCancellationType::WaitCancellationCompleted;
        let request = remote
            && meta.cancellation_type != ActivityCancellationType::Abandon
            && !meta.cancel_sent;
        meta.cancel_sent |= request;
        let resolved = (!waits).then(|| {
            Slot::Resolved(Resolution::Failed(Failure::Activity(
                ActivityError::canceled(&meta.activity_type, &meta.activity_id, 1, Vec::new()),
            )))
        });
        if request {
            self.commands.push(Command::RequestCancelActivity { seq });
        }
        resolved
    }

    /// The next sequence number for a command kind, starting at 1.
    pub fn next_seq(&mut self, kind: SeqKind) -> u32 {
        let n = self.next_seq.entry(kind).or_insert(0);
        *n += 1;
        *n
    }
}

impl SeqKind {
    /// Order of kinds when a cancellation walks the pending futures.
    fn rank(self) -> u8 {
        match self {
            SeqKind::Timer => 0,
            SeqKind::Activity => 1,
            SeqKind::LocalActivity => 2,
            SeqKind::SideEffect => 3,
            SeqKind::Child => 4,
            SeqKind::ChildStart => 5,
            SeqKind::CancelChild => 6,
            SeqKind::SignalExternal => 7,
            SeqKind::CancelExternal => 8,
        }
    }
}

/// The message of a timer's cancellation.
pub(crate) const TIMER_CANCELED: &str =
    "timer canceled: cancellation of the workflow was requested";

/// The message of a condition a workflow cancellation ended.
pub(crate) const CONDITION_CANCELED: &str =
    "wait canceled: cancellation of the workflow was requested";

pub(crate) type SharedCore = Rc<RefCell<RunCore>>;

mod children;

pub(crate) use children::ChildMeta;
