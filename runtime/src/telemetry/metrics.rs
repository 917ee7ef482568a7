//! [`Metrics`]: one Prometheus registry for what weft measures and what
//! user code measures, shared by the clients, workers and engines given it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use futures::future::BoxFuture;
use prometheus_client::encoding::prometheus_text;
use prometheus_client::registry::{Metric, Registry};

use super::meter::MetricMeter;
use super::sdk::{self, Sdk};

/// Called before each scrape, to refresh gauges whose values live
/// elsewhere (the engine's task queues).
pub(crate) type Refresher = Arc<dyn Fn() -> BoxFuture<'static, ()> + Send + Sync>;

/// The metrics of a process: the measures weft records (workflow and
/// activity outcomes and latencies, cache, task queue backlog, store
/// commits) and the ones user code records through a
/// [`MetricMeter`], in one Prometheus registry. Cheap to clone.
///
/// Give it to the client (`Client::with_metrics`; workers built from the
/// client record into it too) and to the engine (`EngineOptions::metrics`),
/// then serve it ([`Metrics::serve`]) or read it ([`Metrics::encode`]).
/// Without one, nothing is measured and nothing costs.
///
/// Every sample carries `service_name="weft"`, as Temporal's carry
/// `service_name`.
#[derive(Clone)]
pub struct Metrics {
    inner: Arc<Inner>,
}

struct Inner {
    registry: Mutex<Registry>,
    sdk: Sdk,
    /// Families user code created, by name.
    custom: Mutex<HashMap<String, super::meter::Custom>>,
    refreshers: Mutex<Vec<Refresher>>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

/// Locks `mutex`, taking the data of a holder that panicked: metrics are
/// counters and gauges, always consistent enough to read on.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Metrics {
    /// An empty registry with weft's own families.
    pub fn new() -> Self {
        let mut registry =
            Registry::with_labels([("service_name".into(), "weft".into())].into_iter());
        let sdk = Sdk::register(&mut registry);
        Metrics {
            inner: Arc::new(Inner {
                registry: Mutex::new(registry),
                sdk,
                custom: Mutex::new(HashMap::new()),
                refreshers: Mutex::new(Vec::new()),
            }),
        }
    }

    /// A meter recording custom metrics into this registry.
    pub fn meter(&self) -> MetricMeter {
        MetricMeter::new(Some(self.clone()))
    }

    /// The registry in Prometheus's text format (version 0.0.4), gauges
    /// that live elsewhere (the engine's backlog) refreshed first.
    pub async fn encode(&self) -> String {
        let refreshers = lock(&self.inner.refreshers).clone();
        for refresh in refreshers {
            refresh().await;
        }
        self.encode_now()
    }

    /// The registry as it is now, without refreshing anything.
    pub fn encode_now(&self) -> String {
        let mut text = String::new();
        // Writing into a String cannot fail; a metric's encoder could only
        // fail by a bug, and an endpoint had better serve what it has.
        if let Err(e) = prometheus_text::encode(&mut text, &lock(&self.inner.registry)) {
            tracing::error!(error = %e, "encoding metrics failed");
        }
        text
    }

    pub(crate) fn sdk(&self) -> &Sdk {
        &self.inner.sdk
    }

    pub(crate) fn add_refresher(&self, refresher: Refresher) {
        lock(&self.inner.refreshers).push(refresher);
    }

    /// Registers a metric of user code; `None` (with a warning saying why)
    /// when the name is taken by weft or not a valid Prometheus name.
    pub(crate) fn register(&self, name: &str, help: &str, metric: impl Metric) -> bool {
        if let Err(why) = valid_name(name) {
            tracing::warn!(metric = name, "metric not created: {why}");
            return false;
        }
        if sdk::NAMES.contains(&name) {
            tracing::warn!(
                metric = name,
                "metric not created: weft records a metric of that name"
            );
            return false;
        }
        lock(&self.inner.registry).register(name, help, metric);
        true
    }

    pub(crate) fn custom(&self) -> MutexGuard<'_, HashMap<String, super::meter::Custom>> {
        lock(&self.inner.custom)
    }
}

/// Checks a metric or label name against Prometheus's rules.
pub(crate) fn valid_name(name: &str) -> Result<(), String> {
    let mut chars = name.chars();
    let first_ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_');
    if first_ok && chars.all(|c| c.is_ascii_alphanumeric() || c == '_') {
        Ok(())
    } else {
        Err(format!(
            "{name:?} is not a valid Prometheus name (a letter or `_`, then letters, digits and `_`)"
        ))
    }
}
