//! Side effects and the replay-aware logger: the two ways workflow code may
//! touch the outside world without an activity.

use std::fmt::Display;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::task::{Context, Poll};

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::error::TaskError;
use super::executor::SideEffectMode;
use super::run_core::{SeqKind, SharedCore, Slot};
use crate::converter::{self, Payload};
use crate::protocol::{Command, Resolution};

/// The future of [`WorkflowContext::side_effect`](super::WorkflowContext::side_effect).
///
/// It takes its `seq` on its first poll, runs the closure (or, on replay,
/// does not) and emits its marker command. On weft's engine it is ready on
/// that poll, reading a replayed value that came ahead of the code; where
/// the value comes back later (a local activity on Temporal), it waits for
/// it, live and on replay alike.
#[must_use = "a side effect runs only when awaited"]
pub struct SideEffectFuture<T, F> {
    core: SharedCore,
    f: Option<F>,
    /// Set once the command is out and the future waits for its value.
    waiting: Option<u32>,
    _output: PhantomData<fn() -> T>,
}

impl<T, F> SideEffectFuture<T, F> {
    pub(crate) fn new(core: SharedCore, f: F) -> Self {
        SideEffectFuture {
            core,
            f: Some(f),
            waiting: None,
            _output: PhantomData,
        }
    }
}

impl<T, F> Unpin for SideEffectFuture<T, F> {}

impl<T, F> Future for SideEffectFuture<T, F>
where
    T: Serialize + DeserializeOwned,
    F: FnOnce() -> T,
{
    type Output = T;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        let this = &mut *self;
        if let Some(seq) = this.waiting {
            return this.poll_value(seq, cx);
        }
        let Some(f) = this.f.take() else {
            // Polled again after an error failed the task: stay pending.
            return Poll::Pending;
        };
        let (seq, replaying, mode) = {
            let mut core = this.core.borrow_mut();
            (
                core.next_seq(SeqKind::SideEffect),
                core.replaying,
                core.side_effect_mode,
            )
        };
        if mode == SideEffectMode::Resolved {
            // On replay the value comes back from history, and `f` must
            // not run again.
            let value = if replaying {
                Ok(Payload::default())
            } else {
                encoded(seq, f)
            };
            let mut core = this.core.borrow_mut();
            match value {
                Ok(value) => {
                    core.commands.push(Command::RecordSideEffect { seq, value });
                    core.slots.insert(
                        (SeqKind::SideEffect, seq),
                        Slot::Waiting(Some(cx.waker().clone())),
                    );
                    this.waiting = Some(seq);
                }
                Err(error) => core.fail_task(error),
            }
            return Poll::Pending;
        }
        let recorded = if replaying {
            let mut core = this.core.borrow_mut();
            match core.side_effects.remove(&seq) {
                Some(Some(value)) => Ok(value),
                Some(None) => Err(TaskError::new(format!(
                    "side effect {seq}: its marker in history holds no value"
                ))),
                None => Err(TaskError::nondeterminism(format!(
                    "side effect {seq}: the code records a side effect that the replayed \
                     workflow task does not hold"
                ))),
            }
        } else {
            encoded(seq, f)
        };
        let mut core = this.core.borrow_mut();
        let value = match recorded {
            Ok(value) => value,
            Err(error) => {
                core.fail_task(error);
                return Poll::Pending;
            }
        };
        match decoded(seq, &value) {
            Ok(out) => {
                core.commands.push(Command::RecordSideEffect { seq, value });
                Poll::Ready(out)
            }
            Err(error) => {
                core.fail_task(error);
                Poll::Pending
            }
        }
    }
}

impl<T: DeserializeOwned, F> SideEffectFuture<T, F> {
    /// A waiting side effect: ready once its value came.
    fn poll_value(&mut self, seq: u32, cx: &mut Context<'_>) -> Poll<T> {
        let mut core = self.core.borrow_mut();
        let key = (SeqKind::SideEffect, seq);
        match core.slots.remove(&key) {
            Some(Slot::Resolved(Resolution::Completed(value))) => {
                self.waiting = None;
                match decoded(seq, &value) {
                    Ok(out) => Poll::Ready(out),
                    Err(error) => {
                        core.fail_task(error);
                        Poll::Pending
                    }
                }
            }
            Some(Slot::Resolved(Resolution::Failed(failure))) => {
                self.waiting = None;
                core.fail_task(TaskError::new(format!("side effect {seq}: {failure}")));
                Poll::Pending
            }
            Some(_) => {
                core.slots
                    .insert(key, Slot::Waiting(Some(cx.waker().clone())));
                Poll::Pending
            }
            None => Poll::Pending,
        }
    }
}

impl<T, F> Drop for SideEffectFuture<T, F> {
    fn drop(&mut self) {
        let Some(seq) = self.waiting else {
            return;
        };
        // The executor never drops workflow futures while it holds the core.
        if let Ok(mut core) = self.core.try_borrow_mut() {
            core.drop_side_effect(seq);
        }
    }
}

/// Runs a side effect's closure and encodes its value. It runs outside any
/// borrow of the core: the closure may use the context.
fn encoded<T: Serialize>(seq: u32, f: impl FnOnce() -> T) -> Result<Payload, TaskError> {
    converter::encode(&f())
        .map_err(|e| TaskError::new(format!("side effect {seq}: cannot encode its value: {e}")))
}

fn decoded<T: DeserializeOwned>(seq: u32, value: &Payload) -> Result<T, TaskError> {
    converter::decode::<T>(value).map_err(|e| {
        TaskError::new(format!(
            "side effect {seq}: cannot decode its recorded value: {e}"
        ))
    })
}

impl<T, F> super::deterministic::sealed::Sealed for SideEffectFuture<T, F>
where
    T: Serialize + DeserializeOwned,
    F: FnOnce() -> T,
{
}

/// Logs for workflow code, from
/// [`WorkflowContext::logger`](super::WorkflowContext::logger): `tracing`
/// events (target `weft::workflow`) with `workflow_id` and `run_id` fields,
/// emitted only while the workflow is not replaying.
#[derive(Clone)]
pub struct WorkflowLogger {
    core: SharedCore,
    workflow_id: String,
    run_id: String,
}

macro_rules! level {
    ($(#[$doc:meta])* $name:ident, $macro:ident) => {
        $(#[$doc])*
        pub fn $name(&self, message: impl Display) {
            if self.silent() {
                return;
            }
            tracing::$macro!(
                target: "weft::workflow",
                workflow_id = %self.workflow_id,
                run_id = %self.run_id,
                "{message}"
            );
        }
    };
}

impl WorkflowLogger {
    pub(crate) fn new(core: SharedCore, workflow_id: String, run_id: String) -> Self {
        WorkflowLogger {
            core,
            workflow_id,
            run_id,
        }
    }

    /// True while replaying, when every call is a no-op.
    pub fn silent(&self) -> bool {
        self.core.borrow().replaying
    }

    level!(
        /// Logs at DEBUG level.
        debug,
        debug
    );
    level!(
        /// Logs at INFO level.
        info,
        info
    );
    level!(
        /// Logs at WARN level.
        warn,
        warn
    );
    level!(
        /// Logs at ERROR level.
        error,
        error
    );
}
