//! The handle workflow code uses: state access, time, activities, timers.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;
use std::task::Waker;
use std::time::{Duration, SystemTime};

use super::futures::{ActivityCall, LocalActivityCall, TimerFuture};
use crate::activity::Activity;
use crate::protocol::{Command, Resolution, WorkflowInfo};

/// Kinds of commands that carry their own `seq` numbering.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum SeqKind {
    Activity,
    LocalActivity,
    Timer,
}

/// What a pending runtime future is waiting for.
pub(crate) enum Slot {
    Waiting(Option<Waker>),
    Resolved(Resolution),
    Fired,
}

/// Per-run state shared by the context, the futures and the executor.
pub(crate) struct Core {
    pub now: SystemTime,
    pub replaying: bool,
    next_seq: HashMap<SeqKind, u32>,
    pub commands: Vec<Command>,
    pub slots: HashMap<(SeqKind, u32), Slot>,
    /// Set when workflow code hit an error that must fail the workflow task
    /// (not the workflow), such as an undecodable activity result.
    pub task_failure: Option<String>,
}

impl Core {
    pub fn new() -> Self {
        Core {
            now: SystemTime::UNIX_EPOCH,
            replaying: false,
            next_seq: HashMap::new(),
            commands: Vec::new(),
            slots: HashMap::new(),
            task_failure: None,
        }
    }

    /// The next sequence number for a command kind, starting at 1.
    pub fn next_seq(&mut self, kind: SeqKind) -> u32 {
        let n = self.next_seq.entry(kind).or_insert(0);
        *n += 1;
        *n
    }
}

pub(crate) type SharedCore = Rc<RefCell<Core>>;

/// The workflow's view of its run: state, time, activities and timers.
///
/// Cheap to clone. State is reached only through closures
/// ([`WorkflowContext::state`], [`WorkflowContext::state_mut`]), which cannot
/// hold a borrow across an `.await`.
pub struct WorkflowContext<W> {
    inner: Rc<Inner<W>>,
}

struct Inner<W> {
    state: RefCell<W>,
    info: WorkflowInfo,
    core: SharedCore,
}

impl<W> Clone for WorkflowContext<W> {
    fn clone(&self) -> Self {
        WorkflowContext {
            inner: self.inner.clone(),
        }
    }
}

impl<W> WorkflowContext<W> {
    pub(crate) fn new(state: W, info: WorkflowInfo, core: SharedCore) -> Self {
        WorkflowContext {
            inner: Rc::new(Inner {
                state: RefCell::new(state),
                info,
                core,
            }),
        }
    }

    /// Reads the workflow's state.
    pub fn state<R>(&self, f: impl FnOnce(&W) -> R) -> R {
        f(&self.inner.state.borrow())
    }

    /// Changes the workflow's state.
    pub fn state_mut<R>(&self, f: impl FnOnce(&mut W) -> R) -> R {
        f(&mut self.inner.state.borrow_mut())
    }

    /// Facts about this run.
    pub fn info(&self) -> &WorkflowInfo {
        &self.inner.info
    }

    /// Workflow time: the start time of the current workflow task, recorded
    /// in history, so replay reads the same value.
    pub fn now(&self) -> SystemTime {
        self.inner.core.borrow().now
    }

    /// True while the workflow is replaying history (side effects such as
    /// logging should stay quiet).
    pub fn is_replaying(&self) -> bool {
        self.inner.core.borrow().replaying
    }

    /// Schedules an activity; configure it, then `.await` the result.
    ///
    /// One of `start_to_close_timeout` or `schedule_to_close_timeout` is required.
    pub fn activity<F, I, O>(&self, activity: Activity<F, I, O>, input: I) -> ActivityCall<O> {
        ActivityCall::new(
            self.inner.core.clone(),
            activity.name(),
            activity.encode(&input),
            self.inner.info.task_queue.clone(),
        )
    }

    /// Runs an activity inside this worker and records its result in history
    /// as a marker; on replay the marker is read and the activity is not run
    /// again.
    pub fn local_activity<F, I, O>(
        &self,
        activity: Activity<F, I, O>,
        input: I,
    ) -> LocalActivityCall<O> {
        LocalActivityCall::new_local(
            self.inner.core.clone(),
            activity.name(),
            activity.encode(&input),
            self.inner.info.task_queue.clone(),
        )
    }

    /// A durable timer: resolves after `duration` of workflow time, across
    /// restarts.
    pub fn sleep(&self, duration: Duration) -> TimerFuture {
        TimerFuture::new(self.inner.core.clone(), duration)
    }

    /// Same as [`WorkflowContext::sleep`].
    pub fn timer(&self, duration: Duration) -> TimerFuture {
        self.sleep(duration)
    }
}
