use std::time::{Duration, SystemTime};

use chrono::{DateTime, TimeZone, Utc};

use super::{CompiledSpec, id_time, seed};
use crate::schedule::{CalendarSpec, IntervalSpec, Range, ScheduleSpec};

fn utc(text: &str) -> SystemTime {
    SystemTime::from(DateTime::parse_from_rfc3339(text).unwrap())
}

fn show(t: SystemTime) -> String {
    DateTime::<Utc>::from(t).to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// The first `n` times after `from`, as RFC 3339 text.
fn times(spec: &ScheduleSpec, from: &str, n: usize) -> Vec<String> {
    let compiled = CompiledSpec::new(spec).unwrap();
    let mut t = utc(from);
    let mut out = Vec::new();
    for _ in 0..n {
        let Some(next) = compiled.next_after(t) else {
            break;
        };
        out.push(show(next));
        t = next;
    }
    out
}

fn error(spec: ScheduleSpec) -> String {
    CompiledSpec::new(&spec).unwrap_err()
}

#[test]
fn intervals_are_multiples_of_every_since_the_epoch() {
    // Created at :00.6, every 2 s: the first time is :02, as on Temporal.
    let spec = ScheduleSpec::every(Duration::from_secs(2));
    assert_eq!(
        times(&spec, "2026-12-06T10:00:00.600Z", 3),
        [
            "2026-12-06T10:00:02.000Z",
            "2026-12-06T10:00:04.000Z",
            "2026-12-06T10:00:06.000Z"
        ]
    );
    let offset = ScheduleSpec {
        intervals: vec![IntervalSpec::with_offset(
            Duration::from_secs(3600),
            Duration::from_secs(15 * 60),
        )],
        ..ScheduleSpec::default()
    };
    assert_eq!(
        times(&offset, "2026-12-06T10:15:00Z", 2),
        ["2026-12-06T11:15:00.000Z", "2026-12-06T12:15:00.000Z"]
    );
}

#[test]
fn cron_expressions_read_as_temporal_reads_them() {
    // 2026-12-05 is a Saturday.
    let weekdays = ScheduleSpec::cron("0 9 * * MON-FRI");
    assert_eq!(
        times(&weekdays, "2026-12-05T12:00:00Z", 2),
        ["2026-12-07T09:00:00.000Z", "2026-12-08T09:00:00.000Z"]
    );
    // Six fields: the sixth is the year.
    let in_2028 = ScheduleSpec::cron("30 6 1 JAN * 2028");
    assert_eq!(
        times(&in_2028, "2026-12-05T12:00:00Z", 2),
        ["2028-01-01T06:30:00.000Z"]
    );
    // Seven: second first.
    let seconds = ScheduleSpec::cron("15 0 12 * * * *");
    assert_eq!(
        times(&seconds, "2026-12-05T12:00:00Z", 1),
        ["2026-12-05T12:00:15.000Z"]
    );
    let nickname = ScheduleSpec::cron("@weekly # on Sundays");
    assert_eq!(
        times(&nickname, "2026-12-05T12:00:00Z", 1),
        ["2026-12-06T00:00:00.000Z"]
    );
    // Day of month and day of week both match (Temporal, unlike Vixie cron).
    let friday_13th = ScheduleSpec::cron("0 0 13 * FRI");
    assert_eq!(
        times(&friday_13th, "2026-01-01T00:00:00Z", 2),
        ["2026-02-13T00:00:00.000Z", "2026-03-13T00:00:00.000Z"]
    );
    let zoned = ScheduleSpec::cron("CRON_TZ=Asia/Tokyo 0 9 * * *");
    assert_eq!(
        times(&zoned, "2026-12-05T12:00:00Z", 1),
        ["2026-12-06T00:00:00.000Z"]
    );
}

#[test]
fn a_spec_that_cannot_work_says_what_to_change() {
    let e = error(ScheduleSpec::cron("0 9 * * MONDAY"));
    assert!(e.starts_with("cron expression \"0 9 * * MONDAY\""), "{e}");
    let e = error(ScheduleSpec::cron("0 9 * *"));
    assert!(e.contains("4 fields"), "{e}");
    let e = error(ScheduleSpec::cron("@every 5m"));
    assert!(e.contains("IntervalSpec"), "{e}");
    let e = error(ScheduleSpec::cron("0 9 * * * 19x"));
    assert!(e.contains("year"), "{e}");
    let e = error(ScheduleSpec::cron("0 9 * * *").in_time_zone("Mars/Olympus"));
    assert!(e.contains("unknown time zone \"Mars/Olympus\""), "{e}");
    let e = error(ScheduleSpec::cron("CRON_TZ=Asia/Tokyo 0 9 * * *").in_time_zone("UTC"));
    assert!(e.contains("one time zone"), "{e}");
    let e = error(ScheduleSpec::every(Duration::ZERO));
    assert!(e.contains("at least 1 ms"), "{e}");
    let mut bad = CalendarSpec::daily_at(25, 0);
    let e = error(ScheduleSpec {
        calendars: vec![bad.clone()],
        ..ScheduleSpec::default()
    });
    assert!(e.starts_with("calendar 0: hour range 25-25/1"), "{e}");
    bad.hour = Vec::new();
    let e = error(ScheduleSpec {
        calendars: vec![bad],
        ..ScheduleSpec::default()
    });
    assert!(e.contains("hour lists no values"), "{e}");
}

fn new_york(spec: ScheduleSpec) -> ScheduleSpec {
    spec.in_time_zone("America/New_York")
}

/// 2026-03-08: New York's clocks go from 02:00 EST to 03:00 EDT. As on
/// Temporal (literal matching of the clock), 02:30 does not happen that day.
#[test]
fn a_spring_forward_skips_the_time_it_jumps_over() {
    let cron = new_york(ScheduleSpec::cron("30 2 * * *"));
    let calendar = new_york(ScheduleSpec {
        calendars: vec![CalendarSpec::daily_at(2, 30)],
        ..ScheduleSpec::default()
    });
    for spec in [cron, calendar] {
        assert_eq!(
            times(&spec, "2026-03-06T12:00:00Z", 3),
            [
                "2026-03-07T07:30:00.000Z", // 02:30 EST
                "2026-03-09T06:30:00.000Z", // 02:30 EDT, the day after
                "2026-03-10T06:30:00.000Z",
            ]
        );
    }
    // An hourly action keeps its count of actions per real hour.
    let hourly = new_york(ScheduleSpec::cron("0 * * * *"));
    assert_eq!(
        times(&hourly, "2026-03-08T05:30:00Z", 3),
        [
            "2026-03-08T06:00:00.000Z", // 01:00 EST
            "2026-03-08T07:00:00.000Z", // 03:00 EDT
            "2026-03-08T08:00:00.000Z",
        ]
    );
}

/// 2026-11-01: New York's clocks go from 02:00 EDT back to 01:00 EST. As on
/// Temporal, 01:30 happens twice that day, and so does its action.
#[test]
fn a_fall_back_repeats_the_time_it_repeats() {
    let spec = new_york(ScheduleSpec::cron("30 1 * * *"));
    assert_eq!(
        times(&spec, "2026-10-31T00:00:00Z", 4),
        [
            "2026-10-31T05:30:00.000Z", // 01:30 EDT
            "2026-11-01T05:30:00.000Z", // 01:30 EDT
            "2026-11-01T06:30:00.000Z", // 01:30 EST, the repeated hour
            "2026-11-02T06:30:00.000Z",
        ]
    );
    // From inside the repeated hour, the second 01:30 is still ahead.
    assert_eq!(
        times(&spec, "2026-11-01T05:45:00Z", 1),
        ["2026-11-01T06:30:00.000Z"]
    );
}

#[test]
fn calendars_skips_and_bounds() {
    let spec = ScheduleSpec {
        calendars: vec![CalendarSpec {
            minute: vec![Range::step(0, 59, 20)],
            hour: vec![Range::new(9, 10)],
            day_of_week: vec![Range::at(1)],
            ..CalendarSpec::default()
        }],
        skip: vec![CalendarSpec {
            minute: vec![Range::at(20)],
            hour: vec![Range::at(9)],
            ..CalendarSpec::default()
        }],
        start_at: Some(utc("2026-12-07T09:10:00Z")),
        end_at: Some(utc("2026-12-07T10:20:00Z")),
        ..ScheduleSpec::default()
    };
    assert_eq!(
        times(&spec, "2026-12-01T00:00:00Z", 10),
        [
            "2026-12-07T09:40:00.000Z",
            "2026-12-07T10:00:00.000Z",
            "2026-12-07T10:20:00.000Z",
        ]
    );
}

/// As measured on Temporal: both ends of a backfill range are included.
#[test]
fn ranges_include_both_ends() {
    let spec = CompiledSpec::new(&ScheduleSpec::every(Duration::from_secs(600))).unwrap();
    let count = |from: &str, to: &str| spec.times_between(utc(from), utc(to), 100).unwrap().len();
    let day = "2026-12-06T";
    let at = |time: &str| format!("{day}{time}Z");
    assert_eq!(count(&at("07:00:00"), &at("07:30:00")), 4);
    assert_eq!(count(&at("07:00:00"), &at("07:25:00")), 3);
    assert_eq!(count(&at("06:55:00"), &at("07:30:00")), 4);
    assert_eq!(count(&at("06:55:00"), &at("07:25:00")), 3);
    assert_eq!(count(&at("07:00:00"), &at("07:00:00")), 1);
    assert_eq!(count(&at("07:29:59"), &at("07:30:00")), 1);
    assert_eq!(count(&at("07:00:00"), &at("07:00:01")), 1);
    let half_hour = CompiledSpec::new(&ScheduleSpec::every(Duration::from_secs(1800))).unwrap();
    let two_hours = half_hour
        .times_between(utc(&at("10:00:00")), utc(&at("12:00:00")), 100)
        .unwrap();
    assert_eq!(two_hours.len(), 5);
    assert_eq!(
        spec.times_between(utc(&at("00:00:00")), utc(&at("23:59:59")), 10),
        Err(10)
    );
}

#[test]
fn jitter_is_stable_and_stays_before_the_next_time() {
    let spec = CompiledSpec::new(&ScheduleSpec {
        jitter: Duration::from_secs(2),
        ..ScheduleSpec::every(Duration::from_secs(3))
    })
    .unwrap();
    let seed = seed("jittery");
    let mut seen = std::collections::BTreeSet::new();
    for k in 0..50u64 {
        let t = utc("2026-12-06T10:00:00Z") + Duration::from_secs(3 * k);
        let j = spec.jitter(seed, t);
        assert_eq!(j, spec.jitter(seed, t));
        assert!(j < Duration::from_secs(2), "{j:?}");
        seen.insert(j);
    }
    assert!(seen.len() > 10, "{seen:?}");
    // Capped by the time to the next action.
    let tight = CompiledSpec::new(&ScheduleSpec {
        jitter: Duration::from_secs(60),
        ..ScheduleSpec::every(Duration::from_secs(1))
    })
    .unwrap();
    for k in 0..20u64 {
        let t = utc("2026-12-06T10:00:00Z") + Duration::from_secs(k);
        assert!(tight.jitter(seed, t) < Duration::from_secs(1));
    }
}

#[test]
fn ids_carry_the_time_in_rfc_3339_utc_to_the_second() {
    let t = Utc.with_ymd_and_hms(2026, 12, 6, 10, 14, 2).unwrap();
    let t = SystemTime::from(t) + Duration::from_millis(750);
    assert_eq!(id_time(t), "2026-12-06T10:14:02Z");
}
