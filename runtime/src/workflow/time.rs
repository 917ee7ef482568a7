//! Workflow time: what [`WorkflowContext::now`](super::WorkflowContext::now)
//! returns. A value read from history, with no way back to the wall clock.

use std::fmt;
use std::ops::{Add, AddAssign, Sub, SubAssign};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Deserializer, Serialize, Serializer};

const MS_PER_DAY: i64 = 86_400_000;

/// A moment of workflow time, at millisecond precision: the start time of
/// a workflow task as history records it, or a time computed from one.
///
/// It reads the same on replay as on the first run, and it cannot read the
/// wall clock: there is no `elapsed()` and no `now()`. Measure time
/// between two of them ([`WorkflowTime::duration_since`]), add or subtract
/// a [`Duration`], compare them, and convert to [`SystemTime`] for other
/// date types:
///
/// ```
/// # async fn f<W>(ctx: weft::WorkflowContext<W>) -> weft::WorkflowResult<()> {
/// use std::time::{Duration, SystemTime};
///
/// let start = ctx.now();
/// ctx.sleep(Duration::from_secs(60)).await?;
/// let waited: Duration = ctx.now().duration_since(start);
/// let deadline = start + Duration::from_secs(3600);
/// let as_std: SystemTime = deadline.into();
/// let stamp = format!("{deadline}"); // "2025-06-01T12:34:56.789Z"
/// # let _ = (waited, as_std, stamp);
/// # Ok(())
/// # }
/// ```
///
/// With chrono or time (weft depends on neither), convert through
/// `SystemTime`:
///
/// ```ignore
/// let t: std::time::SystemTime = ctx.now().into();
/// let utc = chrono::DateTime::<chrono::Utc>::from(t);
/// let odt = time::OffsetDateTime::from(t);
/// ```
///
/// It spans the years 1 to 9999, as Temporal's timestamps do, so it always
/// prints as RFC 3339. It serializes as an integer, milliseconds since the
/// Unix epoch: exactly its precision, read back without a date parser, and
/// the same in any language.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct WorkflowTime {
    unix_millis: i64,
}

impl WorkflowTime {
    /// The Unix epoch, 1970-01-01T00:00:00Z.
    pub const UNIX_EPOCH: WorkflowTime = WorkflowTime { unix_millis: 0 };
    /// The earliest time, 0001-01-01T00:00:00.000Z.
    pub const MIN: WorkflowTime = WorkflowTime {
        unix_millis: -62_135_596_800_000,
    };
    /// The latest time, 9999-12-31T23:59:59.999Z.
    pub const MAX: WorkflowTime = WorkflowTime {
        unix_millis: 253_402_300_799_999,
    };

    /// The time this many milliseconds after the Unix epoch (before it
    /// when negative); `None` outside [`MIN`](Self::MIN)..=[`MAX`](Self::MAX).
    pub fn from_unix_millis(unix_millis: i64) -> Option<WorkflowTime> {
        (Self::MIN.unix_millis..=Self::MAX.unix_millis)
            .contains(&unix_millis)
            .then_some(WorkflowTime { unix_millis })
    }

    /// A recorded time as workflow code sees it: cut to whole milliseconds
    /// (history's precision) and held within the supported years.
    pub(crate) fn from_system_time(t: SystemTime) -> WorkflowTime {
        let millis = match t.duration_since(UNIX_EPOCH) {
            Ok(after) => i64::try_from(after.as_millis()).unwrap_or(i64::MAX),
            Err(e) => {
                let before = e.duration();
                let whole = i64::try_from(before.as_millis()).unwrap_or(i64::MAX);
                // Rounded down, as for times after the epoch.
                let part = i64::from(before.subsec_nanos() % 1_000_000 != 0);
                whole.saturating_add(part).saturating_neg()
            }
        };
        Self::clamped(millis)
    }

    fn clamped(unix_millis: i64) -> WorkflowTime {
        WorkflowTime {
            unix_millis: unix_millis.clamp(Self::MIN.unix_millis, Self::MAX.unix_millis),
        }
    }

    /// Milliseconds since the Unix epoch (negative before it).
    pub fn unix_millis(self) -> i64 {
        self.unix_millis
    }

    /// Whole seconds since the Unix epoch, rounded down.
    pub fn unix_seconds(self) -> i64 {
        self.unix_millis.div_euclid(1000)
    }

    /// The same moment as a [`SystemTime`] (on Windows, whose `SystemTime`
    /// starts in 1601, a time before that gives the Unix epoch).
    pub fn to_system_time(self) -> SystemTime {
        let magnitude = Duration::from_millis(self.unix_millis.unsigned_abs());
        let t = if self.unix_millis >= 0 {
            UNIX_EPOCH.checked_add(magnitude)
        } else {
            UNIX_EPOCH.checked_sub(magnitude)
        };
        // Every supported year fits a SystemTime on Unix. Windows' starts
        // in 1601: an earlier time gives the epoch there, not a panic.
        t.unwrap_or(UNIX_EPOCH)
    }

    /// The time `duration` later, at millisecond precision (the duration's
    /// sub-millisecond part is dropped); `None` past [`MAX`](Self::MAX).
    pub fn checked_add(self, duration: Duration) -> Option<WorkflowTime> {
        let millis = i64::try_from(duration.as_millis()).ok()?;
        Self::from_unix_millis(self.unix_millis.checked_add(millis)?)
    }

    /// The time `duration` earlier, at millisecond precision; `None`
    /// before [`MIN`](Self::MIN).
    pub fn checked_sub(self, duration: Duration) -> Option<WorkflowTime> {
        let millis = i64::try_from(duration.as_millis()).ok()?;
        Self::from_unix_millis(self.unix_millis.checked_sub(millis)?)
    }

    /// How long after `earlier` this is; zero when `earlier` is later (as
    /// [`std::time::Instant::duration_since`]).
    pub fn duration_since(self, earlier: WorkflowTime) -> Duration {
        self.checked_duration_since(earlier).unwrap_or_default()
    }

    /// How long after `earlier` this is; `None` when `earlier` is later.
    pub fn checked_duration_since(self, earlier: WorkflowTime) -> Option<Duration> {
        let millis = self.unix_millis.checked_sub(earlier.unix_millis)?;
        u64::try_from(millis).ok().map(Duration::from_millis)
    }
}

/// Adds at millisecond precision, stopping at [`WorkflowTime::MAX`] (use
/// [`WorkflowTime::checked_add`] to tell).
impl Add<Duration> for WorkflowTime {
    type Output = WorkflowTime;
    fn add(self, duration: Duration) -> WorkflowTime {
        self.checked_add(duration).unwrap_or(WorkflowTime::MAX)
    }
}

impl AddAssign<Duration> for WorkflowTime {
    fn add_assign(&mut self, duration: Duration) {
        *self = *self + duration;
    }
}

/// Subtracts at millisecond precision, stopping at [`WorkflowTime::MIN`]
/// (use [`WorkflowTime::checked_sub`] to tell).
impl Sub<Duration> for WorkflowTime {
    type Output = WorkflowTime;
    fn sub(self, duration: Duration) -> WorkflowTime {
        self.checked_sub(duration).unwrap_or(WorkflowTime::MIN)
    }
}

impl SubAssign<Duration> for WorkflowTime {
    fn sub_assign(&mut self, duration: Duration) {
        *self = *self - duration;
    }
}

impl From<WorkflowTime> for SystemTime {
    fn from(t: WorkflowTime) -> SystemTime {
        t.to_system_time()
    }
}

/// RFC 3339 in UTC with milliseconds: `2025-06-01T12:34:56.789Z`.
impl fmt::Display for WorkflowTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (year, month, day) = civil_from_days(self.unix_millis.div_euclid(MS_PER_DAY));
        let in_day = self.unix_millis.rem_euclid(MS_PER_DAY);
        let (hour, minute) = (in_day / 3_600_000, in_day / 60_000 % 60);
        let (second, milli) = (in_day / 1000 % 60, in_day % 1000);
        write!(
            f,
            "{year:04}-{month:02}-{day:02}T{hour:02}:{minute:02}:{second:02}.{milli:03}Z"
        )
    }
}

impl fmt::Debug for WorkflowTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "WorkflowTime({self})")
    }
}

impl Serialize for WorkflowTime {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_i64(self.unix_millis)
    }
}

impl<'de> Deserialize<'de> for WorkflowTime {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let millis = i64::deserialize(deserializer)?;
        WorkflowTime::from_unix_millis(millis).ok_or_else(|| {
            serde::de::Error::custom(format!(
                "{millis} ms since the Unix epoch is outside workflow time \
                 (the years 1 to 9999)"
            ))
        })
    }
}

/// The proleptic Gregorian date of a day counted from 1970-01-01 (Howard
/// Hinnant's `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    // Both are small: day in 1..=31, month in 1..=12.
    (year, month as u32, day as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(unix_millis: i64) -> WorkflowTime {
        WorkflowTime::from_unix_millis(unix_millis).unwrap()
    }

    /// Dates by counting days year by year: slow and obviously right.
    fn naive_date(mut days: i64) -> (i64, u32, u32) {
        let leap = |y: i64| (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
        let mut year = 1970;
        while days < 0 {
            year -= 1;
            days += if leap(year) { 366 } else { 365 };
        }
        while days >= if leap(year) { 366 } else { 365 } {
            days -= if leap(year) { 366 } else { 365 };
            year += 1;
        }
        let lengths = [
            31,
            if leap(year) { 29 } else { 28 },
            31,
            30,
            31,
            30,
            31,
            31,
            30,
            31,
            30,
            31,
        ];
        let mut month = 0;
        while days >= lengths[month] {
            days -= lengths[month];
            month += 1;
        }
        (year, month as u32 + 1, days as u32 + 1)
    }

    #[test]
    fn dates_match_counting_days() {
        let (first, last) = (WorkflowTime::MIN, WorkflowTime::MAX);
        let (from, to) = (
            first.unix_millis / MS_PER_DAY,
            last.unix_millis / MS_PER_DAY,
        );
        let mut day = from;
        while day <= to {
            assert_eq!(civil_from_days(day), naive_date(day), "day {day}");
            day += 997;
        }
        for day in [-1, 0, 59, 60, 11_016, 11_017, to] {
            assert_eq!(civil_from_days(day), naive_date(day), "day {day}");
        }
    }

    #[test]
    fn prints_as_rfc3339_in_utc_with_milliseconds() {
        assert_eq!(
            WorkflowTime::UNIX_EPOCH.to_string(),
            "1970-01-01T00:00:00.000Z"
        );
        assert_eq!(at(951_782_400_000).to_string(), "2000-02-29T00:00:00.000Z");
        assert_eq!(
            at(1_748_781_296_789).to_string(),
            "2025-06-01T12:34:56.789Z"
        );
        assert_eq!(at(-1).to_string(), "1969-12-31T23:59:59.999Z");
        assert_eq!(WorkflowTime::MIN.to_string(), "0001-01-01T00:00:00.000Z");
        assert_eq!(WorkflowTime::MAX.to_string(), "9999-12-31T23:59:59.999Z");
        assert_eq!(
            format!("{:?}", at(0)),
            "WorkflowTime(1970-01-01T00:00:00.000Z)"
        );
    }

    #[test]
    fn arithmetic_is_in_milliseconds_and_stays_in_range() {
        let t = at(1_000);
        assert_eq!(t + Duration::from_micros(2_500), at(1_002));
        assert_eq!(t - Duration::from_secs(2), at(-1_000));
        assert_eq!(t.checked_add(Duration::MAX), None);
        assert_eq!(t + Duration::MAX, WorkflowTime::MAX);
        assert_eq!(
            WorkflowTime::MIN.checked_sub(Duration::from_millis(1)),
            None
        );
        assert_eq!(t - Duration::MAX, WorkflowTime::MIN);
        let mut u = t;
        u += Duration::from_secs(1);
        u -= Duration::from_millis(1);
        assert_eq!(u, at(1_999));
        assert_eq!(u.duration_since(t), Duration::from_millis(999));
        assert_eq!(t.duration_since(u), Duration::ZERO);
        assert_eq!(t.checked_duration_since(u), None);
        assert!(t < u);
        assert_eq!(at(-1).unix_seconds(), -1);
        assert_eq!(at(1_999).unix_seconds(), 1);
        assert_eq!(WorkflowTime::from_unix_millis(i64::MAX), None);
    }

    #[test]
    fn converts_to_and_from_system_time() {
        let t = UNIX_EPOCH + Duration::from_nanos(1_748_781_296_789_999_999);
        let w = WorkflowTime::from_system_time(t);
        assert_eq!(w, at(1_748_781_296_789), "cut to whole milliseconds");
        assert_eq!(
            SystemTime::from(w),
            UNIX_EPOCH + Duration::from_millis(1_748_781_296_789)
        );
        let before = UNIX_EPOCH - Duration::from_micros(1_500);
        assert_eq!(
            WorkflowTime::from_system_time(before),
            at(-2),
            "rounded down"
        );
        assert_eq!(
            at(-2).to_system_time(),
            UNIX_EPOCH - Duration::from_millis(2)
        );
    }

    #[test]
    fn serializes_as_unix_milliseconds() {
        let t = at(1_748_781_296_789);
        assert_eq!(serde_json::to_string(&t).unwrap(), "1748781296789");
        let back: WorkflowTime = serde_json::from_str("1748781296789").unwrap();
        assert_eq!(back, t);
        let err = serde_json::from_str::<WorkflowTime>("-99999999999999999").unwrap_err();
        assert!(err.to_string().contains("outside workflow time"), "{err}");
    }
}
