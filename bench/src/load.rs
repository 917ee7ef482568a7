//! Driving N calls with C in flight.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use tokio::task::JoinSet;

use crate::BenchError;
use crate::progress::Progress;

/// Calls `one(i)` for every `i` below `n`, at most `c` at once, counting
/// each finished call in `progress`; returns what the calls returned (in
/// no particular order), or the first error.
pub async fn fan_out<T, F, Fut>(
    n: u64,
    c: usize,
    progress: &Progress,
    one: F,
) -> Result<Vec<T>, BenchError>
where
    T: Send + 'static,
    F: Fn(u64) -> Fut + Clone + Send + 'static,
    Fut: Future<Output = Result<T, BenchError>> + Send,
{
    let next = Arc::new(AtomicU64::new(0));
    let mut tasks = JoinSet::new();
    let callers = c.clamp(1, usize::try_from(n).unwrap_or(usize::MAX).max(1));
    for _ in 0..callers {
        let (one, next, done) = (one.clone(), next.clone(), progress.counter());
        tasks.spawn(async move {
            let mut out = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= n {
                    return Ok::<_, BenchError>(out);
                }
                out.push(one(i).await?);
                done.fetch_add(1, Ordering::Relaxed);
            }
        });
    }
    let mut all = Vec::new();
    let mut failure = None;
    while let Some(joined) = tasks.join_next().await {
        match joined {
            Ok(Ok(mine)) => all.extend(mine),
            Ok(Err(e)) => {
                failure = failure.or(Some(e));
                // The rest would only pile up behind the failure.
                tasks.abort_all();
            }
            Err(e) if e.is_cancelled() => {}
            Err(e) => failure = failure.or(Some(BenchError::new(format!("caller task: {e}")))),
        }
    }
    match failure {
        Some(e) => Err(e),
        None => Ok(all),
    }
}
