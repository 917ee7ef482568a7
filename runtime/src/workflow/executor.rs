//! The executor: applies an activation's jobs to one run and polls its code
//! until nothing more can progress, collecting the commands it produced.

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll, Wake, Waker};

use futures::future::LocalBoxFuture;

use super::condition::check_conditions;
use super::error::TaskError;
use super::rng::Rng;
use super::run_core::{RunCore, SeqKind, SharedCore, Slot};
use super::time::WorkflowTime;
use super::{Handler, UpdateHandler, Workflow, WorkflowContext, WorkflowResult};
use crate::converter::{self, Payload};
use crate::failure::{ApplicationError, Failure};
use crate::protocol::{Activation, ChildStart, Command, Job, UpdateResponse, WorkflowInfo};

/// One run of a workflow, type-erased.
pub(crate) trait Instance {
    /// Applies the jobs and returns the commands the code produced.
    fn activate(&mut self, activation: Activation) -> Result<Vec<Command>, TaskError>;

    /// Answers a query from the run's current state (changes nothing).
    fn query(&self, name: &str, input: &[Payload]) -> Result<Payload, Failure>;
}

/// Builds a fresh instance of a registered workflow type.
pub(crate) type Factory = Arc<dyn Fn() -> Box<dyn Instance> + Send + Sync>;

/// What a worker sets for every run it executes.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct RunSettings {
    /// The start-to-close timeout of activities scheduled without one.
    pub default_start_to_close_timeout: Option<std::time::Duration>,
    /// How side effects get their values back.
    pub side_effects: SideEffectMode,
}

/// How a run's side effects get their values back.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) enum SideEffectMode {
    /// A side effect is ready at once (`RecordSideEffect` carries its
    /// value); on replay its value comes in a `Job::ResolveSideEffect`
    /// ahead of the code, as weft's driver reads markers.
    #[default]
    Marker,
    /// A side effect waits for its `Job::ResolveSideEffect`, which comes
    /// after its command, live and on replay: for a driver that records
    /// the value as something resolved later (a local activity on
    /// Temporal's core) and learns a replayed value only once the code asks
    /// for it. On replay the closure is not run and the command's value is
    /// empty.
    Resolved,
}

/// The factory of workflow type `W`, its runs set up by `settings`.
pub(crate) fn factory<W: Workflow>(settings: RunSettings) -> Factory {
    Arc::new(move || Box::new(Machine::<W>::new(settings)))
}

struct Flag(AtomicBool);

impl Wake for Flag {
    fn wake(self: Arc<Self>) {
        self.0.store(true, Ordering::SeqCst);
    }
    fn wake_by_ref(self: &Arc<Self>) {
        self.0.store(true, Ordering::SeqCst);
    }
}

struct Machine<W: Workflow> {
    core: SharedCore,
    /// The run's context, kept for signal handlers (set by the start job).
    ctx: Option<WorkflowContext<W>>,
    run: Option<LocalBoxFuture<'static, WorkflowResult<W::Output>>>,
    /// Spawned tasks not yet finished, in spawn order.
    tasks: Vec<LocalBoxFuture<'static, ()>>,
    finished: bool,
    flag: Arc<Flag>,
}

/// Guards against code that wakes itself forever without waiting on anything.
const MAX_POLLS_PER_ACTIVATION: usize = 100_000;

impl<W: Workflow> Machine<W> {
    fn new(settings: RunSettings) -> Self {
        let mut core = RunCore::new();
        core.default_start_to_close_timeout = settings.default_start_to_close_timeout;
        core.side_effect_mode = settings.side_effects;
        Machine {
            core: Rc::new(RefCell::new(core)),
            ctx: None,
            run: None,
            tasks: Vec::new(),
            finished: false,
            flag: Arc::new(Flag(AtomicBool::new(false))),
        }
    }

    fn apply(&mut self, job: Job) -> Result<(), TaskError> {
        match job {
            Job::Start {
                info,
                input,
                randomness_seed,
            } => self.start(info, &input, randomness_seed)?,
            Job::Signal { name, input } => self.signal(&name, &input)?,
            Job::Update {
                id,
                name,
                input,
                run_validator,
            } => self.update(id, &name, &input, run_validator)?,
            Job::ResolveActivity { seq, result } => {
                self.resolve(SeqKind::Activity, seq, Slot::Resolved(result))?
            }
            Job::ResolveLocalActivity { seq, result } => {
                self.resolve(SeqKind::LocalActivity, seq, Slot::Resolved(result))?
            }
            Job::FireTimer { seq } => self.resolve(SeqKind::Timer, seq, Slot::Fired)?,
            Job::ResolveChildStart { seq, result } => {
                // The result slot waits from the start on: the child's
                // close may come in this same activation, before any code
                // has polled the start.
                if let ChildStart::Started { run_id } = &result {
                    self.core.borrow_mut().child_started(seq, run_id);
                }
                self.resolve(SeqKind::ChildStart, seq, Slot::Started(result))?
            }
            Job::ResolveChild { seq, result } => {
                self.core.borrow_mut().child_done(seq);
                self.resolve(SeqKind::Child, seq, Slot::Resolved(result))?
            }
            Job::ResolveSignalExternal { seq, failure } => self.resolve(
                SeqKind::SignalExternal,
                seq,
                Slot::Done(failure.map_or(Ok(()), Err)),
            )?,
            Job::ResolveRequestCancelExternal {
                seq,
                child: true,
                failure,
            } => self.core.borrow_mut().child_cancel_requested(seq, failure),
            Job::ResolveRequestCancelExternal {
                seq,
                child: false,
                failure,
            } => self.resolve(
                SeqKind::CancelExternal,
                seq,
                Slot::Done(failure.map_or(Ok(()), Err)),
            )?,
            Job::ResolveSideEffect { seq, value } => {
                self.core.borrow_mut().side_effect_resolved(seq, value);
            }
            Job::CancelWorkflow { .. } => {
                // As Python's SDK (which defers it with `call_soon`): the
                // request reaches the futures that wait once the code has
                // run on this activation's other jobs, so a run cancelled
                // before its first task gets to its first await.
                let mut core = self.core.borrow_mut();
                if !core.cancel_requested {
                    core.cancel_requested = true;
                    core.cancel_due = true;
                }
            }
            Job::NotifyHasPatch { patch_id } => {
                self.core.borrow_mut().known_patches.insert(patch_id);
            }
        }
        Ok(())
    }

    /// Starts the run: its randomness, its input decoded, its state and
    /// the future of its run fn.
    fn start(
        &mut self,
        info: WorkflowInfo,
        input: &[Payload],
        randomness_seed: u64,
    ) -> Result<(), TaskError> {
        if self.run.is_some() {
            return Err(TaskError::nondeterminism("the run was started twice"));
        }
        self.core.borrow_mut().rng = Rng::new(randomness_seed);
        let input: W::Input = match converter::decode_single(input) {
            Ok(input) => input,
            // Bad data, which no code change can fix: the run fails
            // before its code runs, as a failed validation should.
            Err(e @ converter::ConverterError::Invalid(_)) => {
                return self.finish(Err(Failure::Application(e.into())));
            }
            Err(e) => return Err(TaskError::new(format!("workflow input: {e}"))),
        };
        let state = W::init(&input);
        let ctx = WorkflowContext::new(state, info, self.core.clone());
        self.ctx = Some(ctx.clone());
        self.run = Some(W::run(ctx, input));
        Ok(())
    }

    /// Runs a signal's handler: a sync one now (its state change is visible
    /// to the code polled next), an async one as a task of the run.
    fn signal(&mut self, name: &str, input: &[Payload]) -> Result<(), TaskError> {
        let Some(ctx) = self.ctx.as_ref() else {
            return Err(TaskError::new(format!(
                "signal {name:?} delivered before the run started"
            )));
        };
        let outcome = W::signal(ctx, name, input);
        let replaying = self.core.borrow().replaying;
        let info = ctx.info();
        match outcome {
            Some(Ok(Handler::Done)) => {}
            Some(Ok(Handler::Async(future))) => {
                let core = self.core.clone();
                let mut c = self.core.borrow_mut();
                c.handlers_running += 1;
                c.spawned.push(Box::pin(async move {
                    future.await;
                    let mut c = core.borrow_mut();
                    c.handlers_running = c.handlers_running.saturating_sub(1);
                }));
            }
            None => {
                if !replaying {
                    tracing::warn!(
                        workflow_id = %info.workflow_id,
                        run_id = %info.run_id,
                        workflow_type = W::NAME,
                        signal = name,
                        "signal has no handler in this workflow; it stays in history and is not applied"
                    );
                }
                self.core.borrow_mut().unhandled_signals += 1;
            }
            Some(Err(failure)) => {
                if !replaying {
                    tracing::warn!(
                        workflow_id = %info.workflow_id,
                        run_id = %info.run_id,
                        workflow_type = W::NAME,
                        signal = name,
                        error = %failure,
                        "signal input could not be decoded; the signal is dropped (it stays in history)"
                    );
                }
                self.core.borrow_mut().unhandled_signals += 1;
            }
        }
        Ok(())
    }

    /// Validates an update (unless replaying its acceptance), then accepts
    /// it and runs its handler: a sync one now, an async one as a task of
    /// the run whose end completes the update.
    fn update(
        &mut self,
        id: String,
        name: &str,
        input: &[Payload],
        run_validator: bool,
    ) -> Result<(), TaskError> {
        let Some(ctx) = self.ctx.clone() else {
            return Err(TaskError::new(format!(
                "update {name:?} delivered before the run started"
            )));
        };
        let respond = |core: &SharedCore, id: String, response: UpdateResponse| {
            core.borrow_mut()
                .commands
                .push(Command::UpdateResponse { id, response });
        };
        if run_validator {
            // A validator only reads state, so its panic rejects the
            // update instead of failing the task (which would hold this
            // and every later update of the run).
            let validated = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                ctx.state(|s| W::validate(s, name, input))
            }));
            let rejection = match validated {
                Err(panic) => Some(validator_panicked::<W>(name, panic.as_ref())),
                Ok(None) => Some(unknown_update::<W>(name)),
                Ok(Some(Err(failure))) => Some(failure),
                Ok(Some(Ok(()))) => None,
            };
            if let Some(failure) = rejection {
                respond(
                    &self.core,
                    id,
                    UpdateResponse::Rejected(failure.truncated()),
                );
                return Ok(());
            }
        }
        respond(&self.core, id.clone(), UpdateResponse::Accepted);
        match W::update(&ctx, name, input) {
            None => respond(
                &self.core,
                id,
                UpdateResponse::Completed(Err(unknown_update::<W>(name))),
            ),
            Some(Err(failure)) => respond(&self.core, id, UpdateResponse::Completed(Err(failure))),
            Some(Ok(UpdateHandler::Done(result))) => {
                respond(&self.core, id, UpdateResponse::Completed(result))
            }
            Some(Ok(UpdateHandler::Async(future))) => {
                let core = self.core.clone();
                let mut c = self.core.borrow_mut();
                c.handlers_running += 1;
                c.spawned.push(Box::pin(async move {
                    let result = future.await;
                    let mut c = core.borrow_mut();
                    c.handlers_running = c.handlers_running.saturating_sub(1);
                    c.commands.push(Command::UpdateResponse {
                        id,
                        response: UpdateResponse::Completed(result),
                    });
                }));
            }
        }
        Ok(())
    }

    fn resolve(&mut self, kind: SeqKind, seq: u32, value: Slot) -> Result<(), TaskError> {
        let mut core = self.core.borrow_mut();
        if let Some(slot @ Slot::Waiting(_)) = core.slots.get_mut(&(kind, seq)) {
            if let Slot::Waiting(Some(waker)) = std::mem::replace(slot, value) {
                waker.wake();
            }
            return Ok(());
        }
        // The code dropped it, or a cancellation resolved it: the outcome
        // that still arrives is not for anyone.
        if core.take_given_up(kind, seq) {
            return Ok(());
        }
        Err(TaskError::nondeterminism(format!(
            "history resolves {kind:?} {seq}, which this workflow code is not waiting for"
        )))
    }

    fn poll_run(&mut self) -> Result<(), TaskError> {
        let waker = Waker::from(self.flag.clone());
        let mut cx = Context::from_waker(&waker);
        for _ in 0..MAX_POLLS_PER_ACTIVATION {
            self.flag.0.store(false, Ordering::SeqCst);
            if self.run.is_none() {
                return Ok(());
            }
            // Spawned tasks first, in spawn order, then the run function.
            let spawned = std::mem::take(&mut self.core.borrow_mut().spawned);
            self.tasks.extend(spawned);
            self.tasks
                .retain_mut(|task| task.as_mut().poll(&mut cx).is_pending());
            self.check_task_failure()?;
            let Some(run) = self.run.as_mut() else {
                return Ok(());
            };
            let poll = run.as_mut().poll(&mut cx);
            self.check_task_failure()?;
            if let Poll::Ready(result) = poll {
                self.finish(result)?;
                return Ok(());
            }
            // Conditions that now hold wake their futures for another pass.
            let fired = check_conditions(&self.core);
            self.check_task_failure()?;
            let cancelled = self.deliver_cancel();
            let spawned_more = !self.core.borrow().spawned.is_empty();
            if !self.flag.0.load(Ordering::SeqCst) && !spawned_more && !fired && !cancelled {
                return Ok(());
            }
        }
        Err(TaskError::new(
            "workflow code kept waking itself without waiting on anything",
        ))
    }

    /// Delivers a cancellation request that arrived in this activation to
    /// the futures waiting after a poll pass; returns whether it did.
    fn deliver_cancel(&mut self) -> bool {
        let mut core = self.core.borrow_mut();
        if !std::mem::take(&mut core.cancel_due) {
            return false;
        }
        core.deliver_cancel();
        // Conditions may read `cancelled()`: check them in another pass.
        true
    }

    fn check_task_failure(&mut self) -> Result<(), TaskError> {
        match self.core.borrow_mut().task_failure.take() {
            Some(error) => Err(error),
            None => Ok(()),
        }
    }

    fn finish(&mut self, result: WorkflowResult<W::Output>) -> Result<(), TaskError> {
        let command = match result {
            Ok(value) => Command::CompleteWorkflow {
                result: converter::encode(&value)
                    .map_err(|e| TaskError::new(format!("workflow result: {e}")))?,
            },
            Err(failure) => {
                let (requested, cancel_requested) = {
                    let mut core = self.core.borrow_mut();
                    (core.continue_as_new.take(), core.cancel_requested)
                };
                match requested {
                    Some(input) if is_continue_as_new(&failure) => Command::ContinueAsNew { input },
                    _ if cancel_requested && is_cancellation(&failure) => Command::CancelWorkflow {
                        details: Vec::new(),
                    },
                    _ => Command::FailWorkflow {
                        failure: failure.truncated(),
                    },
                }
            }
        };
        {
            let core = self.core.borrow();
            if core.handlers_running > 0 && !core.replaying {
                // As Temporal's SDKs do: handlers cut off by the run's end
                // usually mean a missing `ctx.all_handlers_finished().await`.
                tracing::warn!(
                    handlers = core.handlers_running,
                    "the workflow finished while signal or update handlers were still running; \
                     await ctx.all_handlers_finished() before returning"
                );
            }
        }
        {
            let mut core = self.core.borrow_mut();
            core.commands.push(command);
            // Nothing may follow the terminal command: the futures dropped
            // below give up silently.
            core.closing = true;
        }
        self.run = None;
        // Tasks still running end with the run. They are taken out of the
        // core before they drop: their futures' drops reach the core.
        self.tasks.clear();
        let spawned = std::mem::take(&mut self.core.borrow_mut().spawned);
        drop(spawned);
        let conditions = std::mem::take(&mut self.core.borrow_mut().conditions);
        drop(conditions);
        // The context (and so the state) stays: queries read it.
        self.finished = true;
        Ok(())
    }
}

impl<W: Workflow> Instance for Machine<W> {
    fn activate(&mut self, activation: Activation) -> Result<Vec<Command>, TaskError> {
        {
            let mut core = self.core.borrow_mut();
            core.now = WorkflowTime::from_system_time(activation.timestamp);
            core.replaying = activation.is_replaying;
            core.continue_as_new_suggested = activation.continue_as_new_suggested;
            core.history_size_bytes = activation.history_size_bytes;
            core.history_length = activation.history_length;
        }
        if self.finished {
            return Ok(Vec::new());
        }
        let history_length = activation.history_length;
        for job in activation.jobs {
            // A run that failed on its input takes no further jobs.
            if self.finished {
                break;
            }
            self.apply(job)?;
        }
        self.core
            .borrow_mut()
            .forget_cancelled_timers(history_length);
        self.poll_run()?;
        Ok(std::mem::take(&mut self.core.borrow_mut().commands))
    }

    fn query(&self, name: &str, input: &[Payload]) -> Result<Payload, Failure> {
        let Some(ctx) = self.ctx.as_ref() else {
            return Err(ApplicationError::new(format!(
                "query {name:?}: the workflow has not started, so it has no state to query"
            ))
            .with_type("QueryFailed")
            .into());
        };
        match ctx.state(|s| W::query(s, name, input)) {
            Some(result) => result,
            None => Err(ApplicationError::new(format!(
                "unknown query {name:?}: workflow {} has no such query",
                W::NAME
            ))
            .with_type("QueryNotFound")
            .into()),
        }
    }
}

impl<W: Workflow> Drop for Machine<W> {
    fn drop(&mut self) {
        // An instance evicted from the cache (or replaced after a failed
        // task) drops its run's futures: they must not emit anything.
        if let Ok(mut core) = self.core.try_borrow_mut() {
            core.closing = true;
        }
    }
}

/// Whether a run's error says it was cancelled, as Python's
/// `is_cancelled_exception`: a [`CanceledError`](crate::failure::CanceledError),
/// or an activity error caused by one (through nested activity errors).
fn is_cancellation(failure: &Failure) -> bool {
    match failure {
        Failure::Canceled(_) => true,
        Failure::Activity(e) => is_cancellation(&e.cause),
        Failure::ChildWorkflow(e) => is_cancellation(&e.cause),
        _ => false,
    }
}

/// Whether a run's error is the marker `ctx.continue_as_new` returned.
fn is_continue_as_new(failure: &Failure) -> bool {
    matches!(failure, Failure::Application(e) if e.type_name == super::context::CONTINUE_AS_NEW_TYPE)
}

fn validator_panicked<W: Workflow>(name: &str, panic: &(dyn std::any::Any + Send)) -> Failure {
    let message = crate::panic::message(panic);
    tracing::warn!(workflow_type = W::NAME, update = name, %message, "update validator panicked; the update is rejected");
    ApplicationError::new(format!(
        "the validator of update {name:?} panicked: {message}"
    ))
    .with_type("Panic")
    .into()
}

fn unknown_update<W: Workflow>(name: &str) -> Failure {
    ApplicationError::new(format!(
        "unknown update {name:?}: workflow {} has no such update",
        W::NAME
    ))
    .with_type("UpdateNotFound")
    .into()
}
