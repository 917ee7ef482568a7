//! Names written short in stored rows. A stored row is MessagePack with
//! field names (see `encoding`), and the names, the same few hundred in
//! every row (`event_type`, `scheduled_event_id`, `WorkflowTaskCompleted`,
//! ..), were about half of its bytes. Each string of [`WORDS`] is written
//! as a code instead: a MessagePack extension value of type [`EXT`] whose
//! data is the word's index (one byte, or two from the 257th word on),
//! three or four bytes in place of the string's own. Reading spells them
//! out again before serde sees the row, so the encoding keeps what field
//! names give it (a field missing from an older row takes its default),
//! and a row written before codes existed, which holds no extension
//! value, reads as it is.
//!
//! Any string equal to a word is written as its code, a user's string
//! too: reading gives back the same string, so nothing is lost. The
//! engine writes no other extension values.

use std::borrow::Cow;
use std::sync::OnceLock;

use super::engine_task::FastMap;

/// The MessagePack extension type of a word's code ("w").
const EXT: u8 = 0x77;

/// The words, by code. A code is a word's index, so this list only ever
/// grows at its end: a word moved or removed would change what the rows
/// already written say.
static WORDS: &[&str] = &[
    "Accepted",
    "Activity",
    "ActivityClosed",
    "ActivityTaskCancelRequested",
    "ActivityTaskCanceled",
    "ActivityTaskCompleted",
    "ActivityTaskFailed",
    "ActivityTaskScheduled",
    "ActivityTaskStarted",
    "ActivityTaskTimedOut",
    "Admitted",
    "After",
    "AllowAll",
    "Application",
    "Backoff",
    "BadCommand",
    "Bool",
    "BufferAll",
    "BufferOne",
    "Buffered",
    "CancelOther",
    "CancelRequested",
    "Canceled",
    "Child",
    "ChildWorkflow",
    "ChildWorkflowExecutionCanceled",
    "ChildWorkflowExecutionCompleted",
    "ChildWorkflowExecutionFailed",
    "ChildWorkflowExecutionStarted",
    "ChildWorkflowExecutionTerminated",
    "ChildWorkflowExecutionTimedOut",
    "Closed",
    "Codec",
    "Completed",
    "ContinueAsNew",
    "ContinuedAsNew",
    "Datetime",
    "Delivered",
    "Double",
    "External",
    "ExternalWorkflowExecutionCancelRequested",
    "ExternalWorkflowExecutionNotFound",
    "ExternalWorkflowExecutionSignaled",
    "Failed",
    "ForceCloseCommand",
    "Heartbeat",
    "Idle",
    "InProgress",
    "InvalidArgument",
    "Keyword",
    "MarkerRecorded",
    "MaximumAttemptsReached",
    "NonDeterministicError",
    "NonRetryableFailure",
    "NotFound",
    "PayloadTooLarge",
    "PendingActivitiesLimitExceeded",
    "PendingChildWorkflowsLimitExceeded",
    "PendingRequestCancelLimitExceeded",
    "PendingSignalsLimitExceeded",
    "PermissionDenied",
    "QueryFailed",
    "Ready",
    "RequestCancelExternalWorkflowExecutionFailed",
    "RequestCancelExternalWorkflowExecutionInitiated",
    "Retried",
    "Retry",
    "RetryPolicyNotSet",
    "Running",
    "ScheduleAlreadyExists",
    "ScheduleConflict",
    "ScheduleNotFound",
    "ScheduleToClose",
    "ScheduleToStart",
    "Scheduled",
    "Server",
    "SignalExternalWorkflowExecutionFailed",
    "SignalExternalWorkflowExecutionInitiated",
    "Signaled",
    "Skip",
    "StartChildWorkflowExecutionFailed",
    "StartChildWorkflowExecutionInitiated",
    "StartFailed",
    "StartToClose",
    "StartWorkflow",
    "Started",
    "Stopped",
    "Store",
    "TaskNotFound",
    "TerminateOther",
    "Terminated",
    "Text",
    "TimedOut",
    "Timeout",
    "TimerCanceled",
    "TimerFired",
    "TimerStarted",
    "Unavailable",
    "UnhandledCommand",
    "Unsupported",
    "UpdateFailed",
    "UpsertWorkflowSearchAttributes",
    "WorkflowAlreadyExists",
    "WorkflowAlreadyStarted",
    "WorkflowExecution",
    "WorkflowExecutionCancelRequested",
    "WorkflowExecutionCanceled",
    "WorkflowExecutionCompleted",
    "WorkflowExecutionContinuedAsNew",
    "WorkflowExecutionFailed",
    "WorkflowExecutionSignaled",
    "WorkflowExecutionStarted",
    "WorkflowExecutionTerminated",
    "WorkflowExecutionTimedOut",
    "WorkflowExecutionUpdateAccepted",
    "WorkflowExecutionUpdateCompleted",
    "WorkflowRun",
    "WorkflowTaskCompleted",
    "WorkflowTaskFailed",
    "WorkflowTaskScheduled",
    "WorkflowTaskStarted",
    "WorkflowTaskTimedOut",
    "WorkflowWorkerUnhandledFailure",
    "accepted_request_sequencing_event_id",
    "action",
    "activities",
    "activity_id",
    "activity_type",
    "actual",
    "argument",
    "arrived",
    "attempt",
    "attempt_scheduled_time",
    "attributes",
    "backend",
    "backoff_coefficient",
    "binary/null",
    "binary/plain",
    "buffer",
    "buffer_dropped",
    "buffer_size",
    "buffered",
    "calendars",
    "cancel_requested",
    "catchup_window",
    "cause",
    "child_workflow_only",
    "children",
    "close_time",
    "commands",
    "comment",
    "completed",
    "conflict_token",
    "continued_execution_run_id",
    "created_at",
    "cron_expressions",
    "current",
    "data",
    "day_of_month",
    "day_of_week",
    "default",
    "denied",
    "described",
    "detail",
    "details",
    "encoding",
    "end_at",
    "error",
    "errors",
    "event_id",
    "event_time",
    "events",
    "events_since",
    "every",
    "execution_deadline",
    "exists",
    "external",
    "external_workflow_execution",
    "failed",
    "failure",
    "fire_at",
    "first_event_id",
    "first_execution_run_id",
    "first_run_id",
    "first_task_backoff",
    "first_workflow_task_backoff",
    "heartbeat",
    "heartbeat_details",
    "heartbeat_timeout",
    "history_length",
    "history_size_bytes",
    "hour",
    "id_conflict_policy",
    "id_reuse_policy",
    "identity",
    "incarnation",
    "info",
    "initial_interval",
    "initiated_event_id",
    "initiator",
    "input",
    "intervals",
    "jitter",
    "json/plain",
    "last_failure",
    "last_heartbeat",
    "last_heartbeat_details",
    "last_processed",
    "last_updated_at",
    "last_wft_failure",
    "latest_cancel_requested_event_id",
    "launches",
    "marker_name",
    "maximum_attempts",
    "maximum_interval",
    "memo",
    "message",
    "metadata",
    "minute",
    "missed_catchup_window",
    "month",
    "name",
    "namespace",
    "nanos",
    "nanos_since_epoch",
    "new_events",
    "new_execution_run_id",
    "new_run_id",
    "next_action_times",
    "next_event_id",
    "next_retry_delay",
    "nominal",
    "nominal_time",
    "non_retryable",
    "non_retryable_error_types",
    "note",
    "num_actions",
    "offset",
    "options",
    "original_execution_run_id",
    "outcome",
    "overlap",
    "overlap_skipped",
    "parent",
    "parent_close_policy",
    "pause_on_failure",
    "paused",
    "phase",
    "policies",
    "previous_runs",
    "query",
    "query_name",
    "randomness_seed",
    "reason",
    "recent",
    "recent_actions",
    "refused",
    "remaining_actions",
    "request_id",
    "result",
    "retry_input",
    "retry_policy",
    "retry_state",
    "run_id",
    "run_options",
    "running",
    "running_actions",
    "schedule",
    "schedule_id",
    "schedule_to_close",
    "schedule_to_close_timeout",
    "schedule_to_start",
    "schedule_to_start_timeout",
    "scheduled_at",
    "scheduled_event_id",
    "scheduled_time",
    "sdk_flags",
    "search_attributes",
    "second",
    "secs",
    "secs_since_epoch",
    "sequencing_event_id",
    "signal",
    "signal_name",
    "signal_request_ids",
    "skip",
    "spec",
    "start",
    "start_at",
    "start_time",
    "start_to_close",
    "start_to_close_timeout",
    "start_to_fire_timeout",
    "started",
    "started_at",
    "started_event_id",
    "started_time",
    "state",
    "status",
    "step",
    "stopped",
    "suggest_continue_as_new",
    "task_id",
    "task_queue",
    "time_zone",
    "timed_out",
    "timeout",
    "timeout_type",
    "timer_id",
    "timers",
    "token",
    "type_name",
    "unavailable",
    "until",
    "update_completions",
    "update_id",
    "update_seq",
    "updates",
    "value",
    "wft_attempt",
    "wft_scheduled_event",
    "wft_seq",
    "workflow",
    "workflow_execution_timeout",
    "workflow_id",
    "workflow_id_reuse_policy",
    "workflow_run_timeout",
    "workflow_task_completed_event_id",
    "workflow_task_timeout",
    "workflow_type",
    "year",
];

/// The longest word's length.
const MAX_WORD: usize = 48;

/// A word's code, if it is one (words shorter than four bytes are not:
/// their code would not be shorter).
fn code_of(s: &[u8]) -> Option<u16> {
    if !(4..=MAX_WORD).contains(&s.len()) {
        return None;
    }
    static CODES: OnceLock<FastMap<&'static [u8], u16>> = OnceLock::new();
    let codes = CODES.get_or_init(|| {
        (0u16..)
            .zip(WORDS)
            .map(|(code, word)| (word.as_bytes(), code))
            .collect()
    });
    codes.get(s).copied()
}

/// What one MessagePack value's first bytes say: how long its header
/// and its payload are, and what it is. A container's header is all of
/// it here: its items follow as values of their own.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Token {
    Str { header: usize, len: usize },
    Ext { header: usize, ext: u8, len: usize },
    Other { len: usize },
}

impl Token {
    /// Its length (`None` past `usize`, which only a damaged length gives).
    fn len(self) -> Option<usize> {
        match self {
            Token::Str { header, len } | Token::Ext { header, len, .. } => header.checked_add(len),
            Token::Other { len } => Some(len),
        }
    }
}

/// The token at the start of `b` (not empty).
fn token(b: &[u8]) -> Result<Token, String> {
    let size = |n: usize| -> Result<usize, String> {
        let bytes = b.get(1..1 + n).ok_or("a value cut short")?;
        Ok(bytes
            .iter()
            .fold(0usize, |acc, &x| acc << 8 | usize::from(x)))
    };
    let t = *b.first().ok_or("a value cut short")?;
    Ok(match t {
        0x00..=0x7f | 0x80..=0x9f | 0xc0 | 0xc2 | 0xc3 | 0xe0..=0xff => Token::Other { len: 1 },
        0xa0..=0xbf => Token::Str {
            header: 1,
            len: usize::from(t & 0x1f),
        },
        0xd9 => Token::Str {
            header: 2,
            len: size(1)?,
        },
        0xda => Token::Str {
            header: 3,
            len: size(2)?,
        },
        0xdb => Token::Str {
            header: 5,
            len: size(4)?,
        },
        0xc4 => Token::Other { len: 2 + size(1)? },
        0xc5 => Token::Other { len: 3 + size(2)? },
        0xc6 => Token::Other { len: 5 + size(4)? },
        0xcc | 0xd0 => Token::Other { len: 2 },
        0xcd | 0xd1 => Token::Other { len: 3 },
        0xca | 0xce | 0xd2 => Token::Other { len: 5 },
        0xcb | 0xcf | 0xd3 => Token::Other { len: 9 },
        0xdc | 0xde => Token::Other { len: 3 },
        0xdd | 0xdf => Token::Other { len: 5 },
        0xd4..=0xd8 => Token::Ext {
            header: 2,
            ext: *b.get(1).ok_or("a value cut short")?,
            len: 1 << (t - 0xd4),
        },
        0xc7 => Token::Ext {
            header: 3,
            ext: *b.get(2).ok_or("a value cut short")?,
            len: size(1)?,
        },
        0xc8 => Token::Ext {
            header: 4,
            ext: *b.get(3).ok_or("a value cut short")?,
            len: size(2)?,
        },
        0xc9 => Token::Ext {
            header: 6,
            ext: *b.get(5).ok_or("a value cut short")?,
            len: size(4)?,
        },
        0xc1 => return Err("byte 0xc1, which MessagePack never uses".into()),
    })
}

/// Splits the token off the front of `rest`.
fn next<'a>(rest: &mut &'a [u8]) -> Result<(Token, &'a [u8]), String> {
    let token = token(rest)?;
    let (bytes, after) = token
        .len()
        .and_then(|len| rest.get(..len).zip(rest.get(len..)))
        .ok_or("a value cut short")?;
    *rest = after;
    Ok((token, bytes))
}

/// MessagePack (one or more values) with every word written as its code.
/// What is not a word is copied a stretch at a time.
pub(crate) fn shorten(msgpack: &[u8]) -> Result<Vec<u8>, String> {
    let mut out = Vec::with_capacity(msgpack.len());
    let mut copied = 0;
    let mut rest = msgpack;
    while !rest.is_empty() {
        let at = msgpack.len() - rest.len();
        let (token, bytes) = next(&mut rest)?;
        let code = match token {
            Token::Str { header, .. } => code_of(&bytes[header..]),
            Token::Ext { ext: EXT, .. } => {
                return Err("a MessagePack extension value of the type weft's codes use".into());
            }
            _ => None,
        };
        let Some(code) = code else { continue };
        out.extend_from_slice(&msgpack[copied..at]);
        copied = msgpack.len() - rest.len();
        match u8::try_from(code) {
            Ok(code) => out.extend_from_slice(&[0xd4, EXT, code]),
            Err(_) => {
                out.extend_from_slice(&[0xd5, EXT]);
                out.extend_from_slice(&code.to_be_bytes());
            }
        }
    }
    out.extend_from_slice(&msgpack[copied..]);
    Ok(out)
}

/// A stored row's MessagePack with every code spelled out as its word
/// (the row itself when it holds none).
pub(crate) fn spell_out(stored: &[u8]) -> Result<Cow<'_, [u8]>, String> {
    let mut out: Option<Vec<u8>> = None;
    let mut rest = stored;
    while !rest.is_empty() {
        let at = stored.len() - rest.len();
        let (token, bytes) = next(&mut rest)?;
        let Token::Ext {
            header, ext: EXT, ..
        } = token
        else {
            if let Some(out) = &mut out {
                out.extend_from_slice(bytes);
            }
            continue;
        };
        // Only the forms `shorten` writes: a code under 256 in one byte,
        // one from 256 on in two.
        let code = match (header, bytes.get(header..)) {
            (2, Some(&[code])) => usize::from(code),
            (2, Some(&[high, low])) if high > 0 => usize::from(u16::from_be_bytes([high, low])),
            _ => return Err("a damaged name code".into()),
        };
        let word = WORDS
            .get(code)
            .ok_or_else(|| format!("word code {code}, which this weft does not know"))?;
        let out = out.get_or_insert_with(|| {
            let mut v = Vec::with_capacity(stored.len() * 2);
            v.extend_from_slice(&stored[..at]);
            v
        });
        write_str(out, word);
    }
    Ok(out.map_or(Cow::Borrowed(stored), Cow::Owned))
}

/// Writes `word` as a MessagePack string.
fn write_str(out: &mut Vec<u8>, word: &str) {
    let len = word.len();
    match u8::try_from(len) {
        Ok(n) if n < 32 => out.push(0xa0 | n),
        Ok(n) => out.extend_from_slice(&[0xd9, n]),
        // No word is longer than MAX_WORD bytes (a test checks).
        Err(_) => {
            out.push(0xda);
            out.extend_from_slice(&u16::try_from(len).unwrap_or(u16::MAX).to_be_bytes());
        }
    }
    out.extend_from_slice(word.as_bytes());
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    #[test]
    fn words_are_unique_and_short_enough_to_code() {
        let unique: BTreeSet<&str> = WORDS.iter().copied().collect();
        assert_eq!(unique.len(), WORDS.len(), "a word twice");
        assert!(WORDS.len() <= usize::from(u16::MAX));
        for word in WORDS {
            assert!((4..=MAX_WORD).contains(&word.len()), "{word}");
        }
    }

    /// Every kind of MessagePack value goes through both ways unchanged,
    /// but for words, which are written short.
    #[test]
    fn values_of_every_kind_round_trip_and_words_are_shorter() {
        struct Bytes(Vec<u8>);
        impl serde::Serialize for Bytes {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_bytes(&self.0)
            }
        }
        #[derive(serde::Serialize)]
        struct Sample {
            event_type: String,
            attempt: u32,
            negative: i64,
            big: u64,
            real: f64,
            flag: Option<bool>,
            data: Bytes,
            list: Vec<String>,
            map: std::collections::BTreeMap<i64, String>,
            long: String,
        }
        let sample = Sample {
            event_type: "WorkflowTaskScheduled".into(),
            attempt: 70_000,
            negative: -5_000_000_000,
            big: u64::MAX,
            real: 1.5,
            flag: None,
            data: Bytes(vec![0xd4, EXT, 1, 0xc1]),
            list: vec![
                "scheduled_event_id".into(),
                "not a word".into(),
                String::new(),
            ],
            map: [(-1, "x".repeat(40)), (300, "y".repeat(70_000))].into(),
            long: "z".repeat(300),
        };
        let mut plain = Vec::new();
        serde::Serialize::serialize(
            &sample,
            &mut rmp_serde::Serializer::new(&mut plain).with_struct_map(),
        )
        .unwrap();
        let short = shorten(&plain).unwrap();
        assert!(
            short.len() + 30 < plain.len(),
            "{} {}",
            short.len(),
            plain.len()
        );
        assert_eq!(spell_out(&short).unwrap().as_ref(), &plain[..]);
        // Two values one after another, as an events row holds them.
        let two = [plain.clone(), plain.clone()].concat();
        assert_eq!(
            spell_out(&shorten(&two).unwrap()).unwrap().as_ref(),
            &two[..]
        );
        // A row without codes is read as it is.
        assert!(matches!(spell_out(&plain).unwrap(), Cow::Borrowed(_)));
    }

    #[test]
    fn a_damaged_row_is_an_error_not_a_panic() {
        let mut plain = Vec::new();
        serde::Serialize::serialize(
            &("attempt", vec![1u8; 10], "x".repeat(300)),
            &mut rmp_serde::Serializer::new(&mut plain),
        )
        .unwrap();
        let short = shorten(&plain).unwrap();
        for cut in 0..short.len() {
            let _ = spell_out(&short[..cut]);
            let _ = shorten(&plain[..cut]);
        }
        assert!(spell_out(&[0xc1]).is_err());
        assert!(
            spell_out(&[0xd5, EXT, 0xff, 0xff])
                .unwrap_err()
                .contains("does not know")
        );
        assert!(shorten(&[0xd4, EXT, 0]).is_err());
        assert!(spell_out(&[0xdb, 0xff]).is_err());
        // Codes in forms `shorten` never writes.
        for damaged in [
            &[0xd5, EXT, 0, 5][..],
            &[0xd6, EXT, 0, 0, 0, 5],
            &[0xc7, 0, EXT],
            &[0xc7, 1, EXT, 5],
        ] {
            assert!(
                spell_out(damaged).unwrap_err().contains("damaged"),
                "{damaged:?}"
            );
        }
    }
}
