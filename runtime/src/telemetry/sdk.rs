//! The measures weft itself records, under the names, types, labels and
//! units of Temporal's core SDK where it records the same measure (so a
//! dashboard built for Temporal's SDKs reads weft unchanged), and `weft_`
//! names for the embedded engine's own.
//!
//! Temporal's counters have no `_total` suffix. prometheus-client appends
//! one to every counter, so Temporal's counters are exported as untyped
//! samples under their exact names ([`PlainCounter`]); PromQL's `rate` and
//! `increase` read them the same. Durations are integer milliseconds, with
//! Temporal's bucket edges.

use std::fmt;
use std::time::Duration;

use prometheus_client::encoding::{EncodeLabelSet, EncodeMetric, MetricEncoder};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::metrics::{MetricType, TypedMetric};
use prometheus_client::registry::Registry;

/// A counter exported under exactly its name (no `_total`), as Temporal's
/// SDKs export theirs; its type reads `untyped`.
#[derive(Clone, Debug, Default)]
pub(crate) struct PlainCounter(Counter);

impl PlainCounter {
    pub fn inc_by(&self, n: u64) {
        self.0.inc_by(n);
    }
}

impl TypedMetric for PlainCounter {
    const TYPE: MetricType = MetricType::Unknown;
}

impl EncodeMetric for PlainCounter {
    fn encode(&self, mut encoder: MetricEncoder) -> Result<(), fmt::Error> {
        encoder.encode_gauge(&self.0.get())
    }

    fn metric_type(&self) -> MetricType {
        MetricType::Unknown
    }
}

/// Labels of workflow measures.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct WorkflowLabels {
    pub namespace: String,
    pub task_queue: String,
    pub workflow_type: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct TaskFailureLabels {
    pub namespace: String,
    pub task_queue: String,
    pub workflow_type: String,
    pub failure_reason: String,
}

/// Labels of measures per task queue.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct QueueLabels {
    pub namespace: String,
    pub task_queue: String,
}

/// Labels of activity measures.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct ActivityLabels {
    pub namespace: String,
    pub task_queue: String,
    pub activity_type: String,
    pub workflow_type: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct ActivityFailureLabels {
    pub namespace: String,
    pub task_queue: String,
    pub activity_type: String,
    pub workflow_type: String,
    pub failure_reason: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct BacklogLabels {
    pub namespace: String,
    pub task_queue: String,
    /// `workflow` or `activity`.
    pub task_type: String,
}

type Histograms<L> = Family<L, Histogram, fn() -> Histogram>;

/// How a run closed, for the counters of closed runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Closed {
    Completed,
    Failed,
    Canceled,
    ContinuedAsNew,
}

/// Every family weft records into.
#[derive(Clone)]
pub(crate) struct Sdk {
    workflow_completed: Family<WorkflowLabels, PlainCounter>,
    workflow_failed: Family<WorkflowLabels, PlainCounter>,
    workflow_canceled: Family<WorkflowLabels, PlainCounter>,
    workflow_continue_as_new: Family<WorkflowLabels, PlainCounter>,
    workflow_task_execution_failed: Family<TaskFailureLabels, PlainCounter>,
    workflow_task_execution_latency: Histograms<WorkflowLabels>,
    activity_schedule_to_start_latency: Histograms<QueueLabels>,
    activity_execution_latency: Histograms<ActivityLabels>,
    activity_execution_failed: Family<ActivityFailureLabels, PlainCounter>,
    sticky_cache_hit: Family<QueueLabels, PlainCounter>,
    sticky_cache_miss: Family<QueueLabels, PlainCounter>,
    sticky_cache_size: Family<QueueLabels, Gauge>,
    task_queue_backlog: Family<BacklogLabels, Gauge>,
    store_commit_latency: Histogram,
    store_commit_batch_size: Histogram,
}

/// The names of every family above (custom metrics may not take them).
pub(crate) const NAMES: &[&str] = &[
    "temporal_workflow_completed",
    "temporal_workflow_failed",
    "temporal_workflow_canceled",
    "temporal_workflow_continue_as_new",
    "temporal_workflow_task_execution_failed",
    "temporal_workflow_task_execution_latency",
    "temporal_activity_schedule_to_start_latency",
    "temporal_activity_execution_latency",
    "temporal_activity_execution_failed",
    "temporal_sticky_cache_hit",
    "temporal_sticky_cache_miss",
    "temporal_sticky_cache_size",
    "weft_task_queue_backlog",
    "weft_store_commit_latency",
    "weft_store_commit_batch_size",
];

fn workflow_task_buckets() -> Histogram {
    Histogram::new([1.0, 10.0, 20.0, 50.0, 100.0, 200.0, 500.0, 1000.0])
}

fn schedule_to_start_buckets() -> Histogram {
    Histogram::new([100.0, 500.0, 1000.0, 5000.0, 10000.0, 100000.0, 1000000.0])
}

fn activity_execution_buckets() -> Histogram {
    Histogram::new([50.0, 100.0, 500.0, 1000.0, 5000.0, 10000.0, 60000.0])
}

/// Integer milliseconds, as Temporal's SDKs record durations.
pub(crate) fn millis(d: Duration) -> f64 {
    // Exact for any duration under 2^53 ms (285,000 years).
    d.as_millis() as f64
}

impl Sdk {
    /// The families, registered in `registry`.
    pub fn register(registry: &mut Registry) -> Sdk {
        let sdk = Sdk {
            workflow_completed: Family::default(),
            workflow_failed: Family::default(),
            workflow_canceled: Family::default(),
            workflow_continue_as_new: Family::default(),
            workflow_task_execution_failed: Family::default(),
            workflow_task_execution_latency: Family::new_with_constructor(workflow_task_buckets),
            activity_schedule_to_start_latency: Family::new_with_constructor(
                schedule_to_start_buckets,
            ),
            activity_execution_latency: Family::new_with_constructor(activity_execution_buckets),
            activity_execution_failed: Family::default(),
            sticky_cache_hit: Family::default(),
            sticky_cache_miss: Family::default(),
            sticky_cache_size: Family::default(),
            task_queue_backlog: Family::default(),
            store_commit_latency: Histogram::new([
                0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0, 200.0, 500.0, 1000.0,
            ]),
            store_commit_batch_size: Histogram::new([
                1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0,
            ]),
        };
        sdk.register_workflows(registry);
        sdk.register_activities(registry);
        sdk.register_engine(registry);
        sdk
    }

    fn register_workflows(&self, r: &mut Registry) {
        let closed = "Workflow runs closed this way, by workflow type";
        r.register(
            "temporal_workflow_completed",
            closed,
            self.workflow_completed.clone(),
        );
        r.register(
            "temporal_workflow_failed",
            closed,
            self.workflow_failed.clone(),
        );
        r.register(
            "temporal_workflow_canceled",
            closed,
            self.workflow_canceled.clone(),
        );
        r.register(
            "temporal_workflow_continue_as_new",
            closed,
            self.workflow_continue_as_new.clone(),
        );
        r.register(
            "temporal_workflow_task_execution_failed",
            "Workflow tasks that failed, by reason",
            self.workflow_task_execution_failed.clone(),
        );
        r.register(
            "temporal_workflow_task_execution_latency",
            "Time a worker took to run a workflow task, in milliseconds",
            self.workflow_task_execution_latency.clone(),
        );
    }

    fn register_activities(&self, r: &mut Registry) {
        r.register(
            "temporal_activity_schedule_to_start_latency",
            "Time an activity attempt waited in its queue, in milliseconds",
            self.activity_schedule_to_start_latency.clone(),
        );
        r.register(
            "temporal_activity_execution_latency",
            "Time an activity attempt ran, in milliseconds",
            self.activity_execution_latency.clone(),
        );
        r.register(
            "temporal_activity_execution_failed",
            "Activity attempts that failed, by reason",
            self.activity_execution_failed.clone(),
        );
        r.register(
            "temporal_sticky_cache_hit",
            "Workflow tasks run on a cached run",
            self.sticky_cache_hit.clone(),
        );
        r.register(
            "temporal_sticky_cache_miss",
            "Workflow tasks whose run was rebuilt from history",
            self.sticky_cache_miss.clone(),
        );
        r.register(
            "temporal_sticky_cache_size",
            "Runs in the worker's cache",
            self.sticky_cache_size.clone(),
        );
    }

    fn register_engine(&self, r: &mut Registry) {
        r.register(
            "weft_task_queue_backlog",
            "Tasks ready in the embedded engine and not yet handed to a worker",
            self.task_queue_backlog.clone(),
        );
        r.register(
            "weft_store_commit_latency",
            "Time a store commit took (its fsync included), in milliseconds",
            self.store_commit_latency.clone(),
        );
        r.register(
            "weft_store_commit_batch_size",
            "Engine steps committed together in one transaction (group commit)",
            self.store_commit_batch_size.clone(),
        );
    }

    pub fn workflow_closed(&self, labels: &WorkflowLabels, how: Closed) {
        let family = match how {
            Closed::Completed => &self.workflow_completed,
            Closed::Failed => &self.workflow_failed,
            Closed::Canceled => &self.workflow_canceled,
            Closed::ContinuedAsNew => &self.workflow_continue_as_new,
        };
        family.get_or_create(labels).inc_by(1);
    }

    pub fn workflow_task(&self, labels: &WorkflowLabels, took: Duration) {
        self.workflow_task_execution_latency
            .get_or_create(labels)
            .observe(millis(took));
    }

    pub fn workflow_task_failed(&self, labels: &WorkflowLabels, reason: &str) {
        let labels = TaskFailureLabels {
            namespace: labels.namespace.clone(),
            task_queue: labels.task_queue.clone(),
            workflow_type: labels.workflow_type.clone(),
            failure_reason: reason.to_string(),
        };
        self.workflow_task_execution_failed
            .get_or_create(&labels)
            .inc_by(1);
    }

    pub fn activity_started(&self, queue: &QueueLabels, waited: Duration) {
        self.activity_schedule_to_start_latency
            .get_or_create(queue)
            .observe(millis(waited));
    }

    pub fn activity_finished(
        &self,
        labels: &ActivityLabels,
        took: Duration,
        failure: Option<&str>,
    ) {
        self.activity_execution_latency
            .get_or_create(labels)
            .observe(millis(took));
        if let Some(reason) = failure {
            let labels = ActivityFailureLabels {
                namespace: labels.namespace.clone(),
                task_queue: labels.task_queue.clone(),
                activity_type: labels.activity_type.clone(),
                workflow_type: labels.workflow_type.clone(),
                failure_reason: reason.to_string(),
            };
            self.activity_execution_failed
                .get_or_create(&labels)
                .inc_by(1);
        }
    }

    pub fn cache_lookup(&self, queue: &QueueLabels, hit: bool) {
        let family = if hit {
            &self.sticky_cache_hit
        } else {
            &self.sticky_cache_miss
        };
        family.get_or_create(queue).inc_by(1);
    }

    pub fn cache_size(&self, queue: &QueueLabels, size: usize) {
        let size = i64::try_from(size).unwrap_or(i64::MAX);
        self.sticky_cache_size.get_or_create(queue).set(size);
    }

    pub fn backlog(&self, labels: &BacklogLabels, ready: usize) {
        let ready = i64::try_from(ready).unwrap_or(i64::MAX);
        self.task_queue_backlog.get_or_create(labels).set(ready);
    }

    pub fn commit(&self, took: Duration, steps: usize) {
        // In fractions of a millisecond: a commit takes less than one.
        self.store_commit_latency.observe(took.as_secs_f64() * 1e3);
        // Counts of steps are small integers: exact in an f64.
        self.store_commit_batch_size.observe(steps as f64);
    }
}
