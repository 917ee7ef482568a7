//! Failures: the error types that cross workflow, activity and client
//! boundaries, with their cause chains.
//!
//! A [`Failure`] is what history stores and what a workflow or client sees.
//! Each variant is a typed error whose `source()` is its cause, so the usual
//! error reporters walk the chain. `Display` prints one level; the alternate
//! form (`{:#}`) prints the whole chain, each cause once. `Debug` prints
//! the chain as anyhow does (the error, then `Caused by:` and each cause),
//! so `fn main() -> Result<(), Box<dyn Error>>` shows why a workflow
//! failed rather than a dump of its fields.

use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::converter::{self, ConverterError, Payload};

/// Any failure that history records or a caller receives.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum Failure {
    /// Raised by user code: an activity or a workflow.
    Application(ApplicationError),
    /// An activity failed for good; the cause says why.
    Activity(ActivityError),
    /// A child workflow did not complete; the cause says why. (Boxed: it
    /// names the child, and a `Failure` stays small.)
    ChildWorkflow(Box<ChildWorkflowError>),
    /// A timeout fired.
    Timeout(TimeoutError),
    /// Something was canceled.
    Canceled(CanceledError),
    /// The workflow was terminated.
    Terminated(TerminatedError),
    /// The engine refused or could not do something.
    Server(ServerError),
}

/// An error raised by user code, the one failure type an activity or workflow
/// builds itself.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct ApplicationError {
    /// Human-readable message.
    pub message: String,
    /// A type name callers and retry policies match on (empty if none).
    #[serde(default)]
    pub type_name: String,
    /// When true no retry policy retries it.
    #[serde(default)]
    pub non_retryable: bool,
    /// Encoded details for the caller.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub details: Vec<Payload>,
    /// Overrides the retry policy's next backoff.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_retry_delay: Option<Duration>,
    /// What caused it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cause: Option<Box<Failure>>,
}

impl ApplicationError {
    /// A retryable error with this message and no type.
    pub fn new(message: impl Into<String>) -> Self {
        ApplicationError {
            message: message.into(),
            type_name: String::new(),
            non_retryable: false,
            details: Vec::new(),
            next_retry_delay: None,
            cause: None,
        }
    }

    /// Sets the type name that callers and `non_retryable_error_types` match.
    pub fn with_type(mut self, type_name: impl Into<String>) -> Self {
        self.type_name = type_name.into();
        self
    }

    /// Marks the error as never retried.
    pub fn non_retryable(mut self) -> Self {
        self.non_retryable = true;
        self
    }

    /// Attaches a value for the caller to decode with [`ApplicationError::details`].
    pub fn with_details<T: Serialize>(mut self, details: &T) -> Result<Self, ConverterError> {
        self.details = vec![converter::encode(details)?];
        Ok(self)
    }

    /// Sets the cause.
    pub fn with_cause(mut self, cause: impl Into<Failure>) -> Self {
        self.cause = Some(Box::new(cause.into()));
        self
    }

    /// Overrides the retry policy's next backoff.
    pub fn with_next_retry_delay(mut self, delay: Duration) -> Self {
        self.next_retry_delay = Some(delay);
        self
    }

    /// Decodes the first details payload.
    pub fn details<T: serde::de::DeserializeOwned>(&self) -> Result<T, ConverterError> {
        converter::decode_single(&self.details)
    }

    /// Wraps any error: its type name becomes the failure type, its sources
    /// become the cause chain.
    pub fn from_error<E: std::error::Error + ?Sized>(error: &E) -> Self {
        let type_name = std::any::type_name::<E>();
        let mut app =
            ApplicationError::new(error.to_string()).with_type(short_type_name(type_name));
        if let Some(source) = error.source() {
            app.cause = Some(Box::new(Failure::Application(chain_of(source))));
        }
        app
    }
}

fn chain_of(error: &(dyn std::error::Error + 'static)) -> ApplicationError {
    let mut app = ApplicationError::new(error.to_string());
    if let Some(source) = error.source() {
        app.cause = Some(Box::new(Failure::Application(chain_of(source))));
    }
    app
}

fn short_type_name(full: &str) -> &str {
    let base = full.split('<').next().unwrap_or(full);
    base.rsplit("::").next().unwrap_or(base)
}

impl From<String> for ApplicationError {
    fn from(message: String) -> Self {
        ApplicationError::new(message)
    }
}

impl From<&str> for ApplicationError {
    fn from(message: &str) -> Self {
        ApplicationError::new(message)
    }
}

impl From<std::io::Error> for ApplicationError {
    fn from(e: std::io::Error) -> Self {
        ApplicationError::from_error(&e)
    }
}

impl From<ConverterError> for ApplicationError {
    /// A non-retryable error: `ValidationError` (with the broken rule as
    /// its details) for a value breaking its type's rules, else
    /// `ConverterError`. Retrying cannot change the value.
    fn from(e: ConverterError) -> Self {
        if let ConverterError::Invalid(violation) = &e {
            let error = ApplicationError::new(e.to_string())
                .with_type(VALIDATION_ERROR)
                .non_retryable();
            return match converter::encode(violation) {
                Ok(details) => ApplicationError {
                    details: vec![details],
                    ..error
                },
                Err(_) => error,
            };
        }
        ApplicationError::new(e.to_string())
            .with_type("ConverterError")
            .non_retryable()
    }
}

/// The type name of the failure a value breaking its type's validation
/// rules turns into ([`ConverterError::Invalid`]); its details decode as a
/// [`Violation`](crate::converter::Violation).
pub const VALIDATION_ERROR: &str = "ValidationError";

/// How far an activity's retries got.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum RetryState {
    /// Still retrying.
    InProgress,
    /// The failure was non-retryable.
    NonRetryableFailure,
    /// The next retry would pass the schedule-to-close timeout.
    Timeout,
    /// The policy's maximum attempts were used.
    MaximumAttemptsReached,
    /// No retry policy applies.
    RetryPolicyNotSet,
    /// A cancel was requested.
    CancelRequested,
}

impl fmt::Display for RetryState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            RetryState::InProgress => "in progress",
            RetryState::NonRetryableFailure => "non-retryable failure",
            RetryState::Timeout => "timeout",
            RetryState::MaximumAttemptsReached => "maximum attempts reached",
            RetryState::RetryPolicyNotSet => "retry policy not set",
            RetryState::CancelRequested => "cancel requested",
        })
    }
}

/// An activity failed for good (after its retries); `cause` is its last failure.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct ActivityError {
    /// The activity's type name.
    pub activity_type: String,
    /// The activity's id within the workflow.
    pub activity_id: String,
    /// Why retries stopped.
    pub retry_state: RetryState,
    /// The attempt that failed last (1-based).
    pub attempt: u32,
    /// The last attempt's failure.
    pub cause: Box<Failure>,
}

/// The message of an activity's cancellation.
pub(crate) const ACTIVITY_CANCELED: &str = "activity canceled";

impl ActivityError {
    /// An activity stopped by a cancellation request: its cause is a
    /// [`CanceledError`] with the activity's cancellation details, as the
    /// engine's `ActivityTaskCanceled` is read and as a workflow's
    /// cancellation resolves an activity it does not wait for.
    pub(crate) fn canceled(
        activity_type: &str,
        activity_id: &str,
        attempt: u32,
        details: Vec<crate::converter::Payload>,
    ) -> ActivityError {
        ActivityError {
            activity_type: activity_type.to_string(),
            activity_id: activity_id.to_string(),
            retry_state: RetryState::CancelRequested,
            attempt,
            cause: Box::new(Failure::Canceled(CanceledError {
                message: ACTIVITY_CANCELED.to_string(),
                details,
            })),
        }
    }
}

/// A child workflow did not complete: it failed, was canceled, terminated
/// or timed out; `cause` is its failure (a `CanceledError` when it was
/// canceled), as Temporal's `ChildWorkflowError`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ChildWorkflowError {
    /// What happened, as Temporal words it ("Child Workflow execution failed").
    pub message: String,
    /// The child's workflow id.
    pub workflow_id: String,
    /// The child's run id.
    pub run_id: String,
    /// The child's workflow type.
    pub workflow_type: String,
    /// Why the child's retries stopped.
    pub retry_state: RetryState,
    /// The child's failure.
    pub cause: Box<Failure>,
}

/// Which timeout fired.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum TimeoutType {
    /// One attempt ran too long.
    StartToClose,
    /// The activity waited in its queue too long.
    ScheduleToStart,
    /// All attempts together took too long.
    ScheduleToClose,
    /// The activity stopped heartbeating.
    Heartbeat,
    /// A workflow run passed its run timeout (Temporal's SDKs report
    /// `START_TO_CLOSE`).
    WorkflowRun,
    /// A workflow's chain of runs passed its execution timeout.
    WorkflowExecution,
}

impl fmt::Display for TimeoutType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TimeoutType::StartToClose => "start-to-close",
            TimeoutType::ScheduleToStart => "schedule-to-start",
            TimeoutType::ScheduleToClose => "schedule-to-close",
            TimeoutType::Heartbeat => "heartbeat",
            TimeoutType::WorkflowRun => "workflow run",
            TimeoutType::WorkflowExecution => "workflow execution",
        })
    }
}

/// A timeout fired.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TimeoutError {
    /// Which timeout.
    pub timeout_type: TimeoutType,
    /// The details of the last heartbeat, if any.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub last_heartbeat_details: Vec<Payload>,
}

/// Something was canceled.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CanceledError {
    /// Why.
    pub message: String,
    /// Encoded details.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub details: Vec<Payload>,
}

impl CanceledError {
    /// A cancellation with a message and no details.
    pub fn new(message: impl Into<String>) -> Self {
        CanceledError {
            message: message.into(),
            details: Vec::new(),
        }
    }

    /// Adds an encoded detail.
    pub fn with_details(mut self, details: Vec<Payload>) -> Self {
        self.details = details;
        self
    }
}

/// The workflow was terminated.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TerminatedError {
    /// The reason given.
    pub reason: String,
}

/// The engine could not do something (a limit, an internal error).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ServerError {
    /// What happened.
    pub message: String,
    /// Whether retrying can help.
    pub non_retryable: bool,
}

/// What a client sees when a workflow did not complete: the cause is the
/// workflow's failure (an application error, an activity error, a timeout, a
/// cancellation or a termination).
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct WorkflowFailureError {
    /// Why the workflow did not complete.
    pub cause: Failure,
}

impl Failure {
    /// The cause of this failure, if it has one.
    pub fn cause(&self) -> Option<&Failure> {
        match self {
            Failure::Application(e) => e.cause.as_deref(),
            Failure::Activity(e) => Some(&e.cause),
            Failure::ChildWorkflow(e) => Some(&e.cause),
            _ => None,
        }
    }

    /// The innermost failure of the chain.
    pub fn root_cause(&self) -> &Failure {
        let mut f = self;
        while let Some(next) = f.cause() {
            f = next;
        }
        f
    }

    /// This failure as an application error, if it is one.
    pub fn as_application(&self) -> Option<&ApplicationError> {
        match self {
            Failure::Application(e) => Some(e),
            _ => None,
        }
    }

    /// Whether a retry policy may retry this failure at all.
    pub fn is_non_retryable(&self) -> bool {
        match self {
            Failure::Application(e) => e.non_retryable,
            Failure::Server(e) => e.non_retryable,
            Failure::Canceled(_) | Failure::Terminated(_) => true,
            Failure::Activity(_) | Failure::ChildWorkflow(_) | Failure::Timeout(_) => false,
        }
    }

    /// The type name retry policies match against.
    pub fn type_name(&self) -> &str {
        match self {
            Failure::Application(e) => &e.type_name,
            Failure::Activity(_) => "ActivityError",
            Failure::ChildWorkflow(_) => "ChildWorkflowError",
            Failure::Timeout(_) => "TimeoutError",
            Failure::Canceled(_) => "CanceledError",
            Failure::Terminated(_) => "TerminatedError",
            Failure::Server(_) => "ServerError",
        }
    }

    fn as_error(&self) -> &(dyn std::error::Error + 'static) {
        match self {
            Failure::Application(e) => e,
            Failure::Activity(e) => e,
            Failure::ChildWorkflow(e) => &**e,
            Failure::Timeout(e) => e,
            Failure::Canceled(e) => e,
            Failure::Terminated(e) => e,
            Failure::Server(e) => e,
        }
    }
}

/// Writes `head`, then with `{:#}` every cause on its own line, each once.
fn write_chain(
    f: &mut fmt::Formatter<'_>,
    head: fmt::Arguments<'_>,
    cause: Option<&Failure>,
) -> fmt::Result {
    f.write_fmt(head)?;
    if f.alternate() {
        let mut next = cause;
        while let Some(c) = next {
            write!(f, "\n  caused by: {c}")?;
            next = c.cause();
        }
    }
    Ok(())
}

/// Formats an error and its causes as anyhow's `Debug` does: the error,
/// then `Caused by:` and each cause on its own line.
pub(crate) fn debug_chain(
    error: &(dyn std::error::Error + 'static),
    f: &mut fmt::Formatter<'_>,
) -> fmt::Result {
    write!(f, "{error}")?;
    let causes: Vec<_> = std::iter::successors(error.source(), |e| e.source()).collect();
    if causes.is_empty() {
        return Ok(());
    }
    write!(f, "\n\nCaused by:")?;
    for (i, cause) in causes.iter().enumerate() {
        if causes.len() == 1 {
            write!(f, "\n    {cause}")?;
        } else {
            write!(f, "\n    {i}: {cause}")?;
        }
    }
    Ok(())
}

macro_rules! debug_as_chain {
    ($($ty:ty),+) => {$(
        impl fmt::Debug for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                debug_chain(self, f)
            }
        }
    )+};
}

debug_as_chain!(
    Failure,
    ApplicationError,
    ActivityError,
    WorkflowFailureError
);

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Forwarding keeps the formatter's flags, so `{:#}` prints the chain.
        match self {
            Failure::Application(e) => fmt::Display::fmt(e, f),
            Failure::Activity(e) => fmt::Display::fmt(e, f),
            Failure::ChildWorkflow(e) => fmt::Display::fmt(e, f),
            Failure::Timeout(e) => fmt::Display::fmt(e, f),
            Failure::Canceled(e) => fmt::Display::fmt(e, f),
            Failure::Terminated(e) => fmt::Display::fmt(e, f),
            Failure::Server(e) => fmt::Display::fmt(e, f),
        }
    }
}

impl std::error::Error for Failure {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.as_error().source()
    }
}

impl fmt::Display for ApplicationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut extra = Vec::new();
        if !self.type_name.is_empty() {
            extra.push(format!("type: {}", self.type_name));
        }
        if self.non_retryable {
            extra.push("non-retryable".to_string());
        }
        let extra = if extra.is_empty() {
            String::new()
        } else {
            format!(" ({})", extra.join(", "))
        };
        write_chain(
            f,
            format_args!("ApplicationError: {}{extra}", self.message),
            self.cause.as_deref(),
        )
    }
}

impl std::error::Error for ApplicationError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.cause.as_deref().map(|c| c as _)
    }
}

impl fmt::Display for ActivityError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_chain(
            f,
            format_args!(
                "ActivityError: Activity task failed (activity type: {}, id: {}, attempts: {}, retry state: {})",
                self.activity_type, self.activity_id, self.attempt, self.retry_state
            ),
            Some(&self.cause),
        )
    }
}

impl std::error::Error for ActivityError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&*self.cause)
    }
}

impl fmt::Display for ChildWorkflowError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_chain(
            f,
            format_args!(
                "ChildWorkflowError: {} (workflow type: {}, id: {}, run: {}, retry state: {})",
                self.message, self.workflow_type, self.workflow_id, self.run_id, self.retry_state
            ),
            Some(&self.cause),
        )
    }
}

impl std::error::Error for ChildWorkflowError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&*self.cause)
    }
}

impl fmt::Display for TimeoutError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TimeoutError: {} timeout", self.timeout_type)
    }
}
impl std::error::Error for TimeoutError {}

impl fmt::Display for CanceledError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CanceledError: {}", self.message)
    }
}
impl std::error::Error for CanceledError {}

impl fmt::Display for TerminatedError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TerminatedError: {}", self.reason)
    }
}
impl std::error::Error for TerminatedError {}

impl fmt::Display for ServerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ServerError: {}", self.message)
    }
}
impl std::error::Error for ServerError {}

impl fmt::Display for WorkflowFailureError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("WorkflowFailureError: Workflow execution failed")?;
        if f.alternate() {
            let mut next = Some(&self.cause);
            while let Some(c) = next {
                write!(f, "\n  caused by: {c}")?;
                next = c.cause();
            }
        }
        Ok(())
    }
}

impl std::error::Error for WorkflowFailureError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.cause)
    }
}

macro_rules! into_failure {
    ($($ty:ident => $variant:ident),* $(,)?) => {$(
        impl From<$ty> for Failure {
            fn from(e: $ty) -> Self {
                Failure::$variant(e)
            }
        }
    )*};
}

into_failure!(
    ApplicationError => Application,
    ActivityError => Activity,
    TimeoutError => Timeout,
    CanceledError => Canceled,
    TerminatedError => Terminated,
    ServerError => Server,
);

impl From<ChildWorkflowError> for Failure {
    fn from(e: ChildWorkflowError) -> Self {
        Failure::ChildWorkflow(Box::new(e))
    }
}

impl From<ConverterError> for Failure {
    fn from(e: ConverterError) -> Self {
        Failure::Application(e.into())
    }
}

/// Maximum depth of a cause chain kept in history; deeper causes are cut.
pub const MAX_CAUSE_DEPTH: usize = 32;

impl Failure {
    /// Cuts the cause chain at [`MAX_CAUSE_DEPTH`] levels so a pathological
    /// chain cannot make a history row unreadable.
    pub fn truncated(mut self) -> Self {
        fn cut(f: &mut Failure, depth: usize) {
            let slot = match f {
                Failure::Application(e) => &mut e.cause,
                Failure::Activity(ActivityError { cause, .. }) => return cut_boxed(cause, depth),
                Failure::ChildWorkflow(child) => return cut_boxed(&mut child.cause, depth),
                _ => return,
            };
            if depth + 1 >= MAX_CAUSE_DEPTH {
                *slot = None;
            } else if let Some(next) = slot {
                cut(next, depth + 1);
            }
        }
        /// A cause that is always there: cut by replacing it.
        fn cut_boxed(cause: &mut Failure, depth: usize) {
            if depth + 1 >= MAX_CAUSE_DEPTH {
                *cause = Failure::Application(ApplicationError::new("cause chain truncated"));
            } else {
                cut(cause, depth + 1);
            }
        }
        cut(&mut self, 0);
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain() -> WorkflowFailureError {
        WorkflowFailureError {
            cause: Failure::Activity(ActivityError {
                activity_type: "process".into(),
                activity_id: "1".into(),
                retry_state: RetryState::MaximumAttemptsReached,
                attempt: 3,
                cause: Box::new(
                    ApplicationError::new("Processing failed for: test-data")
                        .with_type("RuntimeError")
                        .into(),
                ),
            }),
        }
    }

    #[test]
    fn alternate_prints_each_cause_once() {
        let text = format!("{:#}", chain());
        assert_eq!(
            text,
            "WorkflowFailureError: Workflow execution failed\n  caused by: ActivityError: Activity task failed (activity type: process, id: 1, attempts: 3, retry state: maximum attempts reached)\n  caused by: ApplicationError: Processing failed for: test-data (type: RuntimeError)"
        );
        assert_eq!(text.matches("Processing failed").count(), 1);
    }

    #[test]
    fn debug_prints_the_chain_as_anyhow_does() {
        let text = format!("{:?}", chain());
        assert_eq!(
            text,
            "WorkflowFailureError: Workflow execution failed\n\nCaused by:\n    0: ActivityError: Activity task failed (activity type: process, id: 1, attempts: 3, retry state: maximum attempts reached)\n    1: ApplicationError: Processing failed for: test-data (type: RuntimeError)"
        );
        // `{}` stays one line.
        assert!(!format!("{}", chain()).contains('\n'));
        let leaf: Failure = ApplicationError::new("alone").into();
        assert_eq!(format!("{leaf:?}"), "ApplicationError: alone");
        let one = ApplicationError::new("outer").with_cause(ApplicationError::new("inner"));
        assert_eq!(
            format!("{one:?}"),
            "ApplicationError: outer\n\nCaused by:\n    ApplicationError: inner"
        );
    }

    #[test]
    fn source_walks_the_chain() {
        let e = chain();
        let mut n = 0;
        let mut cur: Option<&dyn std::error::Error> = Some(&e);
        while let Some(c) = cur {
            n += 1;
            cur = c.source();
        }
        assert_eq!(n, 3);
        assert_eq!(
            e.cause.root_cause().as_application().unwrap().type_name,
            "RuntimeError"
        );
    }

    #[test]
    fn from_error_keeps_sources_and_type() {
        let io = std::io::Error::other("disk gone");
        let app = ApplicationError::from_error(&io);
        assert_eq!(app.type_name, "Error");
        assert_eq!(app.message, "disk gone");
    }

    #[test]
    fn deep_chains_are_truncated() {
        let mut f: Failure = ApplicationError::new("root").into();
        for i in 0..100 {
            f = ApplicationError::new(format!("level {i}"))
                .with_cause(f)
                .into();
        }
        let f = f.truncated();
        let mut depth = 1;
        let mut cur = &f;
        while let Some(next) = cur.cause() {
            depth += 1;
            cur = next;
        }
        assert_eq!(depth, MAX_CAUSE_DEPTH);
    }
}
