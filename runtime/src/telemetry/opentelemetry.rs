//! OpenTelemetry (feature `opentelemetry`): a run's spans in one trace.
//!
//! weft's spans are `tracing` spans; `tracing-opentelemetry`'s layer turns
//! them into OpenTelemetry spans for whatever exporter the application
//! configures (OTLP to Jaeger, Tempo, Honeycomb, ...). A run's workflow
//! tasks and activity attempts happen at different times, in different
//! workers, without headers to carry a trace between them; this module
//! gives them one: each span's parent is a remote span context whose trace
//! id is the run id (run ids are 128-bit UUIDs, a trace id's size), so the
//! tools show one trace per run. That parent is never exported itself
//! (nothing spans a run's whole life): tools list the trace's root as a
//! span they have not received.
//!
//! ```ignore
//! use tracing_subscriber::prelude::*;
//! let tracer = /* an opentelemetry_sdk tracer with your exporter */;
//! tracing_subscriber::registry()
//!     .with(weft::telemetry::opentelemetry::tracing_opentelemetry::layer().with_tracer(tracer))
//!     .init();
//! ```

pub use ::opentelemetry;
pub use ::tracing_opentelemetry;

use ::opentelemetry::trace::{
    SpanContext, SpanId, TraceContextExt, TraceFlags, TraceId, TraceState,
};
use ::tracing_opentelemetry::OpenTelemetrySpanExt;
use tracing::Span;

/// The trace id of a run's spans: the run id's 128 bits when it is a UUID
/// (as the embedded engine's are), else a hash of it.
pub fn run_trace_id(run_id: &str) -> TraceId {
    let bytes = match uuid::Uuid::parse_str(run_id) {
        Ok(uuid) if !uuid.is_nil() => *uuid.as_bytes(),
        _ => fnv128(run_id.as_bytes()),
    };
    TraceId::from_bytes(bytes)
}

/// The span id standing for the run itself, the parent of its spans.
fn run_span_id(trace_id: TraceId) -> SpanId {
    let bytes = trace_id.to_bytes();
    let mut id = [0u8; 8];
    for (i, b) in bytes.iter().enumerate() {
        id[i % 8] ^= b;
    }
    // A zero span id is invalid; any other value will do.
    if id == [0; 8] {
        id[7] = 1;
    }
    SpanId::from_bytes(id)
}

/// FNV-1a, 128 bits: a stable hash for run ids that are not UUIDs.
fn fnv128(data: &[u8]) -> [u8; 16] {
    let mut hash: u128 = 0x6c62272e07bb014262b821756295c58d;
    for b in data {
        hash ^= u128::from(*b);
        hash = hash.wrapping_mul(0x0000000001000000000000000000013B);
    }
    hash.to_be_bytes()
}

/// Makes `span` a child of its run's trace.
pub(crate) fn join_run_trace(span: &Span, run_id: &str) {
    let trace_id = run_trace_id(run_id);
    let parent = SpanContext::new(
        trace_id,
        run_span_id(trace_id),
        TraceFlags::SAMPLED,
        true,
        TraceState::default(),
    );
    let cx = ::opentelemetry::Context::new().with_remote_span_context(parent);
    // Fails only when no OpenTelemetry layer is installed: nothing to join.
    let _ = span.set_parent(cx);
}

#[cfg(test)]
mod tests {
    use tracing_subscriber::layer::SubscriberExt as _;

    use super::*;

    #[test]
    fn spans_of_a_run_share_its_trace() {
        let run_id = "01a24b43-84f0-7417-9314-ecce457dd7ba";
        let subscriber = tracing_subscriber::registry().with(tracing_opentelemetry::layer());
        tracing::subscriber::with_default(subscriber, || {
            let a = tracing::info_span!("workflow_task");
            join_run_trace(&a, run_id);
            let b = tracing::info_span!("activity");
            join_run_trace(&b, run_id);
            let trace = |s: &Span| s.context().span().span_context().trace_id();
            assert_eq!(trace(&a), run_trace_id(run_id));
            assert_eq!(trace(&b), trace(&a));
            assert_eq!(
                run_trace_id(run_id).to_bytes(),
                *uuid::Uuid::parse_str(run_id).unwrap().as_bytes()
            );
        });
        assert_ne!(run_trace_id("not-a-uuid"), run_trace_id("another"));
        assert_eq!(run_trace_id("not-a-uuid"), run_trace_id("not-a-uuid"));
    }
}
