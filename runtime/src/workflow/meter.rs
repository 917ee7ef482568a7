//! The workflow's meter: custom metrics whose instruments record only
//! while the workflow is not replaying, so a value is counted once however
//! often its history is replayed (cache misses, restarts, strict mode).

use std::time::Duration;

use super::run_core::SharedCore;
use crate::telemetry::{MeterCounter, MeterGauge, MeterHistogram, MetricMeter};

/// Creates replay-safe instruments; from
/// [`WorkflowContext::metric_meter`](super::WorkflowContext::metric_meter).
#[derive(Clone)]
pub struct WorkflowMeter {
    core: SharedCore,
    meter: MetricMeter,
}

/// True while replaying, when every instrument is a no-op.
fn silent(core: &SharedCore) -> bool {
    core.borrow().replaying
}

impl WorkflowMeter {
    pub(crate) fn new(core: SharedCore, meter: MetricMeter) -> Self {
        WorkflowMeter { core, meter }
    }

    /// A counter (see [`MetricMeter::counter`]).
    pub fn counter(&self, name: &str, help: &str) -> WorkflowCounter {
        WorkflowCounter {
            core: self.core.clone(),
            inner: self.meter.counter(name, help),
        }
    }

    /// A histogram with the default buckets (see [`MetricMeter::histogram`]).
    pub fn histogram(&self, name: &str, help: &str) -> WorkflowHistogram {
        WorkflowHistogram {
            core: self.core.clone(),
            inner: self.meter.histogram(name, help),
        }
    }

    /// A gauge (see [`MetricMeter::gauge`]).
    pub fn gauge(&self, name: &str, help: &str) -> WorkflowGauge {
        WorkflowGauge {
            core: self.core.clone(),
            inner: self.meter.gauge(name, help),
        }
    }
}

/// A counter that counts only while the workflow is not replaying.
#[derive(Clone)]
pub struct WorkflowCounter {
    core: SharedCore,
    inner: MeterCounter,
}

impl WorkflowCounter {
    /// Adds `n` to the series with these labels, unless replaying.
    pub fn add(&self, n: u64, labels: &[(&str, &str)]) {
        if !silent(&self.core) {
            self.inner.add(n, labels);
        }
    }
}

/// A histogram that records only while the workflow is not replaying.
#[derive(Clone)]
pub struct WorkflowHistogram {
    core: SharedCore,
    inner: MeterHistogram,
}

impl WorkflowHistogram {
    /// Records `value`, unless replaying.
    pub fn record(&self, value: f64, labels: &[(&str, &str)]) {
        if !silent(&self.core) {
            self.inner.record(value, labels);
        }
    }

    /// Records a duration in whole milliseconds, unless replaying.
    pub fn record_duration(&self, duration: Duration, labels: &[(&str, &str)]) {
        if !silent(&self.core) {
            self.inner.record_duration(duration, labels);
        }
    }
}

/// A gauge that is set only while the workflow is not replaying.
#[derive(Clone)]
pub struct WorkflowGauge {
    core: SharedCore,
    inner: MeterGauge,
}

impl WorkflowGauge {
    /// Sets the series with these labels, unless replaying.
    pub fn set(&self, value: i64, labels: &[(&str, &str)]) {
        if !silent(&self.core) {
            self.inner.set(value, labels);
        }
    }
}
