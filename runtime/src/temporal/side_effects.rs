//! `ctx.side_effect` on Temporal's core, which has no side-effect marker
//! command: a side effect is recorded as a local activity of the built-in
//! type [`ACTIVITY_TYPE`], whose input is the value and which returns it.
//! Core records the result as a local activity marker and, on replay (and
//! after an eviction), resolves the activity from that marker without
//! running anything; the executor's side effects wait for that resolution
//! on this backend (`SideEffectMode::Resolved`), so the closure runs once.
//!
//! Side effects number their own `seq`s, as local activities number
//! theirs, while core numbers all local activities in one space: a side
//! effect's core seq is [`SEQ_BASE`] plus its own, far above any local
//! activity's (whose seqs stay as they were, so histories recorded before
//! replay as they did).
//!
//! Core appends a local activity's marker to the task's commands when the
//! activity resolves, not where it was scheduled. weft's engine records a
//! side effect's marker where the code asked for it, and weft's replay
//! expects it there: so a run's commands that follow a side effect's local
//! activity are held back until it resolves ([`InOrder`]), live and on
//! replay alike, and Temporal's history has the marker where weft's engine
//! has it.
//!
//! This file owns the whole mapping: the command, its resolution, the
//! built-in activity, and the marker as a weft history event, which is the
//! `core_side_effect` marker weft's engine writes, so one history replays
//! on either backend. It must not reach into the engine.

use std::collections::VecDeque;
use std::time::Duration;

use temporalio_common::protos::coresdk::activity_result::{
    ActivityExecutionResult, ActivityResolution, activity_resolution,
};
use temporalio_common::protos::coresdk::workflow_commands::{
    self as wc, workflow_command::Variant,
};
use temporalio_common::protos::temporal::api::common::v1 as common;

use super::convert::{duration_to, failure_from, failure_to, first_or_null, payload_to};
use crate::converter::{self, Payload};
use crate::failure::{ApplicationError, Failure};
use crate::history::markers::MarkerDetails;
use crate::protocol::Job;
use crate::workflow::error::TaskError;

/// The local activity type a side effect is recorded as (shown so in
/// Temporal's UI); reserved on every weft worker of this backend.
pub(crate) const ACTIVITY_TYPE: &str = "weft.SideEffect";

/// Where side effects' seqs start in core's local activity numbering.
const SEQ_BASE: u32 = 1 << 31;

/// How long the built-in activity may take: it only hands its input back.
const START_TO_CLOSE: Duration = Duration::from_secs(60);

/// The failure type of a replayed side effect core asks to run again.
const NOT_RECORDED: &str = "weft.SideEffectNotRecorded";

/// The core seq of side effect `seq`.
fn core_seq(seq: u32) -> Result<u32, TaskError> {
    SEQ_BASE
        .checked_add(seq)
        .filter(|s| *s > SEQ_BASE)
        .ok_or_else(|| {
            TaskError::new(format!(
                "side effect {seq}: a run may record at most {} side effects on Temporal",
                u32::MAX - SEQ_BASE
            ))
        })
}

/// The side effect a core local activity seq stands for, if it is one.
pub(crate) fn side_effect_seq(core_seq: u32) -> Option<u32> {
    core_seq.checked_sub(SEQ_BASE).filter(|s| *s > 0)
}

/// The local activity that records side effect `seq`. While replaying,
/// the closure did not run, so there is no value to send: core resolves
/// the activity from its marker and never runs it.
pub(crate) fn schedule(
    seq: u32,
    value: &Payload,
    replaying: bool,
) -> Result<wc::ScheduleLocalActivity, TaskError> {
    Ok(wc::ScheduleLocalActivity {
        seq: core_seq(seq)?,
        activity_id: format!("side-effect-{seq}"),
        activity_type: ACTIVITY_TYPE.to_string(),
        attempt: 1,
        arguments: if replaying {
            Vec::new()
        } else {
            vec![payload_to(value)]
        },
        start_to_close_timeout: duration_to(START_TO_CLOSE),
        cancellation_type: wc::ActivityCancellationType::TryCancel as i32,
        ..Default::default()
    })
}

/// A run's commands in the order weft's engine records them: the commands
/// after a side effect's local activity wait until it resolved, so core
/// records its marker before them.
#[derive(Debug, Default)]
pub(crate) struct InOrder {
    held: VecDeque<Variant>,
    /// The side effect whose resolution the held commands wait for.
    awaiting: Option<u32>,
}

impl InOrder {
    /// Notes the side effects an activation resolves.
    pub(crate) fn note_resolutions(&mut self, jobs: &[Job]) {
        if jobs.iter().any(
            |job| matches!(job, Job::ResolveSideEffect { seq, .. } if Some(*seq) == self.awaiting),
        ) {
            self.awaiting = None;
        }
    }

    /// The commands to send now, of those held and `commands` (in order):
    /// up to the next side effect's local activity, or none while one is
    /// unresolved.
    pub(crate) fn release(&mut self, commands: Vec<Variant>) -> Vec<Variant> {
        self.held.extend(commands);
        let mut out = Vec::new();
        while self.awaiting.is_none()
            && let Some(command) = self.held.pop_front()
        {
            if let Variant::ScheduleLocalActivity(la) = &command {
                self.awaiting = side_effect_seq(la.seq);
            }
            out.push(command);
        }
        out
    }
}

/// Refuses a user's local activity of the reserved type: its marker would
/// read as a side effect.
pub(crate) fn check_local_activity_type(activity_type: &str) -> Result<(), TaskError> {
    if activity_type == ACTIVITY_TYPE {
        return Err(TaskError::new(format!(
            "local activity type {ACTIVITY_TYPE:?} is reserved for ctx.side_effect on the \
             Temporal backend: give the activity another name"
        )));
    }
    Ok(())
}

/// Refuses a worker that registers an activity of the reserved type.
pub(crate) fn check_registered<'a>(
    mut activity_types: impl Iterator<Item = &'a String>,
) -> Result<(), String> {
    if activity_types.any(|t| t == ACTIVITY_TYPE) {
        return Err(format!(
            "activity type {ACTIVITY_TYPE:?} is reserved for ctx.side_effect on the Temporal \
             backend: give the activity another name"
        ));
    }
    Ok(())
}

/// The job a side effect's resolution becomes: its value. A failed
/// resolution fails the workflow task, so no failure is recorded as the
/// value.
pub(crate) fn resolved(seq: u32, resolution: Option<ActivityResolution>) -> Result<Job, TaskError> {
    let failure = match resolution.and_then(|r| r.status) {
        Some(activity_resolution::Status::Completed(ok)) => {
            return Ok(Job::ResolveSideEffect {
                seq,
                value: Some(first_or_null(ok.result.into_iter().collect())),
            });
        }
        Some(activity_resolution::Status::Failed(f)) => f.failure.map(failure_from),
        Some(activity_resolution::Status::Cancelled(c)) => c.failure.map(failure_from),
        Some(activity_resolution::Status::Backoff(_)) => {
            Some(ApplicationError::new("core asked for a retry backoff").into())
        }
        None => None,
    };
    let why = failure.map_or_else(|| "no result".to_string(), |f| f.to_string());
    Err(TaskError::new(format!(
        "side effect {seq}: recording its value as local activity {ACTIVITY_TYPE} failed: {why}"
    )))
}

/// Runs the built-in activity: its input is the value, returned as it came
/// (still encoded by the client's codecs, if any).
pub(crate) fn run(input: Vec<common::Payload>) -> ActivityExecutionResult {
    match <[common::Payload; 1]>::try_from(input) {
        Ok([value]) => ActivityExecutionResult::ok(value),
        // Core runs a side effect scheduled during replay when the
        // replayed task never recorded it (a worker that heartbeated its
        // workflow task, then died): the closure was skipped as replayed,
        // so there is no value to record.
        Err(input) => {
            let failure: Failure = ApplicationError::new(format!(
                "a side effect replayed without a recorded value ({} input payloads): the \
                 workflow task that ran it ended before recording it",
                input.len()
            ))
            .with_type(NOT_RECORDED)
            .non_retryable()
            .into();
            tracing::warn!(error = %failure, "side effect not recorded");
            ActivityExecutionResult::fail(failure_to(&failure))
        }
    }
}

/// The details of weft's side effect marker for a local activity marker of
/// the built-in type (its details as `events` reads them: `seq` and
/// `activity_type` named, `result`), or `None` for any other marker.
pub(crate) fn marker_details(la: &MarkerDetails) -> Option<MarkerDetails> {
    let activity_type: String = converter::decode_single(la.get("activity_type")?).ok()?;
    if activity_type != ACTIVITY_TYPE {
        return None;
    }
    let core_seq: u32 = converter::decode_single(la.get("seq")?).ok()?;
    let seq = side_effect_seq(core_seq)?;
    let mut details = MarkerDetails::new();
    details.insert("seq".to_string(), vec![converter::encode(&seq).ok()?]);
    if let Some(value) = la.get("result").and_then(|r| r.first()) {
        details.insert("data".to_string(), vec![value.clone()]);
    }
    Some(details)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn value() -> Payload {
        converter::encode("token-7").unwrap()
    }

    #[test]
    fn seqs_map_both_ways_above_every_local_activity() {
        let core = core_seq(3).unwrap();
        assert!(core > SEQ_BASE);
        assert_eq!(side_effect_seq(core), Some(3));
        assert_eq!(side_effect_seq(3), None);
        assert_eq!(side_effect_seq(SEQ_BASE), None);
        assert!(core_seq(u32::MAX - SEQ_BASE + 1).is_err());
    }

    #[test]
    fn the_value_is_the_input_live_and_nothing_on_replay() {
        let live = schedule(2, &value(), false).unwrap();
        assert_eq!(live.activity_type, ACTIVITY_TYPE);
        assert_eq!(live.seq, SEQ_BASE + 2);
        assert_eq!(live.arguments, vec![payload_to(&value())]);
        assert!(live.start_to_close_timeout.is_some());
        let replayed = schedule(2, &Payload::default(), true).unwrap();
        assert!(replayed.arguments.is_empty());
        assert_eq!(
            (replayed.seq, replayed.activity_id),
            (live.seq, live.activity_id)
        );
    }

    #[test]
    fn the_activity_returns_its_input() {
        let result = run(vec![payload_to(&value())]);
        assert_eq!(result, ActivityExecutionResult::ok(payload_to(&value())));
        let unrecorded = run(Vec::new());
        assert!(
            format!("{unrecorded:?}").contains("without a recorded value"),
            "{unrecorded:?}"
        );
    }

    #[test]
    fn a_resolution_is_the_value_and_a_failure_fails_the_task() {
        let ok = ActivityResolution {
            status: Some(activity_resolution::Status::Completed(
                temporalio_common::protos::coresdk::activity_result::Success {
                    result: Some(payload_to(&value())),
                },
            )),
        };
        let Job::ResolveSideEffect { seq, value: got } = resolved(4, Some(ok)).unwrap() else {
            panic!("not a side effect job");
        };
        assert_eq!((seq, got), (4, Some(value())));
        let failed = ActivityResolution {
            status: Some(activity_resolution::Status::Failed(
                temporalio_common::protos::coresdk::activity_result::Failure {
                    failure: Some(failure_to(&ApplicationError::new("codec refused").into())),
                    ..Default::default()
                },
            )),
        };
        let err = resolved(4, Some(failed)).unwrap_err();
        assert!(err.message.contains("side effect 4"), "{}", err.message);
        assert!(err.message.contains("codec refused"), "{}", err.message);
        assert!(resolved(4, None).is_err());
    }

    #[test]
    fn the_reserved_type_is_refused_for_user_activities() {
        assert!(check_local_activity_type("charge").is_ok());
        let err = check_local_activity_type(ACTIVITY_TYPE).unwrap_err();
        assert!(err.message.contains("reserved"), "{}", err.message);
        let names = ["charge".to_string(), ACTIVITY_TYPE.to_string()];
        assert!(check_registered(names[..1].iter()).is_ok());
        assert!(check_registered(names.iter()).is_err());
    }

    fn timer(seq: u32) -> Variant {
        Variant::StartTimer(wc::StartTimer {
            seq,
            start_to_fire_timeout: None,
        })
    }

    fn side_effect(seq: u32) -> Variant {
        Variant::ScheduleLocalActivity(schedule(seq, &value(), false).unwrap())
    }

    fn resolution(seq: u32) -> Job {
        Job::ResolveSideEffect {
            seq,
            value: Some(value()),
        }
    }

    #[test]
    fn commands_after_a_side_effect_wait_until_it_resolved() {
        let mut order = InOrder::default();
        let sent = order.release(vec![timer(1), side_effect(1), timer(2), side_effect(2)]);
        assert_eq!(sent, vec![timer(1), side_effect(1)]);
        // Another side effect's value, or none, releases nothing.
        order.note_resolutions(&[resolution(2)]);
        assert_eq!(order.release(vec![timer(3)]), vec![]);
        order.note_resolutions(&[]);
        assert_eq!(order.release(vec![]), vec![]);
        order.note_resolutions(&[resolution(1)]);
        assert_eq!(order.release(vec![]), vec![timer(2), side_effect(2)]);
        order.note_resolutions(&[resolution(2)]);
        assert_eq!(order.release(vec![timer(4)]), vec![timer(3), timer(4)]);
        // A user's local activity holds nothing back.
        let la = Variant::ScheduleLocalActivity(wc::ScheduleLocalActivity {
            seq: 1,
            ..Default::default()
        });
        assert_eq!(
            order.release(vec![la.clone(), timer(5)]),
            vec![la, timer(5)]
        );
    }

    fn la_marker(activity_type: &str, seq: u32) -> MarkerDetails {
        let mut la = MarkerDetails::new();
        la.insert(
            "activity_type".into(),
            vec![converter::encode(activity_type).unwrap()],
        );
        la.insert("seq".into(), vec![converter::encode(&seq).unwrap()]);
        la.insert("result".into(), vec![value()]);
        la
    }

    #[test]
    fn its_marker_reads_as_weft_side_effect_marker() {
        let details = marker_details(&la_marker(ACTIVITY_TYPE, SEQ_BASE + 5)).unwrap();
        assert_eq!(
            details,
            crate::history::markers::side_effect_details(5, &value()).unwrap()
        );
        assert_eq!(marker_details(&la_marker("charge", 5)), None);
        assert_eq!(marker_details(&la_marker(ACTIVITY_TYPE, 5)), None);
    }
}
