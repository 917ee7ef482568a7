//! Telemetry: Prometheus metrics, custom meters, interceptors and tracing
//! spans.
//!
//! - [`Metrics`] is the registry: what weft records (under Temporal's SDK
//!   metric names where Temporal records the same measure) and what user
//!   code records through a [`MetricMeter`]; [`Metrics::serve`] exposes it
//!   over HTTP at `/metrics`.
//! - Activities get a meter from their context; workflows get one whose
//!   instruments are silent while replaying (`ctx.metric_meter()`).
//! - Interceptors wrap activity attempts, workflow jobs and commands, and
//!   client calls ([`interceptors`]).
//! - Each workflow task and activity attempt runs in a `tracing` span
//!   (`workflow_task`, `activity`) carrying namespace, task queue,
//!   workflow type and id, run id, activity id and attempt; with the
//!   `opentelemetry` feature, `telemetry::opentelemetry` puts a run's spans in one
//!   trace.
//!
//! Metrics and meters know nothing of workflows, workers or engines: those
//! record into them. Interceptors sit beside workers and clients.

mod http;
pub mod interceptors;
mod meter;
mod metrics;
#[cfg(feature = "opentelemetry")]
pub mod opentelemetry;
pub(crate) mod sdk;
pub(crate) mod spans;

/// The future type interceptors return.
pub use futures::future::BoxFuture;
pub use http::MetricsServer;
pub use interceptors::{
    ActivityInterceptor, ActivityNext, ActivityOutcome, ClientInterceptor, ExecuteActivityInput,
    WorkflowInterceptor, WorkflowRun,
};
pub use meter::{DEFAULT_BUCKETS, MeterCounter, MeterGauge, MeterHistogram, MetricMeter};
pub(crate) use meter::{set_thread_meter, thread_meter};
pub use metrics::Metrics;
