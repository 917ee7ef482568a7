//! Cron expressions and calendar specs as patterns of the local clock, and
//! where a pattern's times fall on the timeline in a time zone.
//!
//! croner parses the second to day-of-week fields (names, ranges, steps,
//! `L`, `#`) and finds matching clock times; Temporal's year field, which
//! croner does not have, is checked here. A clock time maps to the instants
//! at which the zone's clock shows it, by literal matching as Temporal
//! does: none for a time a spring-forward skips, two for a time a fall-back
//! repeats.

use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, Offset, TimeZone, Timelike, Utc};
use chrono_tz::Tz;
use croner::Cron;

use super::{CalendarSpec, Range};

/// The most a zone's offset changes at once (2 h happened; 3 h is room).
const MAX_SHIFT: chrono::TimeDelta = chrono::TimeDelta::hours(3);

/// Candidates looked at before a search gives up (a pattern that matches
/// no time the zone has, a year list in the far future).
const SEARCH_LIMIT: usize = 100_000;

/// A pattern of the local clock: croner's fields and a year filter.
#[derive(Clone, Debug)]
pub(crate) struct LocalPattern {
    cron: Cron,
    /// Allowed years; empty for every year.
    years: Vec<Range>,
}

/// A cron expression read as Temporal reads it: the pattern, and the zone
/// a `CRON_TZ=` or `TZ=` prefix named.
pub(crate) struct ParsedCron {
    pub pattern: LocalPattern,
    pub time_zone: Option<String>,
}

impl ParsedCron {
    /// Parses `expression` (see `ScheduleSpec::cron_expressions`).
    pub fn parse(expression: &str) -> Result<ParsedCron, String> {
        let mut text = strip_comment(expression).trim();
        let mut time_zone = None;
        for prefix in ["CRON_TZ=", "TZ="] {
            if let Some(rest) = text.strip_prefix(prefix) {
                let (zone, fields) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
                time_zone = Some(zone.to_string());
                text = fields.trim();
            }
        }
        let expanded = expand_nickname(text)?;
        let fields: Vec<&str> = expanded.split_whitespace().collect();
        let (second, rest, year) = match fields.as_slice() {
            rest if rest.len() == 5 => ("0", rest, "*"),
            [rest @ .., year] if rest.len() == 5 => ("0", rest, *year),
            [second, rest @ .., year] if rest.len() == 5 => (*second, rest, *year),
            _ => {
                return Err(format!(
                    "{} fields; a cron expression has 5 (minute hour day-of-month month \
                     day-of-week), 6 (and year) or 7 (second first)",
                    fields.len()
                ));
            }
        };
        let pattern =
            LocalPattern::new(&format!("{second} {}", rest.join(" ")), parse_years(year)?)?;
        Ok(ParsedCron { pattern, time_zone })
    }
}

/// A `#` that starts a word begins a comment; `5#2` (the second Friday)
/// is a field.
fn strip_comment(expression: &str) -> &str {
    let mut previous = ' ';
    for (i, c) in expression.char_indices() {
        if c == '#' && previous.is_whitespace() {
            return &expression[..i];
        }
        previous = c;
    }
    expression
}

fn expand_nickname(text: &str) -> Result<String, String> {
    let fields = match text.to_ascii_lowercase().as_str() {
        "@yearly" | "@annually" => "0 0 1 1 *",
        "@monthly" => "0 0 1 * *",
        "@weekly" => "0 0 * * 0",
        "@daily" | "@midnight" => "0 0 * * *",
        "@hourly" => "0 * * * *",
        other if other.starts_with("@every") => {
            return Err("@every is not supported: use an IntervalSpec".into());
        }
        other if other.starts_with('@') => {
            return Err(format!(
                "unknown shorthand {text:?}: @yearly, @monthly, @weekly, @daily and @hourly exist"
            ));
        }
        _ => return Ok(text.to_string()),
    };
    Ok(fields.to_string())
}

/// A year field: `*`, or values, ranges `a-b` and steps `a-b/s`, by commas.
fn parse_years(field: &str) -> Result<Vec<Range>, String> {
    if field == "*" {
        return Ok(Vec::new());
    }
    field.split(',').map(parse_year_range).collect()
}

fn parse_year_range(part: &str) -> Result<Range, String> {
    let bad =
        || format!("year {part:?}: expected a year, a range a-b or a range with a step a-b/s");
    let number = |s: &str| s.trim().parse::<u32>().map_err(|_| bad());
    let (span, step) = match part.split_once('/') {
        Some((span, step)) => (span, number(step)?),
        None => (part, 1),
    };
    let (start, end) = match span.split_once('-') {
        Some((a, b)) => (number(a)?, number(b)?),
        None => (number(span)?, number(span)?),
    };
    let range = Range { start, end, step };
    check_range("year", &range, 1970, 9999)?;
    Ok(range)
}

fn check_range(field: &str, range: &Range, min: u32, max: u32) -> Result<(), String> {
    if range.start < min || range.end > max || range.start > range.end || range.step == 0 {
        return Err(format!(
            "{field} range {}-{}/{}: values go from {min} to {max}, start at most end, step at least 1",
            range.start, range.end, range.step
        ));
    }
    Ok(())
}

/// A calendar field as cron text: `a-b/s` parts joined by commas.
fn calendar_field(field: &str, ranges: &[Range], min: u32, max: u32) -> Result<String, String> {
    if ranges.is_empty() {
        return Err(format!("{field} lists no values: give at least one range"));
    }
    let mut parts = Vec::with_capacity(ranges.len());
    for range in ranges {
        check_range(field, range, min, max)?;
        parts.push(format!("{}-{}/{}", range.start, range.end, range.step));
    }
    Ok(parts.join(","))
}

impl LocalPattern {
    fn new(fields: &str, years: Vec<Range>) -> Result<LocalPattern, String> {
        let cron = Cron::new(fields)
            .with_seconds_required()
            .with_dom_and_dow()
            .parse()
            .map_err(|e| e.to_string())?;
        Ok(LocalPattern { cron, years })
    }

    /// A calendar spec's pattern (see `CalendarSpec`).
    pub fn from_calendar(spec: &CalendarSpec) -> Result<LocalPattern, String> {
        let fields = [
            calendar_field("second", &spec.second, 0, 59)?,
            calendar_field("minute", &spec.minute, 0, 59)?,
            calendar_field("hour", &spec.hour, 0, 23)?,
            calendar_field("day_of_month", &spec.day_of_month, 1, 31)?,
            calendar_field("month", &spec.month, 1, 12)?,
            calendar_field("day_of_week", &spec.day_of_week, 0, 6)?,
        ];
        for range in &spec.year {
            check_range("year", range, 1970, 9999)?;
        }
        LocalPattern::new(&fields.join(" "), spec.year.clone())
    }

    fn year_ok(&self, year: i32) -> bool {
        let Ok(year) = u32::try_from(year) else {
            return false;
        };
        self.years.is_empty()
            || self
                .years
                .iter()
                .any(|r| (r.start..=r.end).contains(&year) && (year - r.start) % r.step.max(1) == 0)
    }

    /// The first allowed year after `year`.
    fn next_year(&self, year: i32) -> Option<i32> {
        (year.checked_add(1)?..=9999).find(|&y| self.year_ok(y))
    }

    /// Whether the clock time `local` matches.
    pub fn matches(&self, local: NaiveDateTime) -> bool {
        self.year_ok(local.year())
            && self
                .cron
                .is_time_matching(&Utc.from_utc_datetime(&local))
                .unwrap_or(false)
    }

    /// The first matching clock time after `after` (whole seconds).
    fn next_local(&self, after: NaiveDateTime) -> Option<NaiveDateTime> {
        let mut cursor = after.with_nanosecond(0)?;
        for _ in 0..SEARCH_LIMIT {
            // croner reads the clock fields of the time it is given; UTC
            // carries a clock time without a zone.
            let next = self
                .cron
                .find_next_occurrence(&Utc.from_utc_datetime(&cursor), false)
                .ok()?
                .naive_utc();
            if self.year_ok(next.year()) {
                return Some(next);
            }
            let year = self.next_year(next.year())?;
            cursor = NaiveDate::from_ymd_opt(year, 1, 1)?.and_hms_opt(0, 0, 0)?
                - chrono::TimeDelta::seconds(1);
        }
        None
    }

    /// The first instant after `after` at which the clock of `zone` shows
    /// a matching time.
    pub fn next_instant(&self, zone: &Tz, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let local = after.with_timezone(zone).naive_local();
        let first = self.first_instant_from(zone, after, local)?;
        if !near_transition(zone, after) && !near_transition(zone, first) {
            return Some(first);
        }
        // Near a change of offset, a clock time before `local` can fall
        // after `after` (the repeated hour of a fall-back): look at every
        // candidate within the largest shift either side.
        let end = first.with_timezone(zone).naive_local() + MAX_SHIFT;
        let mut best = first;
        let mut cursor = local - MAX_SHIFT;
        for _ in 0..SEARCH_LIMIT {
            let Some(c) = self.next_local(cursor).filter(|c| *c <= end) else {
                break;
            };
            for instant in instants(zone, c) {
                if instant > after && instant < best {
                    best = instant;
                }
            }
            cursor = c;
        }
        Some(best)
    }

    /// The first instant after `after` of a clock time after `local`.
    fn first_instant_from(
        &self,
        zone: &Tz,
        after: DateTime<Utc>,
        local: NaiveDateTime,
    ) -> Option<DateTime<Utc>> {
        let mut cursor = local;
        for _ in 0..SEARCH_LIMIT {
            let c = self.next_local(cursor)?;
            if let Some(instant) = instants(zone, c).into_iter().find(|i| *i > after) {
                return Some(instant);
            }
            cursor = c;
        }
        None
    }
}

/// The instants at which the clock of `zone` shows `local`, in order.
pub(crate) fn instants(zone: &Tz, local: NaiveDateTime) -> Vec<DateTime<Utc>> {
    match zone.from_local_datetime(&local) {
        chrono::LocalResult::Single(t) => vec![t.with_timezone(&Utc)],
        chrono::LocalResult::Ambiguous(a, b) => vec![a.with_timezone(&Utc), b.with_timezone(&Utc)],
        chrono::LocalResult::None => Vec::new(),
    }
}

/// Whether the zone's offset changes within `MAX_SHIFT` of `t`.
fn near_transition(zone: &Tz, t: DateTime<Utc>) -> bool {
    let offset = |t: DateTime<Utc>| t.with_timezone(zone).offset().fix();
    offset(t - MAX_SHIFT) != offset(t + MAX_SHIFT)
}
