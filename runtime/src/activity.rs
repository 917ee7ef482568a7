//! Activities: the typed value a workflow schedules, and the context an
//! activity runs with.
//!
//! `#[activity]` leaves a function as it is and defines its [`Activity`]
//! value, a constant named after it in capitals (`fn order_apples` gives
//! `ORDER_APPLES`). A constant's name is a pattern wherever it is in scope,
//! so one named like the function would turn every binding of that name
//! (`let refund = ..`, a `refund =>` match arm) into a comparison with it;
//! a capitalised one collides with no snake_case binding. The value is
//! typed, can still be called like the function (it dereferences to a
//! function pointer), and activities with the same signature share one
//! type, so one can be chosen at run time and kept in a variable. Workers
//! run activities through the value's type-erased invoker; this module
//! knows nothing of workers, history or the engine.

use std::fmt;
use std::marker::PhantomData;
use std::ops::Deref;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant, SystemTime};

use futures::future::BoxFuture;
use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio::sync::watch;

use crate::converter::{self, ConverterError, Payload};
use crate::failure::{ApplicationError, CanceledError, Failure};
use crate::telemetry::MetricMeter;

/// Facts about the activity attempt being run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ActivityInfo {
    /// The activity's id within its workflow run.
    pub activity_id: String,
    /// The activity's type name.
    pub activity_type: String,
    /// The workflow that scheduled it.
    pub workflow_id: String,
    /// That workflow's run.
    pub workflow_run_id: String,
    /// That workflow's type.
    pub workflow_type: String,
    /// Namespace of that workflow.
    pub namespace: String,
    /// The task queue the attempt was taken from.
    pub task_queue: String,
    /// Attempt number, 1-based.
    pub attempt: u32,
    /// Whether it runs as a local activity.
    pub is_local: bool,
    /// When this attempt was scheduled (Temporal's
    /// `current_attempt_scheduled_time`).
    pub scheduled_time: SystemTime,
    /// When this attempt started: handed to the worker, or, for a local
    /// activity, begun by it.
    pub started_time: SystemTime,
}

/// Passed to activities that take it as their first argument.
///
/// Long-running activities heartbeat through it ([`ActivityContext::heartbeat`]):
/// that tells the engine they are alive (within their heartbeat timeout),
/// keeps progress details a retried attempt can resume from
/// ([`ActivityContext::heartbeat_details`]), and is how they learn that
/// their workflow asked for their cancellation.
#[derive(Clone)]
pub struct ActivityContext {
    info: Arc<ActivityInfo>,
    heart: Option<Arc<Heart>>,
    previous_details: Arc<Vec<Payload>>,
    cancel: watch::Receiver<bool>,
    meter: MetricMeter,
}

impl fmt::Debug for ActivityContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ActivityContext")
            .field("info", &self.info)
            .field("cancelled", &self.is_cancelled())
            .finish_non_exhaustive()
    }
}

/// Where heartbeats go: sends one and says whether the activity should stop.
pub(crate) type HeartbeatSink =
    Arc<dyn Fn(Vec<Payload>) -> BoxFuture<'static, Option<bool>> + Send + Sync>;

/// Temporal's default throttle when an activity has no heartbeat timeout.
const DEFAULT_HEARTBEAT_THROTTLE: Duration = Duration::from_secs(30);
/// Temporal's cap on the heartbeat throttle.
const MAX_HEARTBEAT_THROTTLE: Duration = Duration::from_secs(60);

/// Sends an attempt's heartbeats, at most one per throttle interval: a
/// heartbeat inside the interval only replaces the pending details, which
/// go out when the interval ends.
pub(crate) struct Heart {
    sink: HeartbeatSink,
    interval: Duration,
    runtime: tokio::runtime::Handle,
    cancel: watch::Sender<bool>,
    state: Mutex<HeartState>,
}

#[derive(Default)]
struct HeartState {
    last_sent: Option<Instant>,
    pending: Option<Vec<Payload>>,
    flush_scheduled: bool,
    done: bool,
}

impl Heart {
    /// The throttle interval: 0.8 x the heartbeat timeout, at most 60 s
    /// (30 s without a timeout), as Temporal's SDKs do.
    pub(crate) fn interval(heartbeat_timeout: Option<Duration>) -> Duration {
        heartbeat_timeout
            .map(|t| t.mul_f64(0.8))
            .unwrap_or(DEFAULT_HEARTBEAT_THROTTLE)
            .min(MAX_HEARTBEAT_THROTTLE)
    }

    fn beat(self: &Arc<Self>, details: Vec<Payload>) {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        if state.done {
            return;
        }
        let now = Instant::now();
        match state.last_sent {
            Some(last) if now.duration_since(last) < self.interval => {
                state.pending = Some(details);
                if !state.flush_scheduled {
                    state.flush_scheduled = true;
                    let wait = self.interval - now.duration_since(last);
                    let heart = self.clone();
                    self.runtime.spawn(async move {
                        tokio::time::sleep(wait).await;
                        heart.flush();
                    });
                }
            }
            _ => {
                state.last_sent = Some(now);
                drop(state);
                self.send(details);
            }
        }
    }

    fn flush(self: &Arc<Self>) {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        state.flush_scheduled = false;
        if state.done {
            return;
        }
        if let Some(details) = state.pending.take() {
            state.last_sent = Some(Instant::now());
            drop(state);
            self.send(details);
        }
    }

    fn send(self: &Arc<Self>, details: Vec<Payload>) {
        let heart = self.clone();
        self.runtime.spawn(async move {
            if (heart.sink)(details).await == Some(true) {
                heart.cancel.send_replace(true);
            }
        });
    }

    /// The attempt ended: no more heartbeats go out. Returns the details
    /// still waiting for the throttle, for the worker to send before it
    /// reports the attempt's end (so a retry resumes from the latest).
    pub(crate) fn stop(&self) -> Option<Vec<Payload>> {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        state.done = true;
        state.pending.take()
    }
}

impl ActivityContext {
    /// A context with the given facts; workers build these, tests may too.
    /// Its heartbeats go nowhere and it is never cancelled.
    pub fn new(info: ActivityInfo) -> Self {
        let (_, cancel) = watch::channel(false);
        ActivityContext {
            info: Arc::new(info),
            heart: None,
            previous_details: Arc::new(Vec::new()),
            cancel,
            meter: MetricMeter::noop(),
        }
    }

    /// A context whose heartbeats go to `sink`, throttled per
    /// `heartbeat_timeout`; `previous_details` are the last heartbeat's of
    /// an earlier attempt. Returns the heart, to stop when the attempt ends.
    pub(crate) fn with_heartbeat(
        info: ActivityInfo,
        sink: HeartbeatSink,
        heartbeat_timeout: Option<Duration>,
        previous_details: Vec<Payload>,
    ) -> (Self, Arc<Heart>) {
        let (tx, rx) = watch::channel(false);
        let heart = Arc::new(Heart {
            sink,
            interval: Heart::interval(heartbeat_timeout),
            runtime: tokio::runtime::Handle::current(),
            cancel: tx,
            state: Mutex::new(HeartState::default()),
        });
        let ctx = ActivityContext {
            info: Arc::new(info),
            heart: Some(heart.clone()),
            previous_details: Arc::new(previous_details),
            cancel: rx,
            meter: MetricMeter::noop(),
        };
        (ctx, heart)
    }

    /// Records a heartbeat with progress `details` (`&()` for none).
    ///
    /// Heartbeats are throttled (at most one sent per 0.8 x heartbeat
    /// timeout, capped at 60 s; inside the interval the latest details
    /// replace the pending ones), so calling this often costs little. The
    /// engine keeps the last details it received: a later attempt reads
    /// them with [`ActivityContext::heartbeat_details`], and a heartbeat
    /// timeout's failure carries them.
    ///
    /// Returns `Err(Failure::Canceled(..))` once the activity has learned
    /// that it should stop (its workflow asked for its cancellation, or the
    /// attempt is no longer wanted): return that error (it is reported as
    /// the activity's cancellation). This is how blocking activities see
    /// cancellation; async ones can also await [`ActivityContext::cancelled`].
    pub fn heartbeat<T: Serialize + ?Sized>(&self, details: &T) -> Result<(), Failure> {
        if let Some(heart) = &self.heart {
            let payload = converter::encode(details).map_err(|e| {
                Failure::from(
                    ApplicationError::new(format!("heartbeat details: {e}"))
                        .with_type("InvalidHeartbeatDetails")
                        .non_retryable(),
                )
            })?;
            heart.beat(vec![payload]);
        }
        if self.is_cancelled() {
            return Err(self.cancellation_error().into());
        }
        Ok(())
    }

    /// The details of the last heartbeat recorded before this attempt
    /// (by an earlier attempt), if any: where a retried attempt resumes.
    pub fn heartbeat_details<T: DeserializeOwned>(&self) -> Result<Option<T>, ConverterError> {
        match self.previous_details.first() {
            Some(payload) => converter::decode(payload).map(Some),
            None => Ok(None),
        }
    }

    /// Whether the activity has learned that it should stop. It learns it
    /// from the answer to a heartbeat, so an activity that never
    /// heartbeats never learns it.
    pub fn is_cancelled(&self) -> bool {
        *self.cancel.borrow()
    }

    /// Resolves once the activity has learned that it should stop (see
    /// [`ActivityContext::is_cancelled`]); never resolves for a context
    /// that cannot be cancelled.
    pub async fn cancelled(&self) {
        let mut rx = self.cancel.clone();
        if rx.wait_for(|c| *c).await.is_err() {
            // The sender is gone: cancellation can no longer arrive.
            futures::future::pending::<()>().await;
        }
    }

    /// The error to return when stopping on cancellation.
    pub fn cancellation_error(&self) -> CanceledError {
        CanceledError::new(format!(
            "activity {} ({}) cancelled",
            self.info.activity_id, self.info.activity_type
        ))
    }

    /// A context for calling an activity directly in a unit test.
    pub fn for_test(activity_type: &str) -> Self {
        let now = SystemTime::now();
        ActivityContext::new(ActivityInfo {
            activity_id: "1".into(),
            activity_type: activity_type.into(),
            workflow_id: "test-workflow".into(),
            workflow_run_id: "test-run".into(),
            workflow_type: "TestWorkflow".into(),
            namespace: crate::protocol::DEFAULT_NAMESPACE.into(),
            task_queue: "test".into(),
            attempt: 1,
            is_local: false,
            scheduled_time: now,
            started_time: now,
        })
    }

    /// Facts about this attempt.
    pub fn info(&self) -> &ActivityInfo {
        &self.info
    }

    /// A meter for custom metrics, recording into the worker's metrics
    /// (`Client::with_metrics`); without them every instrument is a no-op.
    pub fn metric_meter(&self) -> &MetricMeter {
        &self.meter
    }

    /// The same context recording custom metrics with `meter`.
    pub(crate) fn with_meter(mut self, meter: MetricMeter) -> Self {
        self.meter = meter;
        self
    }
}

/// Runs an activity from encoded arguments to an encoded result.
pub type ErasedActivity = Arc<
    dyn Fn(ActivityContext, Vec<Payload>) -> BoxFuture<'static, Result<Payload, Failure>>
        + Send
        + Sync,
>;

/// How a worker runs an activity value (generated by `#[activity]`).
#[doc(hidden)]
#[derive(Clone, Copy)]
pub enum Invoke {
    /// An async function.
    Async(fn(ActivityContext, Vec<Payload>) -> BoxFuture<'static, Result<Payload, Failure>>),
    /// A blocking function, run on the blocking pool.
    Blocking(fn(ActivityContext, Vec<Payload>) -> Result<Payload, Failure>),
    /// A method: register the instance with `Worker::register_activities`.
    Method,
}

/// The kind of an [`Activity`] made from a free function: a worker
/// registers it on its own ([`Worker::register_activity`](crate::Worker::register_activity)).
#[derive(Debug)]
pub enum Function {}

/// The kind of an [`Activity`] made from a method of an `#[activity]` impl
/// block: it runs on an instance, which a worker registers with all its
/// activities ([`Worker::register_activities`](crate::Worker::register_activities)).
#[derive(Debug)]
pub enum Method {}

/// Options an activity carries from its declaration
/// (`#[activity(start_to_close_timeout = "10s", retry(maximum_attempts = 3))]`),
/// used where a call does not set them. A call's own options win, and a
/// worker's default start-to-close timeout applies to calls that have no
/// timeout from either.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct ActivityDefaults {
    /// Limit on one attempt.
    pub start_to_close_timeout: Option<Duration>,
    /// Limit on all attempts together.
    pub schedule_to_close_timeout: Option<Duration>,
    /// Limit on the time spent waiting in the queue.
    pub schedule_to_start_timeout: Option<Duration>,
    /// Longest gap allowed between heartbeats.
    pub heartbeat_timeout: Option<Duration>,
    /// How failures are retried (default: Temporal's default policy).
    pub retry: Option<RetryDefaults>,
}

impl ActivityDefaults {
    /// No defaults.
    pub const NONE: ActivityDefaults = ActivityDefaults {
        start_to_close_timeout: None,
        schedule_to_close_timeout: None,
        schedule_to_start_timeout: None,
        heartbeat_timeout: None,
        retry: None,
    };
}

/// A retry policy as an activity's declaration gives it (a constant, so it
/// holds no `Vec`); see [`RetryPolicy`](crate::RetryPolicy).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RetryDefaults {
    /// Delay before the first retry.
    pub initial_interval: Duration,
    /// Each retry waits this many times longer than the one before.
    pub backoff_coefficient: f64,
    /// Cap on the delay; `None` means 100 x `initial_interval`.
    pub maximum_interval: Option<Duration>,
    /// Total attempts allowed, the first included; 0 means unlimited.
    pub maximum_attempts: u32,
    /// Failure type names that are never retried.
    pub non_retryable_error_types: &'static [&'static str],
}

impl RetryDefaults {
    /// The retry policy these defaults describe.
    pub fn policy(&self) -> crate::RetryPolicy {
        crate::RetryPolicy {
            initial_interval: self.initial_interval,
            backoff_coefficient: self.backoff_coefficient,
            maximum_interval: self.maximum_interval,
            maximum_attempts: self.maximum_attempts,
            non_retryable_error_types: self
                .non_retryable_error_types
                .iter()
                .map(|t| t.to_string())
                .collect(),
        }
    }
}

/// A typed activity: its name, its input `I` and output `O`, and the function
/// it wraps (`F`, a function pointer it dereferences to). `K` says whether
/// it was made from a free function ([`Function`]) or a method ([`Method`]).
///
/// `#[activity]` defines one as a constant named after the function in
/// capitals (`fn order_apples` gives `ORDER_APPLES`; a method `check` of
/// `Stock` gives `Stock::CHECK`), and leaves the function as it is.
/// Activities with the same signature share a type, so one can be chosen
/// at run time and kept in a variable.
pub struct Activity<F, I, O, K = Function> {
    name: &'static str,
    call: F,
    invoke: Invoke,
    encode_input: fn(&I) -> Result<Vec<Payload>, ConverterError>,
    defaults: ActivityDefaults,
    _types: PhantomData<fn(I) -> (O, K)>,
}

impl<F: Copy, I, O, K> Clone for Activity<F, I, O, K> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<F: Copy, I, O, K> Copy for Activity<F, I, O, K> {}

impl<F, I, O, K> fmt::Debug for Activity<F, I, O, K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Activity({})", self.name)
    }
}

impl<F, I, O, K> Activity<F, I, O, K> {
    /// Builds an activity value; `#[activity]` calls this.
    #[doc(hidden)]
    pub const fn __new(
        name: &'static str,
        call: F,
        invoke: Invoke,
        encode_input: fn(&I) -> Result<Vec<Payload>, ConverterError>,
    ) -> Self {
        Self::__with_defaults(name, call, invoke, encode_input, ActivityDefaults::NONE)
    }

    /// Builds an activity value with the options its declaration gives;
    /// `#[activity(..)]` calls this.
    #[doc(hidden)]
    pub const fn __with_defaults(
        name: &'static str,
        call: F,
        invoke: Invoke,
        encode_input: fn(&I) -> Result<Vec<Payload>, ConverterError>,
        defaults: ActivityDefaults,
    ) -> Self {
        Activity {
            name,
            call,
            invoke,
            encode_input,
            defaults,
            _types: PhantomData,
        }
    }

    /// The options the activity's declaration gives, used where a call
    /// does not set them.
    pub fn defaults(&self) -> &ActivityDefaults {
        &self.defaults
    }

    /// The activity type name workers register and workflows schedule.
    pub fn name(&self) -> &'static str {
        self.name
    }
}

impl<F, I, O, K> Deref for Activity<F, I, O, K> {
    type Target = F;

    /// Lets `ORDER_APPLES(8)` call the function the activity wraps.
    fn deref(&self) -> &F {
        &self.call
    }
}

mod sealed {
    pub trait Sealed {}
    impl<F, I, O, K> Sealed for super::Activity<F, I, O, K> {}
}

/// An activity value a workflow can schedule: what `#[activity]` defines.
/// Implemented by [`Activity`] only.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not an activity value",
    label = "expected the constant `#[activity]` defines",
    note = "`#[activity]` leaves `fn order_apples(..)` as it is and defines the constant \
            `ORDER_APPLES`, its activity value: schedule that, `ctx.activity(ORDER_APPLES, input)`",
    note = "a method `check` of an `#[activity]` impl block `Stock` gives `Stock::CHECK`"
)]
pub trait ActivityValue: sealed::Sealed {
    /// The activity's input: its one argument, or a tuple of its arguments.
    type Input;
    /// What it returns on success.
    type Output;
    /// The activity type name.
    fn activity_name(&self) -> &'static str;
    /// Encodes the input as the activity's payloads, one per argument.
    fn encode_input(&self, input: &Self::Input) -> Result<Vec<Payload>, ConverterError>;
    /// The options its declaration gives.
    fn activity_defaults(&self) -> ActivityDefaults;
}

impl<F, I, O, K> ActivityValue for Activity<F, I, O, K> {
    type Input = I;
    type Output = O;

    fn activity_name(&self) -> &'static str {
        self.name
    }

    fn encode_input(&self, input: &I) -> Result<Vec<Payload>, ConverterError> {
        (self.encode_input)(input)
    }

    fn activity_defaults(&self) -> ActivityDefaults {
        self.defaults
    }
}

/// An activity value a worker registers on its own: one made from a free
/// function. Method activities are registered with their instance.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be registered on its own",
    label = "expected the constant of an `#[activity]` fn",
    note = "an `#[activity] fn order_apples(..)` is registered through its constant: \
            `register_activity(ORDER_APPLES)`",
    note = "the activities of an `#[activity]` impl block run on an instance: register it, \
            with all its activities, by `register_activities(Arc::new(instance))`"
)]
pub trait FunctionActivity: ActivityValue {
    /// The runner a worker calls with encoded arguments.
    #[doc(hidden)]
    fn erased(&self) -> Option<ErasedActivity>;
}

impl<F, I, O> FunctionActivity for Activity<F, I, O, Function> {
    fn erased(&self) -> Option<ErasedActivity> {
        erase(self.invoke)
    }
}

/// A set of activities that are methods of one instance holding shared
/// dependencies; `#[activity]` on an impl block implements it.
pub trait ActivityGroup: Send + Sync + 'static {
    /// The activities, each bound to `self`.
    fn activities(self: Arc<Self>) -> Vec<(&'static str, ErasedActivity)>;
}

/// Turns an erased invoker into a boxed activity runner.
pub(crate) fn erase(invoke: Invoke) -> Option<ErasedActivity> {
    match invoke {
        Invoke::Async(f) => Some(Arc::new(move |ctx, input| f(ctx, input))),
        Invoke::Blocking(f) => Some(Arc::new(move |ctx, input| {
            // The blocking pool's thread runs in the attempt's span too.
            let span = tracing::Span::current();
            Box::pin(async move {
                match tokio::task::spawn_blocking(move || span.in_scope(|| f(ctx, input))).await {
                    Ok(result) => result,
                    Err(e) => Err(crate::failure::ApplicationError::new(format!(
                        "activity panicked: {}",
                        crate::panic::join_error(e)
                    ))
                    .with_type("Panic")
                    .into()),
                }
            })
        })),
        Invoke::Method => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::converter::encode;

    fn add(a: u32, b: u32) -> Result<u32, crate::failure::ApplicationError> {
        Ok(a + b)
    }

    type AddFn = fn(u32, u32) -> Result<u32, crate::failure::ApplicationError>;

    const ADD: Activity<AddFn, (u32, u32), u32> = Activity::__new(
        "add",
        add,
        Invoke::Blocking(|_, p| {
            crate::__private::arity(&p, 2)?;
            let a: u32 = crate::__private::arg(&p, 0)?;
            let b: u32 = crate::__private::arg(&p, 1)?;
            crate::__private::output(add(a, b))
        }),
        |(a, b)| Ok(vec![encode(a)?, encode(b)?]),
    );

    #[tokio::test]
    async fn heartbeats_are_throttled_and_answers_cancel() {
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<u32>();
        let sink: HeartbeatSink = Arc::new(move |details: Vec<Payload>| {
            let tx = tx.clone();
            Box::pin(async move {
                let n: u32 = crate::converter::decode(&details[0]).unwrap();
                tx.send(n).unwrap();
                // Ask the activity to stop once the last beat arrives.
                Some(n == 19)
            })
        });
        let info = ActivityContext::for_test("poll").info().clone();
        let (ctx, heart) =
            ActivityContext::with_heartbeat(info, sink, Some(Duration::from_millis(250)), vec![]);
        assert_eq!(heart.interval, Duration::from_millis(200));
        for n in 0..20u32 {
            ctx.heartbeat(&n).unwrap();
        }
        // The first beat goes at once; the other 19 collapse into one, sent
        // when the interval ends, with the latest details.
        assert_eq!(rx.recv().await, Some(0));
        assert_eq!(rx.recv().await, Some(19));
        ctx.cancelled().await;
        assert!(ctx.is_cancelled());
        assert!(matches!(ctx.heartbeat(&20u32), Err(Failure::Canceled(_))));
        // The beat after the cancellation waits for the throttle; stopping
        // hands it back instead of sending it.
        let pending = heart.stop().expect("a pending heartbeat");
        assert_eq!(crate::converter::decode::<u32>(&pending[0]).unwrap(), 20);
        assert!(rx.try_recv().is_err());
    }

    #[test]
    fn throttle_interval_follows_temporal() {
        assert_eq!(
            Heart::interval(Some(Duration::from_secs(10))),
            Duration::from_secs(8)
        );
        assert_eq!(Heart::interval(None), Duration::from_secs(30));
        assert_eq!(
            Heart::interval(Some(Duration::from_secs(600))),
            Duration::from_secs(60)
        );
    }

    #[tokio::test]
    async fn wrong_payload_count_or_type_is_a_clear_error() {
        let run = ADD.erased().unwrap();
        let ctx = ActivityContext::for_test("add");
        let ok = run(ctx.clone(), ADD.encode_input(&(2, 3)).unwrap())
            .await
            .unwrap();
        assert_eq!(crate::converter::decode::<u32>(&ok).unwrap(), 5);
        let err = run(ctx.clone(), vec![encode(&1).unwrap()])
            .await
            .unwrap_err();
        assert!(
            err.to_string().contains("expected 2 payload(s), got 1"),
            "{err}"
        );
        let err = run(ctx, vec![encode(&"x").unwrap(), encode(&1).unwrap()])
            .await
            .unwrap_err();
        assert!(err.to_string().contains("as u32"), "{err}");
        assert!(err.is_non_retryable());
        assert_eq!(ADD(1, 1).unwrap(), 2);
    }
}
