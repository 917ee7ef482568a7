//! A schedule spec compiled for computing its times: the next time after
//! any instant, the times of a range, and each time's jitter.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use super::ScheduleSpec;
use super::cron::{LocalPattern, ParsedCron};

/// Skipped candidates looked at before giving up on a next time (a skip
/// list that excludes every time).
const SKIP_LIMIT: usize = 10_000;

/// A spec ready to compute times. Built only from a spec that checks out
/// ([`CompiledSpec::new`] says why one does not).
#[derive(Clone, Debug)]
pub(crate) struct CompiledSpec {
    /// (every, offset) in nanoseconds.
    intervals: Vec<(u128, u128)>,
    patterns: Vec<LocalPattern>,
    skip: Vec<LocalPattern>,
    zone: Tz,
    start_at: Option<SystemTime>,
    end_at: Option<SystemTime>,
    jitter: Duration,
}

impl CompiledSpec {
    /// Checks `spec` and compiles it; the error names what to change.
    pub fn new(spec: &ScheduleSpec) -> Result<CompiledSpec, String> {
        let mut intervals = Vec::new();
        for (i, interval) in spec.intervals.iter().enumerate() {
            if interval.every < Duration::from_millis(1) || interval.offset >= interval.every {
                return Err(format!(
                    "interval {i}: every must be at least 1 ms and the offset less than every \
                     (every {:?}, offset {:?})",
                    interval.every, interval.offset
                ));
            }
            intervals.push((interval.every.as_nanos(), interval.offset.as_nanos()));
        }
        let mut zone_name = spec.time_zone.clone();
        let mut patterns = Vec::new();
        for expression in &spec.cron_expressions {
            let parsed = ParsedCron::parse(expression)
                .map_err(|e| format!("cron expression {expression:?}: {e}"))?;
            if let Some(zone) = parsed.time_zone {
                if zone_name.as_ref().is_some_and(|z| *z != zone) {
                    return Err(format!(
                        "cron expression {expression:?} names time zone {zone:?}, and the spec \
                         another: give one time zone"
                    ));
                }
                zone_name = Some(zone);
            }
            patterns.push(parsed.pattern);
        }
        for (i, calendar) in spec.calendars.iter().enumerate() {
            patterns.push(
                LocalPattern::from_calendar(calendar).map_err(|e| format!("calendar {i}: {e}"))?,
            );
        }
        let skip = spec
            .skip
            .iter()
            .enumerate()
            .map(|(i, c)| LocalPattern::from_calendar(c).map_err(|e| format!("skip {i}: {e}")))
            .collect::<Result<_, _>>()?;
        if let (Some(start), Some(end)) = (spec.start_at, spec.end_at)
            && start > end
        {
            return Err("start_at is after end_at".into());
        }
        Ok(CompiledSpec {
            intervals,
            patterns,
            skip,
            zone: zone(zone_name.as_deref())?,
            start_at: spec.start_at,
            end_at: spec.end_at,
            jitter: spec.jitter,
        })
    }

    /// The first time of the spec after `t`, if any.
    pub fn next_after(&self, t: SystemTime) -> Option<SystemTime> {
        let mut t = match self
            .start_at
            .and_then(|s| s.checked_sub(Duration::from_nanos(1)))
        {
            Some(before_start) if before_start > t => before_start,
            _ => t,
        };
        for _ in 0..SKIP_LIMIT {
            let next = self.next_unskipped_after(t)?;
            if self.end_at.is_some_and(|end| next > end) {
                return None;
            }
            if !self.skipped(next) {
                return Some(next);
            }
            t = next;
        }
        None
    }

    /// The first time of the intervals and patterns after `t`.
    fn next_unskipped_after(&self, t: SystemTime) -> Option<SystemTime> {
        let after = DateTime::<Utc>::from(t);
        let from_patterns = self
            .patterns
            .iter()
            .filter_map(|p| p.next_instant(&self.zone, after))
            .map(SystemTime::from);
        let from_intervals = self
            .intervals
            .iter()
            .filter_map(|&(every, offset)| interval_next(every, offset, t));
        from_patterns.chain(from_intervals).min()
    }

    fn skipped(&self, t: SystemTime) -> bool {
        if self.skip.is_empty() {
            return false;
        }
        let local = DateTime::<Utc>::from(t)
            .with_timezone(&self.zone)
            .naive_local();
        self.skip.iter().any(|p| p.matches(local))
    }

    /// The times in `[from, to]`, both ends included, at most `limit`
    /// (`Err` with the limit when there are more).
    pub fn times_between(
        &self,
        from: SystemTime,
        to: SystemTime,
        limit: usize,
    ) -> Result<Vec<SystemTime>, usize> {
        let mut times = Vec::new();
        let mut t = from.checked_sub(Duration::from_nanos(1)).unwrap_or(from);
        while let Some(next) = self.next_after(t).filter(|n| *n <= to) {
            if times.len() == limit {
                return Err(limit);
            }
            times.push(next);
            t = next;
        }
        Ok(times)
    }

    /// How late the action of `nominal` comes: the same for the same seed
    /// and time, less than the spec's jitter and than the time to the next
    /// action, whole milliseconds.
    pub fn jitter(&self, seed: u64, nominal: SystemTime) -> Duration {
        let max_ms = u64::try_from(self.jitter.as_millis()).unwrap_or(u64::MAX);
        if max_ms == 0 {
            return Duration::ZERO;
        }
        let nominal_ms = nominal
            .duration_since(UNIX_EPOCH)
            .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
            .unwrap_or(0);
        let mut ms = splitmix64(seed ^ nominal_ms) % max_ms;
        if let Some(gap) = self
            .next_after(nominal)
            .and_then(|next| next.duration_since(nominal).ok())
        {
            let gap_ms = u64::try_from(gap.as_millis()).unwrap_or(u64::MAX);
            ms = ms.min(gap_ms.saturating_sub(1));
        }
        Duration::from_millis(ms)
    }
}

/// The zone named, UTC when none is.
fn zone(name: Option<&str>) -> Result<Tz, String> {
    match name {
        None => Ok(Tz::UTC),
        Some(name) => name.parse::<Tz>().map_err(|_| {
            format!("unknown time zone {name:?}: give an IANA name such as \"America/New_York\"")
        }),
    }
}

/// The first `offset + k * every` (k >= 0) after `t`, in nanoseconds since
/// the Unix epoch.
fn interval_next(every: u128, offset: u128, t: SystemTime) -> Option<SystemTime> {
    let next = match t.duration_since(UNIX_EPOCH) {
        Ok(since) if since.as_nanos() >= offset => {
            let k = (since.as_nanos() - offset) / every + 1;
            k.checked_mul(every)?.checked_add(offset)?
        }
        _ => offset,
    };
    let secs = u64::try_from(next / 1_000_000_000).ok()?;
    let nanos = u32::try_from(next % 1_000_000_000).ok()?;
    UNIX_EPOCH.checked_add(Duration::new(secs, nanos))
}

/// A stable hash of a schedule id, the seed of its jitter (FNV-1a: the
/// same across processes and versions, unlike the std hashers).
pub(crate) fn seed(id: &str) -> u64 {
    id.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// SplitMix64's finalizer: spreads a seed over all bits.
fn splitmix64(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

/// A time as Temporal writes it in a scheduled workflow's id: RFC 3339 in
/// UTC, whole seconds, `Z`.
pub(crate) fn id_time(t: SystemTime) -> String {
    DateTime::<Utc>::from(t).to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

#[cfg(test)]
mod tests;
