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
use super::run_core::{SeqKind, SharedCore};
use crate::converter;
use crate::protocol::Command;

/// The future of [`WorkflowContext::side_effect`](super::WorkflowContext::side_effect).
///
/// Ready on its first poll: it takes its `seq` then, runs the closure (or,
/// on replay, reads the recorded value) and emits its marker command.
#[must_use = "a side effect runs only when awaited"]
pub struct SideEffectFuture<T, F> {
    core: SharedCore,
    f: Option<F>,
    _output: PhantomData<fn() -> T>,
}

impl<T, F> SideEffectFuture<T, F> {
    pub(crate) fn new(core: SharedCore, f: F) -> Self {
        SideEffectFuture {
            core,
            f: Some(f),
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

    fn poll(mut self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<T> {
        let Some(f) = self.f.take() else {
            // Polled again after an error failed the task: stay pending.
            return Poll::Pending;
        };
        let (seq, replaying) = {
            let mut core = self.core.borrow_mut();
            (core.next_seq(SeqKind::SideEffect), core.replaying)
        };
        let recorded = if replaying {
            let mut core = self.core.borrow_mut();
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
            // Run outside any borrow: the closure may use the context.
            converter::encode(&f()).map_err(|e| {
                TaskError::new(format!("side effect {seq}: cannot encode its value: {e}"))
            })
        };
        let mut core = self.core.borrow_mut();
        let value = match recorded {
            Ok(value) => value,
            Err(error) => {
                core.fail_task(error);
                return Poll::Pending;
            }
        };
        match converter::decode::<T>(&value) {
            Ok(out) => {
                core.commands.push(Command::RecordSideEffect { seq, value });
                Poll::Ready(out)
            }
            Err(e) => {
                core.fail_task(TaskError::new(format!(
                    "side effect {seq}: cannot decode its recorded value: {e}"
                )));
                Poll::Pending
            }
        }
    }
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
