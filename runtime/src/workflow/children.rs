//! Child workflows and other workflows, from workflow code.
//!
//! [`WorkflowContext::start_child`](super::WorkflowContext::start_child)
//! starts a child and resolves to a typed [`ChildHandle`] once the child
//! runs (or to an error when a run with its id is open);
//! [`WorkflowContext::execute_child`](super::WorkflowContext::execute_child)
//! also waits for its result. A child that fails, is canceled or
//! terminated resolves with a [`ChildWorkflowError`](crate::failure::ChildWorkflowError)
//! whose cause says why. [`ExternalWorkflowHandle`] signals another
//! workflow, or asks it to cancel.
//!
//! The workflow's cancellation reaches a child whose result the code is
//! awaiting, as its [`ChildCancellationType`] says: by default the child is
//! asked to cancel and the await resolves once it has closed. A child
//! nobody awaits is left to its parent close policy.

use std::future::{Future, IntoFuture};
use std::marker::PhantomData;
use std::pin::Pin;
use std::task::{Context, Poll};

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::Workflow;
use super::error::TaskError;
use super::run_core::{ChildMeta, SeqKind, SharedCore, Slot};
use crate::converter::{self, ConverterError, Payload};
use crate::failure::{ApplicationError, Failure};
use crate::protocol::{
    ChildCancellationType, ChildStart, Command, ExternalTarget, IdReusePolicy, ParentClosePolicy,
    Resolution, RunOptions, StartChild,
};

/// How a child workflow is started.
#[derive(Clone, Debug, Default)]
pub struct ChildOptions {
    id: Option<String>,
    task_queue: String,
    parent_close_policy: ParentClosePolicy,
    id_reuse_policy: IdReusePolicy,
    cancellation_type: ChildCancellationType,
    run_options: RunOptions,
}

impl ChildOptions {
    /// Options for a child with this workflow id.
    pub fn new(id: impl Into<String>) -> Self {
        ChildOptions::default().id(id)
    }

    /// The child's workflow id (default: a UUID drawn from the workflow's
    /// deterministic randomness).
    pub fn id(mut self, id: impl Into<String>) -> Self {
        self.id = Some(id.into());
        self
    }

    /// The task queue of the child's tasks (default: the parent's).
    pub fn task_queue(mut self, queue: impl Into<String>) -> Self {
        self.task_queue = queue.into();
        self
    }

    /// What happens to the child when the parent closes (default:
    /// [`ParentClosePolicy::Terminate`]).
    pub fn parent_close_policy(mut self, policy: ParentClosePolicy) -> Self {
        self.parent_close_policy = policy;
        self
    }

    /// Whether the child may reuse the id of a closed run (default: any).
    pub fn id_reuse_policy(mut self, policy: IdReusePolicy) -> Self {
        self.id_reuse_policy = policy;
        self
    }

    /// Limits every run of the child's chain.
    pub fn execution_timeout(mut self, timeout: std::time::Duration) -> Self {
        self.run_options.execution_timeout = Some(timeout);
        self
    }

    /// Limits each run of the child.
    pub fn run_timeout(mut self, timeout: std::time::Duration) -> Self {
        self.run_options.run_timeout = Some(timeout);
        self
    }

    /// Retries the child's failed or timed-out runs as new runs.
    pub fn retry_policy(mut self, policy: crate::retry::RetryPolicy) -> Self {
        self.run_options.retry_policy = Some(policy);
        self
    }

    /// Sets a search attribute of the child (registered on the engine with
    /// the key's type, else the parent's workflow task fails).
    pub fn search_attribute<T: crate::search_attributes::SearchAttributeKind>(
        mut self,
        key: &crate::search_attributes::SearchAttributeKey<T>,
        value: T,
    ) -> Self {
        self.run_options.search_attributes.insert(key, value);
        self
    }

    /// What the workflow's cancellation does to the child (default:
    /// [`ChildCancellationType::WaitCancellationCompleted`]).
    pub fn cancellation_type(mut self, cancellation_type: ChildCancellationType) -> Self {
        self.cancellation_type = cancellation_type;
        self
    }
}

/// Starting a child; see
/// [`WorkflowContext::start_child`](super::WorkflowContext::start_child).
#[must_use = "a child starts only when awaited"]
pub struct StartChildFuture<C> {
    core: SharedCore,
    input: Option<Result<Vec<Payload>, ConverterError>>,
    options: ChildOptions,
    /// `(seq, workflow id)` once the start command is out.
    started: Option<(u32, String)>,
    _child: PhantomData<fn() -> C>,
}

impl<C: Workflow> StartChildFuture<C> {
    pub(crate) fn new(core: SharedCore, input: &C::Input, options: ChildOptions) -> Self {
        StartChildFuture {
            core,
            input: Some(converter::encode(input).map(|p| vec![p])),
            options,
            started: None,
            _child: PhantomData,
        }
    }

    /// Emits the start command; `Err` when the input cannot be encoded.
    fn start(&mut self, cx: &Context<'_>) -> Result<(), Failure> {
        let input = match self.input.take() {
            Some(Ok(input)) => input,
            Some(Err(e)) => {
                let error = ApplicationError::from(e).with_type("InvalidChildInput");
                return Err(error.non_retryable().into());
            }
            None => Vec::new(),
        };
        let mut core = self.core.borrow_mut();
        let seq = core.next_seq(SeqKind::Child);
        let workflow_id = match &self.options.id {
            Some(id) => id.clone(),
            None => core.rng_uuid(),
        };
        core.commands.push(Command::StartChildWorkflow(StartChild {
            seq,
            workflow_id: workflow_id.clone(),
            workflow_type: C::NAME.to_string(),
            task_queue: self.options.task_queue.clone(),
            input,
            parent_close_policy: self.options.parent_close_policy,
            id_reuse_policy: self.options.id_reuse_policy,
            cancellation_type: self.options.cancellation_type,
            run_options: self.options.run_options.clone(),
        }));
        core.slots.insert(
            (SeqKind::ChildStart, seq),
            Slot::Waiting(Some(cx.waker().clone())),
        );
        core.track_child(
            seq,
            ChildMeta {
                cancellation_type: self.options.cancellation_type,
                workflow_id: workflow_id.clone(),
                workflow_type: C::NAME.to_string(),
                run_id: String::new(),
                cancel_sent: false,
            },
        );
        self.started = Some((seq, workflow_id));
        Ok(())
    }
}

impl<C> Unpin for StartChildFuture<C> {}

impl<C: Workflow> Future for StartChildFuture<C> {
    type Output = Result<ChildHandle<C>, Failure>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let Some((seq, workflow_id)) = self.started.clone() else {
            if let Err(e) = self.start(cx) {
                return Poll::Ready(Err(e));
            }
            return Poll::Pending;
        };
        let mut core = self.core.borrow_mut();
        match core.slots.remove(&(SeqKind::ChildStart, seq)) {
            Some(Slot::Started(ChildStart::Started { run_id })) => {
                core.child_started(seq, &run_id);
                Poll::Ready(Ok(ChildHandle {
                    core: self.core.clone(),
                    seq,
                    workflow_id,
                    run_id,
                    _child: PhantomData,
                }))
            }
            Some(Slot::Started(ChildStart::AlreadyExists)) => {
                core.child_done(seq);
                Poll::Ready(Err(already_started::<C>(&workflow_id)))
            }
            Some(Slot::Waiting(_)) | None => {
                core.slots.insert(
                    (SeqKind::ChildStart, seq),
                    Slot::Waiting(Some(cx.waker().clone())),
                );
                Poll::Pending
            }
            Some(other) => {
                core.slots.insert((SeqKind::ChildStart, seq), other);
                Poll::Pending
            }
        }
    }
}

impl<C> Drop for StartChildFuture<C> {
    fn drop(&mut self) {
        let Some((seq, _)) = &self.started else {
            return;
        };
        // Given up before it resolved: its start's outcome is ignored.
        if let Ok(mut core) = self.core.try_borrow_mut() {
            core.drop_child_start(*seq);
        }
    }
}

/// The error a child start gets when a run with its id is open, or its id
/// reuse policy refused it (Temporal's `WorkflowAlreadyStartedError`).
fn already_started<C: Workflow>(workflow_id: &str) -> Failure {
    ApplicationError::new(format!(
        "Workflow execution already started: a run of workflow id {workflow_id:?} is open \
         (or the id reuse policy refused the child {})",
        C::NAME
    ))
    .with_type("WorkflowAlreadyStartedError")
    .non_retryable()
    .into()
}

/// A started child workflow: await it (or [`result`](Self::result)) for
/// its result, signal it, or ask it to cancel.
pub struct ChildHandle<C> {
    core: SharedCore,
    seq: u32,
    workflow_id: String,
    run_id: String,
    _child: PhantomData<fn() -> C>,
}

impl<C: Workflow> ChildHandle<C> {
    /// The child's workflow id.
    pub fn workflow_id(&self) -> &str {
        &self.workflow_id
    }

    /// The child's first run id.
    pub fn run_id(&self) -> &str {
        &self.run_id
    }

    /// The child's result, once it closes.
    pub fn result(&self) -> ChildResultFuture<C::Output> {
        ChildResultFuture {
            core: self.core.clone(),
            seq: self.seq,
            _output: PhantomData,
        }
    }

    /// Sends the child a signal; resolves once it is in the child's history.
    pub fn signal<T: Serialize>(&self, name: &str, input: &T) -> SignalExternalFuture {
        let target = ExternalTarget {
            workflow_id: self.workflow_id.clone(),
            run_id: Some(self.run_id.clone()),
            child_workflow_only: true,
        };
        SignalExternalFuture::new(self.core.clone(), target, name, input)
    }

    /// Asks the child to cancel; resolves once the request is in its
    /// history. Its code decides what it means; its result says how it
    /// ended.
    pub fn cancel(&self) -> CancelExternalFuture {
        CancelExternalFuture {
            core: self.core.clone(),
            request: Some(CancelRequest::Child(self.seq)),
            seq: None,
        }
    }
}

impl<C: Workflow> IntoFuture for ChildHandle<C> {
    type Output = Result<C::Output, Failure>;
    type IntoFuture = ChildResultFuture<C::Output>;

    fn into_future(self) -> Self::IntoFuture {
        self.result()
    }
}

/// A child's result; see [`ChildHandle::result`].
#[must_use = "futures do nothing unless awaited"]
pub struct ChildResultFuture<O> {
    core: SharedCore,
    seq: u32,
    _output: PhantomData<fn() -> O>,
}

impl<O> Unpin for ChildResultFuture<O> {}

impl<O: DeserializeOwned> Future for ChildResultFuture<O> {
    type Output = Result<O, Failure>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let resolution = {
            let mut core = self.core.borrow_mut();
            match core.slots.get_mut(&(SeqKind::Child, self.seq)) {
                // Kept in the slot: every await of the handle gets it.
                Some(Slot::Resolved(r)) => r.clone(),
                Some(Slot::Waiting(w)) => {
                    *w = Some(cx.waker().clone());
                    return Poll::Pending;
                }
                _ => return Poll::Pending,
            }
        };
        match resolution {
            Resolution::Completed(payload) => match converter::decode::<O>(&payload) {
                Ok(value) => Poll::Ready(Ok(value)),
                Err(e) => {
                    self.core.borrow_mut().fail_task(TaskError::new(format!(
                        "child workflow result (seq {}): {e}",
                        self.seq
                    )));
                    Poll::Pending
                }
            },
            Resolution::Failed(failure) => Poll::Ready(Err(failure)),
        }
    }
}

/// Starts a child and waits for its result; see
/// [`WorkflowContext::execute_child`](super::WorkflowContext::execute_child).
#[must_use = "a child starts only when awaited"]
pub struct ExecuteChildFuture<C: Workflow> {
    start: StartChildFuture<C>,
    result: Option<ChildResultFuture<C::Output>>,
}

impl<C: Workflow> ExecuteChildFuture<C> {
    pub(crate) fn new(start: StartChildFuture<C>) -> Self {
        ExecuteChildFuture {
            start,
            result: None,
        }
    }
}

impl<C: Workflow> Unpin for ExecuteChildFuture<C> {}

impl<C: Workflow> Future for ExecuteChildFuture<C> {
    type Output = Result<C::Output, Failure>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        if self.result.is_none() {
            match Pin::new(&mut self.start).poll(cx) {
                Poll::Ready(Ok(handle)) => self.result = Some(handle.result()),
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => return Poll::Pending,
            }
        }
        match self.result.as_mut() {
            Some(result) => Pin::new(result).poll(cx),
            None => Poll::Pending,
        }
    }
}

/// Another workflow, by id, from workflow code; see
/// [`WorkflowContext::external_workflow`](super::WorkflowContext::external_workflow).
///
/// With the target's type named ([`typed`](Self::typed)), the signal stubs
/// `#[workflow]` generates for it (the `..Signals` trait) work on it.
pub struct ExternalWorkflowHandle<W = ()> {
    core: SharedCore,
    target: ExternalTarget,
    _workflow: PhantomData<fn() -> W>,
}

impl ExternalWorkflowHandle {
    pub(crate) fn new(core: SharedCore, workflow_id: String, run_id: Option<String>) -> Self {
        ExternalWorkflowHandle {
            core,
            target: ExternalTarget {
                workflow_id,
                run_id,
                child_workflow_only: false,
            },
            _workflow: PhantomData,
        }
    }

    /// The same handle, knowing the target's workflow type, so its typed
    /// signal stubs apply: `ctx.external_workflow(id).typed::<Order>().approve(..)`.
    pub fn typed<T: Workflow>(self) -> ExternalWorkflowHandle<T> {
        ExternalWorkflowHandle {
            core: self.core,
            target: self.target,
            _workflow: PhantomData,
        }
    }
}

impl<W> ExternalWorkflowHandle<W> {
    /// Sends the workflow a signal; resolves once it is in the target's
    /// history, or with an error of type `ExternalWorkflowExecutionNotFound`
    /// when no open run of that id exists.
    pub fn signal<T: Serialize>(&self, name: &str, input: &T) -> SignalExternalFuture {
        SignalExternalFuture::new(self.core.clone(), self.target.clone(), name, input)
    }

    /// Asks the workflow to cancel; resolves once the request is recorded
    /// (not when the target closes), or with an error of type
    /// `ExternalWorkflowExecutionNotFound`.
    pub fn cancel(&self) -> CancelExternalFuture {
        CancelExternalFuture {
            core: self.core.clone(),
            request: Some(CancelRequest::External(self.target.clone())),
            seq: None,
        }
    }
}

/// What the `..Signals` stubs `#[workflow]` generates send through: a
/// workflow-side handle to a run of `W`. Not a public API.
#[doc(hidden)]
pub trait SignalTarget<W> {
    /// Sends the signal `name` with `input`.
    fn signal_by_name<T: Serialize>(&self, name: &str, input: &T) -> SignalExternalFuture;
}

impl<W: Workflow> SignalTarget<W> for ChildHandle<W> {
    fn signal_by_name<T: Serialize>(&self, name: &str, input: &T) -> SignalExternalFuture {
        self.signal(name, input)
    }
}

impl<W: Workflow> SignalTarget<W> for ExternalWorkflowHandle<W> {
    fn signal_by_name<T: Serialize>(&self, name: &str, input: &T) -> SignalExternalFuture {
        self.signal(name, input)
    }
}

/// A signal to another workflow.
#[must_use = "a signal is sent only when awaited"]
pub struct SignalExternalFuture {
    core: SharedCore,
    command: Option<(ExternalTarget, String, Result<Vec<Payload>, ConverterError>)>,
    seq: Option<u32>,
}

impl SignalExternalFuture {
    fn new<T: Serialize>(core: SharedCore, target: ExternalTarget, name: &str, input: &T) -> Self {
        let input = converter::encode_args(input);
        SignalExternalFuture {
            core,
            command: Some((target, name.to_string(), input)),
            seq: None,
        }
    }
}

impl Future for SignalExternalFuture {
    type Output = Result<(), Failure>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        if let Some((target, signal_name, input)) = self.command.take() {
            let input = match input {
                Ok(input) => input,
                Err(e) => {
                    let error = ApplicationError::from(e).with_type("InvalidSignalInput");
                    return Poll::Ready(Err(error.non_retryable().into()));
                }
            };
            let mut core = self.core.borrow_mut();
            let seq = core.next_seq(SeqKind::SignalExternal);
            core.commands.push(Command::SignalExternalWorkflow {
                seq,
                target,
                signal_name,
                input,
            });
            core.slots.insert(
                (SeqKind::SignalExternal, seq),
                Slot::Waiting(Some(cx.waker().clone())),
            );
            drop(core);
            self.seq = Some(seq);
            return Poll::Pending;
        }
        match self.seq {
            Some(seq) => poll_done(&self.core, SeqKind::SignalExternal, seq, cx),
            None => Poll::Pending,
        }
    }
}

/// What a cancel request names.
enum CancelRequest {
    Child(u32),
    External(ExternalTarget),
}

/// A request that a child or another workflow cancel.
#[must_use = "a cancel request is sent only when awaited"]
pub struct CancelExternalFuture {
    core: SharedCore,
    request: Option<CancelRequest>,
    /// The slot it waits on, once sent.
    seq: Option<(SeqKind, u32)>,
}

impl Future for CancelExternalFuture {
    type Output = Result<(), Failure>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        if let Some(request) = self.request.take() {
            let mut core = self.core.borrow_mut();
            let slot = match request {
                CancelRequest::Child(seq) => {
                    core.request_child_cancel(seq);
                    (SeqKind::CancelChild, seq)
                }
                CancelRequest::External(target) => {
                    let seq = core.next_seq(SeqKind::CancelExternal);
                    core.commands
                        .push(Command::RequestCancelExternalWorkflow { seq, target });
                    (SeqKind::CancelExternal, seq)
                }
            };
            core.slots
                .insert(slot, Slot::Waiting(Some(cx.waker().clone())));
            drop(core);
            self.seq = Some(slot);
            return Poll::Pending;
        }
        match self.seq {
            Some((kind, seq)) => poll_done(&self.core, kind, seq, cx),
            None => Poll::Pending,
        }
    }
}

/// Polls a slot that resolves with `Done`.
fn poll_done(
    core: &SharedCore,
    kind: SeqKind,
    seq: u32,
    cx: &Context<'_>,
) -> Poll<Result<(), Failure>> {
    let mut core = core.borrow_mut();
    match core.slots.remove(&(kind, seq)) {
        Some(Slot::Done(result)) => Poll::Ready(result),
        Some(Slot::Waiting(_)) => {
            core.slots
                .insert((kind, seq), Slot::Waiting(Some(cx.waker().clone())));
            Poll::Pending
        }
        Some(other) => {
            core.slots.insert((kind, seq), other);
            Poll::Pending
        }
        None => Poll::Pending,
    }
}

impl<C> super::deterministic::sealed::Sealed for StartChildFuture<C> {}
impl<O> super::deterministic::sealed::Sealed for ChildResultFuture<O> {}
impl<C: Workflow> super::deterministic::sealed::Sealed for ExecuteChildFuture<C> {}
impl super::deterministic::sealed::Sealed for SignalExternalFuture {}
impl super::deterministic::sealed::Sealed for CancelExternalFuture {}
