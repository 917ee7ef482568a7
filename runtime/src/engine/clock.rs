//! A time-skipping clock for tests, automatic or driven by the test.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime};

use futures::future::BoxFuture;
use tokio::sync::{Notify, watch};

use super::Clock;

/// Virtual time for tests.
///
/// [`VirtualClock::new`] skips time by itself: it runs with the machine's
/// clock, and whenever the engine has nothing to do before its next
/// deadline (no workflow task or activity scheduled or running) it jumps to
/// that deadline. A workflow that sleeps for 90 days then takes as long as
/// its tasks and activities take. Timeouts are measured in the same virtual
/// time, so a running activity's start-to-close timeout is only reached in
/// real time.
///
/// [`VirtualClock::manual`] stands still until the test moves it:
/// [`advance`](VirtualClock::advance) by a duration, or
/// [`skip_to_next_deadline`](VirtualClock::skip_to_next_deadline) once the
/// engine waits, then act (send a signal, query). That is how "a human
/// approves after one day, before the two-day timeout" is tested: an
/// automatic clock would skip past the timeout as soon as the engine is
/// idle.
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
    /// How far virtual time is ahead of the machine's (automatic), or of
    /// the moment the clock was made (manual).
    offset: Mutex<Duration>,
    /// `Some(start)` for a manual clock: time is `start + offset`.
    manual: Option<SystemTime>,
    /// Wakes sleepers when time jumps.
    jumped: Notify,
    /// Wakes the engine's sleep, so it looks whether it is idle again.
    poke: Notify,
    /// The engine's next deadline, sent each time it is idle.
    idle_at: watch::Sender<Option<SystemTime>>,
}

impl VirtualClock {
    /// A clock that starts at the machine's time and skips to the engine's
    /// next deadline whenever the engine is idle.
    pub fn new() -> Self {
        VirtualClock::default()
    }

    /// A clock that starts at the machine's time and stands still: time
    /// moves only when the test calls [`VirtualClock::advance`] or
    /// [`VirtualClock::skip_to_next_deadline`].
    pub fn manual() -> Self {
        VirtualClock {
            inner: Arc::new(Inner {
                manual: Some(SystemTime::now()),
                ..Inner::default()
            }),
        }
    }

    /// How much time was skipped so far.
    pub fn skipped(&self) -> Duration {
        *self
            .inner
            .offset
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Moves time forward by `by`: timers and timeouts that fall due meanwhile
    /// fire, in order, as the engine gets to them.
    pub fn advance(&self, by: Duration) {
        *self
            .inner
            .offset
            .lock()
            .unwrap_or_else(PoisonError::into_inner) += by;
        self.inner.jumped.notify_waiters();
    }

    /// Waits until the engine is idle (no workflow task or activity
    /// scheduled or running), then moves time to its next deadline (the
    /// earliest timer, or timeout, of the runs that wait) and returns it.
    /// Never resolves while nothing waits on a deadline; wrap it in a
    /// timeout.
    pub async fn skip_to_next_deadline(&self) -> SystemTime {
        let mut idle = self.inner.idle_at.subscribe();
        idle.mark_unchanged();
        loop {
            // The engine reports when it next finds itself idle.
            self.inner.poke.notify_waiters();
            if idle.changed().await.is_err() {
                return self.now();
            }
            let Some(at) = *idle.borrow_and_update() else {
                continue;
            };
            if let Ok(ahead) = at.duration_since(self.now()) {
                self.advance(ahead);
            }
            return at;
        }
    }
}

impl Clock for VirtualClock {
    fn now(&self) -> SystemTime {
        self.inner.manual.unwrap_or_else(SystemTime::now) + self.skipped()
    }

    fn sleep_until(&self, deadline: SystemTime) -> BoxFuture<'static, ()> {
        let clock = self.clone();
        Box::pin(async move {
            loop {
                let notified = clock.inner.jumped.notified();
                let poked = clock.inner.poke.notified();
                let Ok(wait) = deadline.duration_since(clock.now()) else {
                    return;
                };
                if wait.is_zero() {
                    return;
                }
                let real_wait = async {
                    match clock.inner.manual {
                        Some(_) => futures::future::pending().await,
                        None => tokio::time::sleep(wait).await,
                    }
                };
                tokio::select! {
                    () = real_wait => {}
                    () = notified => {}
                    // The engine goes round its loop (and reports whether
                    // it is idle); nothing is due yet.
                    () = poked => return,
                }
            }
        })
    }

    fn skip_to(&self, deadline: SystemTime) -> bool {
        self.inner.idle_at.send_replace(Some(deadline));
        if self.inner.manual.is_some() {
            return false;
        }
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
