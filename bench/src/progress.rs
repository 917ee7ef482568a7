//! Progress lines on stderr, every two seconds, for runs that last longer.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use tokio::task::JoinHandle;

use crate::report::Memory;

/// Counts finished items and reports them until dropped.
pub struct Progress {
    done: Arc<AtomicU64>,
    task: Option<JoinHandle<()>>,
}

impl Progress {
    /// Starts reporting `label` out of `total` (silent when `enabled` is false).
    pub fn start(label: &str, total: u64, enabled: bool) -> Self {
        let done = Arc::new(AtomicU64::new(0));
        let task = enabled.then(|| {
            let done = done.clone();
            let label = label.to_string();
            tokio::spawn(async move {
                let start = Instant::now();
                let mut ticker = tokio::time::interval(Duration::from_secs(2));
                ticker.tick().await;
                loop {
                    ticker.tick().await;
                    let n = done.load(Ordering::Relaxed);
                    let secs = start.elapsed().as_secs_f64();
                    let rss = Memory::now()
                        .map(|m| format!(", rss {} MiB", m.rss_kib / 1024))
                        .unwrap_or_default();
                    eprintln!(
                        "  [{label}] {n}/{total} after {secs:.0} s ({:.0}/s{rss})",
                        n as f64 / secs.max(1e-9)
                    );
                }
            })
        });
        Progress { done, task }
    }

    /// Counts `n` more finished items.
    pub fn add(&self, n: u64) {
        self.done.fetch_add(n, Ordering::Relaxed);
    }

    /// The counter, for tasks that outlive a borrow.
    pub fn counter(&self) -> Arc<AtomicU64> {
        self.done.clone()
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}
