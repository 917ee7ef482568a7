//! Custom metrics: counters, histograms and gauges with labels, created by
//! name through a [`MetricMeter`] (an activity's, a workflow's through its
//! context, or [`Metrics::meter`]). Without a registry every instrument is
//! a no-op, so code records unconditionally.

use std::cell::RefCell;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::{Family, MetricConstructor};
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;

use super::metrics::{Metrics, valid_name};
use super::sdk::{PlainCounter, millis};

type Labels = Vec<(String, String)>;

/// Bucket edges of histograms made with [`MetricMeter::histogram`]:
/// Temporal's default for custom histograms, in milliseconds.
pub const DEFAULT_BUCKETS: [f64; 6] = [50.0, 100.0, 500.0, 1000.0, 2500.0, 10000.0];

/// Builds histograms with a family's bucket edges.
#[derive(Clone, Debug)]
pub(crate) struct Buckets(Arc<[f64]>);

impl MetricConstructor<Histogram> for Buckets {
    fn new_metric(&self) -> Histogram {
        Histogram::new(self.0.iter().copied())
    }
}

/// A family user code created, kept by name so every meter that asks for
/// the name shares it.
#[derive(Clone)]
pub(crate) enum Custom {
    Counter(CounterFamily),
    Histogram(Family<Labels, Histogram, Buckets>),
    Gauge(Family<Labels, Gauge>),
}

impl Custom {
    fn kind(&self) -> &'static str {
        match self {
            Custom::Counter(_) => "counter",
            Custom::Histogram(_) => "histogram",
            Custom::Gauge(_) => "gauge",
        }
    }
}

/// Counters keep the name they are given: one ending in `_total` is a
/// Prometheus counter (which must end so), any other is exported untyped
/// under its exact name, as Temporal's own counters are.
#[derive(Clone)]
pub(crate) enum CounterFamily {
    Total(Family<Labels, Counter>),
    Plain(Family<Labels, PlainCounter>),
}

/// Creates instruments by name; see the module docs.
///
/// Asking twice for one name returns the same instrument. A name that is
/// not a valid Prometheus name, that weft uses, or that exists as another
/// kind gives a no-op instrument and a warning saying why.
#[derive(Clone, Debug, Default)]
pub struct MetricMeter {
    metrics: Option<Metrics>,
}

impl MetricMeter {
    pub(crate) fn new(metrics: Option<Metrics>) -> Self {
        MetricMeter { metrics }
    }

    /// A meter whose instruments record nothing.
    pub fn noop() -> Self {
        MetricMeter::default()
    }

    /// Whether instruments of this meter record anything.
    pub fn is_enabled(&self) -> bool {
        self.metrics.is_some()
    }

    /// A counter.
    pub fn counter(&self, name: &str, help: &str) -> MeterCounter {
        let family = self.family(name, help, "counter", || {
            Custom::Counter(match name.strip_suffix("_total") {
                Some(_) => CounterFamily::Total(Family::default()),
                None => CounterFamily::Plain(Family::default()),
            })
        });
        let family = match family {
            Some(Custom::Counter(f)) => Some(f),
            _ => None,
        };
        MeterCounter {
            family,
            checks: Checks::new(name),
        }
    }

    /// A histogram with [`DEFAULT_BUCKETS`] (milliseconds).
    pub fn histogram(&self, name: &str, help: &str) -> MeterHistogram {
        self.histogram_with_buckets(name, help, &DEFAULT_BUCKETS)
    }

    /// A histogram with these bucket edges (ascending).
    pub fn histogram_with_buckets(
        &self,
        name: &str,
        help: &str,
        buckets: &[f64],
    ) -> MeterHistogram {
        let edges = Buckets(buckets.iter().copied().collect());
        let family = self.family(name, help, "histogram", || {
            Custom::Histogram(Family::new_with_constructor(edges))
        });
        let family = match family {
            Some(Custom::Histogram(f)) => Some(f),
            _ => None,
        };
        MeterHistogram {
            family,
            checks: Checks::new(name),
        }
    }

    /// A gauge.
    pub fn gauge(&self, name: &str, help: &str) -> MeterGauge {
        let family = self.family(name, help, "gauge", || Custom::Gauge(Family::default()));
        let family = match family {
            Some(Custom::Gauge(f)) => Some(f),
            _ => None,
        };
        MeterGauge {
            family,
            checks: Checks::new(name),
        }
    }

    /// The family named `name`: the existing one, or a new one made by
    /// `make` and registered.
    fn family(
        &self,
        name: &str,
        help: &str,
        kind: &str,
        make: impl FnOnce() -> Custom,
    ) -> Option<Custom> {
        let metrics = self.metrics.as_ref()?;
        let mut custom = metrics.custom();
        if let Some(existing) = custom.get(name) {
            if existing.kind() == kind {
                return Some(existing.clone());
            }
            tracing::warn!(
                metric = name,
                "{kind} not created: the name is a {} already",
                existing.kind()
            );
            return None;
        }
        let family = make();
        let registered = match &family {
            Custom::Counter(CounterFamily::Total(f)) => {
                // prometheus-client adds the suffix back when it encodes.
                let base = name.strip_suffix("_total").unwrap_or(name);
                metrics.register(base, help, f.clone())
            }
            Custom::Counter(CounterFamily::Plain(f)) => metrics.register(name, help, f.clone()),
            Custom::Histogram(f) => metrics.register(name, help, f.clone()),
            Custom::Gauge(f) => metrics.register(name, help, f.clone()),
        };
        if !registered {
            return None;
        }
        custom.insert(name.to_string(), family.clone());
        Some(family)
    }
}

/// Label checks of one instrument, warning once about bad label names.
#[derive(Clone, Debug)]
struct Checks {
    name: Arc<str>,
    warned: Arc<AtomicBool>,
}

impl Checks {
    fn new(name: &str) -> Self {
        Checks {
            name: name.into(),
            warned: Arc::new(AtomicBool::new(false)),
        }
    }

    /// The labels as a family key, or `None` (warned once) when a name is
    /// not a valid Prometheus label name.
    fn labels(&self, labels: &[(&str, &str)]) -> Option<Labels> {
        for (key, _) in labels {
            if let Err(why) = valid_name(key) {
                if !self.warned.swap(true, Ordering::Relaxed) {
                    tracing::warn!(metric = %self.name, "a recording was dropped: label {why}");
                }
                return None;
            }
        }
        Some(
            labels
                .iter()
                .map(|(k, v)| ((*k).to_string(), (*v).to_string()))
                .collect(),
        )
    }
}

/// A counter from a [`MetricMeter`].
#[derive(Clone)]
pub struct MeterCounter {
    family: Option<CounterFamily>,
    checks: Checks,
}

impl MeterCounter {
    /// Adds `n` to the series with these labels.
    pub fn add(&self, n: u64, labels: &[(&str, &str)]) {
        let Some(family) = &self.family else { return };
        let Some(labels) = self.checks.labels(labels) else {
            return;
        };
        match family {
            CounterFamily::Total(f) => {
                f.get_or_create(&labels).inc_by(n);
            }
            CounterFamily::Plain(f) => f.get_or_create(&labels).inc_by(n),
        }
    }
}

/// A histogram from a [`MetricMeter`].
#[derive(Clone)]
pub struct MeterHistogram {
    family: Option<Family<Labels, Histogram, Buckets>>,
    checks: Checks,
}

impl MeterHistogram {
    /// Records `value` in the series with these labels.
    pub fn record(&self, value: f64, labels: &[(&str, &str)]) {
        let Some(family) = &self.family else { return };
        if let Some(labels) = self.checks.labels(labels) {
            family.get_or_create(&labels).observe(value);
        }
    }

    /// Records a duration in whole milliseconds, as Temporal's SDKs do.
    pub fn record_duration(&self, duration: Duration, labels: &[(&str, &str)]) {
        self.record(millis(duration), labels);
    }
}

/// A gauge from a [`MetricMeter`].
#[derive(Clone)]
pub struct MeterGauge {
    family: Option<Family<Labels, Gauge>>,
    checks: Checks,
}

impl MeterGauge {
    /// Sets the series with these labels to `value`.
    pub fn set(&self, value: i64, labels: &[(&str, &str)]) {
        let Some(family) = &self.family else { return };
        if let Some(labels) = self.checks.labels(labels) {
            family.get_or_create(&labels).set(value);
        }
    }
}

thread_local! {
    /// The meter of the worker whose workflow thread this is.
    static THREAD_METER: RefCell<MetricMeter> = RefCell::new(MetricMeter::noop());
}

/// Sets the meter workflow code on this thread records into.
pub(crate) fn set_thread_meter(meter: MetricMeter) {
    THREAD_METER.with(|m| *m.borrow_mut() = meter);
}

/// The meter workflow code on this thread records into.
pub(crate) fn thread_meter() -> MetricMeter {
    THREAD_METER.with(|m| m.borrow().clone())
}
