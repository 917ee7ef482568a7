//! A time-skipping clock for tests.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime};

use futures::future::BoxFuture;
use tokio::sync::Notify;

use super::Clock;

/// Virtual time for tests: it runs with the machine's clock, and whenever the
/// engine has nothing to do before its next deadline (no workflow task or
/// activity scheduled or running) it jumps to that deadline. A workflow that
/// sleeps for 90 days then takes as long as its tasks and activities take.
/// Timeouts are measured in the same virtual time, so a running activity's
/// start-to-close timeout is only reached in real time.
///
/// ```no_run
/// # async fn demo() -> Result<(), weft::backend::BackendError> {
/// use std::sync::Arc;
/// use weft::engine::{Engine, EngineOptions, MemoryStore, VirtualClock};
///
/// let clock = VirtualClock::new();
/// let engine = Engine::start(
///     MemoryStore::new(),
///     EngineOptions { clock: Arc::new(clock.clone()), ..EngineOptions::default() },
/// )?;
/// // ... start a worker and workflows; `clock.skipped()` tells how far
/// // time jumped.
/// # Ok(()) }
/// ```
#[derive(Clone, Debug, Default)]
pub struct VirtualClock {
    inner: Arc<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    /// How far virtual time is ahead of the machine's.
    offset: Mutex<Duration>,
    /// Wakes sleepers when time jumps.
    jumped: Notify,
}

impl VirtualClock {
    /// A clock that starts at the machine's time.
    pub fn new() -> Self {
        VirtualClock::default()
    }

    /// How much time was skipped so far.
    pub fn skipped(&self) -> Duration {
        *self
            .inner
            .offset
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

impl Clock for VirtualClock {
    fn now(&self) -> SystemTime {
        SystemTime::now() + self.skipped()
    }

    fn sleep_until(&self, deadline: SystemTime) -> BoxFuture<'static, ()> {
        let clock = self.clone();
        Box::pin(async move {
            loop {
                let notified = clock.inner.jumped.notified();
                let Ok(wait) = deadline.duration_since(clock.now()) else {
                    return;
                };
                if wait.is_zero() {
                    return;
                }
                tokio::select! {
                    () = tokio::time::sleep(wait) => {}
                    () = notified => {}
                }
            }
        })
    }

    fn skip_to(&self, deadline: SystemTime) -> bool {
        {
            let mut offset = self
                .inner
                .offset
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            let now = SystemTime::now() + *offset;
            let Ok(ahead) = deadline.duration_since(now) else {
                return false;
            };
            *offset += ahead;
        }
        self.inner.jumped.notify_waiters();
        true
    }

    fn skips_time(&self) -> bool {
        true
    }
}
