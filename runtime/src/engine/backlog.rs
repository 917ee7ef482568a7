//! The engine's measures: each store commit (duration, operations) as the
//! writer reports it, and the tasks ready per task queue, read from the
//! engine task when metrics are scraped (so the hot path keeps no count).

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, oneshot};

use super::engine_task::EngineTask;
use super::requests::Request;
use super::writer::CommitHook;
use crate::telemetry::Metrics;
use crate::telemetry::sdk::BacklogLabels;

/// Tasks ready on one task queue.
#[derive(Debug)]
pub(crate) struct Ready {
    namespace: String,
    task_queue: String,
    /// `workflow` or `activity`.
    task_type: &'static str,
    ready: usize,
}

/// The writer's hook recording each commit.
pub(super) fn commit_hook(metrics: Metrics) -> CommitHook {
    Box::new(move |took: Duration, operations: usize| metrics.sdk().commit(took, operations))
}

/// Refreshes the backlog gauge before each scrape, for as long as the
/// engine runs (the refresher does not keep it alive).
pub(super) fn report(metrics: &Metrics, engine: mpsc::WeakSender<Request>) {
    let target = metrics.clone();
    metrics.add_refresher(Arc::new(move || {
        let engine = engine.clone();
        let metrics = target.clone();
        Box::pin(async move {
            let Some(engine) = engine.upgrade() else {
                return;
            };
            let (tx, rx) = oneshot::channel();
            if engine.send(Request::Backlog(tx)).await.is_err() {
                return;
            }
            drop(engine);
            let Ok(Ok(queues)) = rx.await else { return };
            for q in queues {
                let labels = BacklogLabels {
                    namespace: q.namespace,
                    task_queue: q.task_queue,
                    task_type: q.task_type.to_string(),
                };
                metrics.sdk().backlog(&labels, q.ready);
            }
        })
    }));
}

impl EngineTask {
    /// Tasks ready (not handed to a worker) on every task queue the
    /// engine knows, empty ones included so their gauge reads 0. Memory
    /// only, and for a gauge: answered without waiting for a commit.
    pub(super) fn backlog(&self) -> Vec<Ready> {
        let workflows = self.wft_queues.iter().map(|((ns, queue), q)| Ready {
            namespace: ns.to_string(),
            task_queue: queue.to_string(),
            task_type: "workflow",
            ready: q.ready.len(),
        });
        let activities = self.act_queues.iter().map(|((ns, queue), q)| Ready {
            namespace: ns.to_string(),
            task_queue: queue.to_string(),
            task_type: "activity",
            ready: q.ready.len(),
        });
        workflows.chain(activities).collect()
    }
}
