//! Strict replay's clock shift: the fresh replay of a task runs in a later
//! millisecond of the wall clock than the live code did.
//!
//! Workflow code cannot be shown another wall clock: `SystemTime::now()`
//! and `Instant::now()` ask the operating system, and nothing in safe Rust
//! stands in between. What strict mode controls is when its fresh replay
//! runs. Started straight after the live code, it usually runs within the
//! same millisecond, so a helper the macros cannot see that puts
//! `SystemTime::now()` in milliseconds into an activity's input would give
//! the same value twice, and pass. Waiting until the wall clock's
//! millisecond has changed makes every reading at millisecond precision or
//! finer differ between the two runs, every time, for a wait under a
//! millisecond (none when replaying the earlier tasks took that long). A
//! coarser reading (whole seconds, a date) differs only when a boundary
//! falls between the runs: waiting for the next second instead would cost
//! up to a second per task. `ctx.now()` is not shifted: both runs read the
//! task's start time from history.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// At most this many sleeps: a clock stepped back while waiting does not
/// hold the workflow thread for long.
const MAX_SLEEPS: u32 = 8;

/// The wall clock's millisecond once the live code has run.
pub(super) struct LiveMillisecond(Option<u128>);

impl LiveMillisecond {
    /// Read after the live code's last activation returned.
    pub fn now() -> Self {
        LiveMillisecond(since_epoch().map(|d| d.as_millis()))
    }

    /// Returns once the wall clock reads another millisecond: a later one,
    /// unless the clock was stepped back.
    pub fn wait_until_past(&self) {
        let Some(live) = self.0 else {
            return;
        };
        for _ in 0..MAX_SLEEPS {
            let Some(now) = since_epoch() else {
                return;
            };
            if now.as_millis() != live {
                return;
            }
            let into = now.subsec_nanos() % 1_000_000;
            std::thread::sleep(Duration::from_nanos(u64::from(1_000_000 - into)));
        }
    }
}

fn since_epoch() -> Option<Duration> {
    SystemTime::now().duration_since(UNIX_EPOCH).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_millisecond_has_changed_on_return() {
        for _ in 0..50 {
            let live = LiveMillisecond::now();
            live.wait_until_past();
            let after = since_epoch().unwrap().as_millis();
            assert!(Some(after) > live.0, "{:?} -> {after}", live.0);
        }
    }
}
