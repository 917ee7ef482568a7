//! The pure mapping between weft's schedules and Temporal's protos.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::*;
use crate::backend::RunStatus;
use crate::retry::RetryPolicy;
use crate::search_attributes::{SearchAttributeValue, SearchAttributes};

fn at(secs: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(secs)
}

fn action() -> ScheduleAction {
    let mut memo = BTreeMap::new();
    memo.insert(
        "owner".to_string(),
        crate::converter::encode(&"ops").unwrap(),
    );
    let mut search_attributes = SearchAttributes::new();
    search_attributes.insert_value("Team", SearchAttributeValue::Keyword("ops".into()));
    ScheduleAction::StartWorkflow(StartWorkflowAction {
        workflow_type: "Report".into(),
        workflow_id: "report".into(),
        task_queue: "reports".into(),
        input: vec![crate::converter::encode(&"daily").unwrap()],
        options: RunOptions {
            execution_timeout: Some(Duration::from_secs(3600)),
            run_timeout: Some(Duration::from_secs(600)),
            task_timeout: Some(Duration::from_secs(5)),
            retry_policy: Some(RetryPolicy {
                maximum_attempts: 3,
                ..RetryPolicy::default()
            }),
            memo,
            search_attributes,
        },
    })
}

fn full_schedule() -> Schedule {
    let spec = ScheduleSpec {
        intervals: vec![IntervalSpec::with_offset(
            Duration::from_secs(3600),
            Duration::from_secs(60),
        )],
        cron_expressions: vec!["0 9 * * MON-FRI".into()],
        calendars: vec![CalendarSpec {
            comment: "noon".into(),
            ..CalendarSpec::daily_at(12, 0)
        }],
        skip: vec![CalendarSpec {
            day_of_month: vec![Range::at(25)],
            month: vec![Range::at(12)],
            year: vec![Range::step(2030, 2040, 2)],
            ..CalendarSpec::default()
        }],
        start_at: Some(at(1_800_000_000)),
        end_at: Some(at(1_900_000_000)),
        jitter: Duration::from_secs(30),
        time_zone: Some("Europe/Paris".into()),
    };
    Schedule {
        action: action(),
        spec,
        policies: SchedulePolicies {
            overlap: OverlapPolicy::BufferAll,
            catchup_window: Duration::from_secs(600),
            pause_on_failure: true,
        },
        state: ScheduleState {
            paused: true,
            note: "held".into(),
            remaining_actions: Some(4),
        },
    }
}

#[test]
fn a_schedule_round_trips_through_temporals_proto() {
    let schedule = full_schedule();
    let proto = schedule_to(&schedule);
    assert_eq!(schedule_from("s", proto).unwrap(), schedule);
    let unlimited = Schedule::new(action(), ScheduleSpec::every(Duration::from_secs(5)));
    assert_eq!(
        schedule_from("s", schedule_to(&unlimited)).unwrap(),
        unlimited
    );
}

#[test]
fn the_proto_carries_the_fields_temporal_reads() {
    let proto = schedule_to(&full_schedule());
    let spec = proto.spec.unwrap();
    assert_eq!(spec.cron_string, ["0 9 * * MON-FRI"]);
    assert_eq!(spec.interval[0].phase.unwrap().seconds, 60);
    assert_eq!(spec.structured_calendar[0].hour[0].start, 12);
    assert_eq!(spec.exclude_structured_calendar[0].year[0].step, 2);
    assert_eq!(spec.timezone_name, "Europe/Paris");
    let policies = proto.policies.unwrap();
    assert_eq!(
        policies.overlap_policy,
        enums::ScheduleOverlapPolicy::BufferAll as i32
    );
    let state = proto.state.unwrap();
    assert!(state.limited_actions && state.paused);
    assert_eq!(state.remaining_actions, 4);
    let Some(proto::schedule_action::Action::StartWorkflow(w)) = proto.action.unwrap().action
    else {
        panic!("a workflow start")
    };
    assert_eq!(w.workflow_id, "report");
    assert_eq!(w.task_queue.unwrap().name, "reports");
    assert!(
        w.search_attributes
            .unwrap()
            .indexed_fields
            .contains_key("Team")
    );
}

#[test]
fn every_overlap_policy_maps_both_ways() {
    for p in [
        OverlapPolicy::Skip,
        OverlapPolicy::BufferOne,
        OverlapPolicy::BufferAll,
        OverlapPolicy::CancelOther,
        OverlapPolicy::TerminateOther,
        OverlapPolicy::AllowAll,
    ] {
        assert_eq!(overlap_from(overlap_to(p) as i32), p);
    }
    assert_eq!(overlap_from(0), OverlapPolicy::Skip);
    assert_eq!(opt_overlap_to(None), 0);
}

/// What the server describes for `0 9 * * MON-FRI`: the second as a
/// range with only a step, no year.
#[test]
fn a_compiled_calendar_reads_as_temporal_means_it() {
    let r = |start, end, step| proto::Range { start, end, step };
    let c = calendar_from(proto::StructuredCalendarSpec {
        second: vec![r(0, 0, 1)],
        minute: vec![r(0, 0, 0)],
        hour: vec![r(9, 0, 1)],
        day_of_month: vec![],
        month: vec![r(1, 12, 1)],
        day_of_week: vec![r(1, 5, 1)],
        ..Default::default()
    });
    assert_eq!(c.second, [Range::at(0)]);
    assert_eq!(c.minute, [Range::at(0)], "a step of 0 is 1");
    assert_eq!(
        c.hour,
        [Range::at(9)],
        "an end before the start is the start"
    );
    assert_eq!(c.day_of_month, [Range::new(1, 31)], "empty is the default");
    assert!(c.year.is_empty());
    assert_eq!(c.day_of_week, [Range::new(1, 5)]);
    let described = ScheduleSpec {
        calendars: vec![c],
        ..ScheduleSpec::default()
    };
    assert!(CompiledSpec::new(&described).is_ok());
}

#[test]
fn temporal_zero_durations_mean_none() {
    let w = NewWorkflowExecutionInfo {
        workflow_id: "w".into(),
        workflow_execution_timeout: duration_to(Duration::ZERO),
        workflow_task_timeout: duration_to(Duration::from_secs(10)),
        ..Default::default()
    };
    let options = workflow_from(w).options;
    assert_eq!(options.execution_timeout, None);
    assert_eq!(options.task_timeout, Some(Duration::from_secs(10)));
    assert_eq!(policies_from(None).catchup_window, DEFAULT_CATCHUP_WINDOW);
}

#[test]
fn a_schedule_without_a_workflow_action_is_refused_with_its_id() {
    let e = schedule_from("nightly", proto::Schedule::default()).unwrap_err();
    assert!(e.to_string().contains("\"nightly\""), "{e}");
}

#[test]
fn the_nominal_time_comes_from_the_workflow_id() {
    assert_eq!(
        nominal_time("report-2026-12-06T09:00:00Z"),
        Some(at(1_796_547_600))
    );
    assert_eq!(nominal_time("report"), None);
    assert_eq!(nominal_time("réport-99"), None);
    let result = action_from(proto::ScheduleActionResult {
        schedule_time: Some(timestamp_to(at(1_796_547_612))),
        actual_time: Some(timestamp_to(at(1_796_547_613))),
        start_workflow_result: Some(common::WorkflowExecution {
            workflow_id: "report-2026-12-06T09:00:00Z".into(),
            run_id: "r1".into(),
        }),
        start_workflow_status: enums::WorkflowExecutionStatus::Completed as i32,
    });
    assert_eq!(result.nominal_time, at(1_796_547_600));
    assert_eq!(result.scheduled_at, at(1_796_547_612));
    assert_eq!(result.started_at, at(1_796_547_613));
    assert_eq!(result.workflow.run_id, "r1");
    assert_eq!(result.status, RunStatus::Completed);
}

#[test]
fn a_description_maps_info_and_conflict_token() {
    let response = ws::DescribeScheduleResponse {
        schedule: Some(schedule_to(&full_schedule())),
        info: Some(proto::ScheduleInfo {
            action_count: 7,
            overlap_skipped: 2,
            buffer_size: 1,
            running_workflows: vec![common::WorkflowExecution {
                workflow_id: "report-2026-12-06T09:00:00Z".into(),
                run_id: "r7".into(),
            }],
            future_action_times: vec![timestamp_to(at(1_800_000_000))],
            create_time: Some(timestamp_to(at(1_700_000_000))),
            ..Default::default()
        }),
        conflict_token: 3u64.to_be_bytes().to_vec(),
        ..Default::default()
    };
    let d = description_from("s", response).unwrap();
    assert_eq!(d.schedule, full_schedule());
    assert_eq!(d.conflict_token, 3);
    assert_eq!(d.info.num_actions, 7);
    assert_eq!(d.info.overlap_skipped, 2);
    assert_eq!(d.info.buffer_size, 1);
    assert_eq!(d.info.running_actions[0].run_id, "r7");
    assert_eq!(d.info.next_action_times, [at(1_800_000_000)]);
    assert_eq!(d.info.created_at, Some(at(1_700_000_000)));
    assert!(d.info.errors.is_empty());
}

#[test]
fn conflict_tokens_of_another_shape_still_compare() {
    assert_eq!(conflict_token_from(&[0, 0, 0, 0, 0, 0, 1, 0]), 256);
    assert_eq!(conflict_token_from(b"abc"), conflict_token_from(b"abc"));
    assert_ne!(conflict_token_from(b"abc"), conflict_token_from(b"abd"));
}

#[test]
fn a_list_entry_keeps_what_listings_show() {
    let entry = list_entry_from(proto::ScheduleListEntry {
        schedule_id: "s".into(),
        info: Some(proto::ScheduleListInfo {
            workflow_type: Some(common::WorkflowType {
                name: "Report".into(),
            }),
            notes: "n".into(),
            paused: true,
            future_action_times: vec![timestamp_to(at(5))],
            ..Default::default()
        }),
        ..Default::default()
    });
    assert_eq!(entry.workflow_type, "Report");
    assert_eq!((entry.note.as_str(), entry.paused), ("n", true));
    assert_eq!(entry.next_action_times, [at(5)]);
}

#[test]
fn a_backfill_starts_a_nanosecond_early_so_its_start_is_included() {
    let requests = backfills_to(&[Backfill {
        start_at: at(60),
        end_at: at(120),
        overlap: Some(OverlapPolicy::AllowAll),
    }]);
    let start = time_from(requests[0].start_time).unwrap();
    assert_eq!(start, at(60) - Duration::from_nanos(1));
    assert_eq!(time_from(requests[0].end_time), Some(at(120)));
    assert_eq!(
        requests[0].overlap_policy,
        enums::ScheduleOverlapPolicy::AllowAll as i32
    );
}

#[test]
fn checks_refuse_what_the_engine_refuses() {
    let backwards = Backfill {
        start_at: at(120),
        end_at: at(60),
        overlap: None,
    };
    let e = check_backfills("s", &[backwards]).unwrap_err();
    assert!(
        e.to_string()
            .contains("backfill 0: start_at is after end_at"),
        "{e}"
    );
    let bad = Schedule::new(action(), ScheduleSpec::cron("61 * * * *"));
    let e = check_schedule("s", &bad).unwrap_err();
    assert!(
        matches!(&e, BackendError::InvalidArgument(m) if m.starts_with("schedule \"s\": spec: ")),
        "{e}"
    );
}

#[test]
fn pausing_without_a_note_sends_weft_s_default_note() {
    assert_eq!(pause_patch(true, None).pause, "Paused via weft");
    assert_eq!(
        pause_patch(true, Some(String::new())).pause,
        "Paused via weft"
    );
    assert_eq!(pause_patch(false, None).unpause, "Unpaused via weft");
    let p = pause_patch(false, Some("back".into()));
    assert_eq!((p.pause.as_str(), p.unpause.as_str()), ("", "back"));
}

#[test]
fn statuses_map_to_schedule_errors() {
    let e = |code, message: &str| schedule_error(&Status::new(code, message), "s");
    assert_eq!(
        e(
            Code::NotFound,
            "workflow not found for ID: temporal-sys-scheduler:s"
        ),
        BackendError::ScheduleNotFound {
            schedule_id: "s".into()
        }
    );
    assert_eq!(
        e(Code::AlreadyExists, "schedule \"s\" is already registered"),
        BackendError::ScheduleAlreadyExists {
            schedule_id: "s".into()
        }
    );
    assert_eq!(
        e(Code::InvalidArgument, "Invalid schedule spec"),
        BackendError::InvalidArgument("schedule \"s\": Invalid schedule spec".into())
    );
    assert!(matches!(
        e(Code::Unavailable, "down"),
        BackendError::Unavailable(_)
    ));
}
