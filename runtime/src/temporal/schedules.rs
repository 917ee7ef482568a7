//! Schedules on Temporal: weft's [`crate::schedule`] model to and from
//! `temporal.api.schedule.v1`, and the `WorkflowService` calls that
//! create, describe, update, patch (trigger, backfill, pause), delete and
//! list them.
//!
//! Where Temporal and weft's engine mean different things, this file
//! bridges what it can: a spec is checked as the engine checks it before
//! it is sent (the same user code gets the same refusal), a backfill's
//! range includes its start on every server version, and an update with a
//! conflict token is refused when the schedule moved (Temporal drops such
//! an update without an error). What it cannot bridge is listed in the
//! book's "Running on Temporal". It must not reach into the engine.

use std::time::{Duration, SystemTime};

use temporalio_client::tonic::{Code, Request, Status};
use temporalio_common::protos::temporal::api::common::v1 as common;
use temporalio_common::protos::temporal::api::enums::v1 as enums;
use temporalio_common::protos::temporal::api::schedule::v1 as proto;
use temporalio_common::protos::temporal::api::taskqueue::v1::TaskQueue;
use temporalio_common::protos::temporal::api::workflow::v1::NewWorkflowExecutionInfo;
use temporalio_common::protos::temporal::api::workflowservice::v1 as ws;

use super::client::{TemporalBackend, status_error};
use super::convert::{
    duration_from, duration_to, from_payloads, memo_from, memo_to, opt_duration_to,
    retry_from_proto, retry_to, some_payloads, time_from,
};
use super::history::status_from;
use super::search::{search_attributes_from, search_attributes_to};
use crate::backend::BackendError;
use crate::protocol::RunOptions;
use crate::schedule::spec::CompiledSpec;
use crate::schedule::{
    Backfill, CalendarSpec, DEFAULT_CATCHUP_WINDOW, IntervalSpec, OverlapPolicy, Range, Schedule,
    ScheduleAction, ScheduleActionResult, ScheduleDescription, ScheduleInfo, ScheduleListEntry,
    SchedulePolicies, ScheduleSpec, ScheduleState, ScheduledRun, StartWorkflowAction,
};

/// Schedules asked for per `ListSchedules` page.
const LIST_PAGE_SIZE: i32 = 1000;

/// What a scheduled workflow's id adds to the action's: `-` and an RFC
/// 3339 time to the second (as weft's engine and Temporal both write it).
const ID_TIME_LEN: usize = "2006-01-02T15:04:05Z".len();

// ---- weft to Temporal ----

fn timestamp_to(t: SystemTime) -> prost_wkt_types::Timestamp {
    prost_wkt_types::Timestamp::from(t)
}

fn overlap_to(p: OverlapPolicy) -> enums::ScheduleOverlapPolicy {
    use enums::ScheduleOverlapPolicy as P;
    match p {
        OverlapPolicy::Skip => P::Skip,
        OverlapPolicy::BufferOne => P::BufferOne,
        OverlapPolicy::BufferAll => P::BufferAll,
        OverlapPolicy::CancelOther => P::CancelOther,
        OverlapPolicy::TerminateOther => P::TerminateOther,
        OverlapPolicy::AllowAll => P::AllowAll,
    }
}

/// An optional overlap policy; unspecified means the schedule's.
fn opt_overlap_to(p: Option<OverlapPolicy>) -> i32 {
    p.map_or(enums::ScheduleOverlapPolicy::Unspecified as i32, |p| {
        overlap_to(p) as i32
    })
}

fn ranges_to(ranges: &[Range]) -> Vec<proto::Range> {
    let int = |v: u32| i32::try_from(v).unwrap_or(i32::MAX);
    ranges
        .iter()
        .map(|r| proto::Range {
            start: int(r.start),
            end: int(r.end),
            step: int(r.step),
        })
        .collect()
}

fn calendar_to(c: &CalendarSpec) -> proto::StructuredCalendarSpec {
    proto::StructuredCalendarSpec {
        second: ranges_to(&c.second),
        minute: ranges_to(&c.minute),
        hour: ranges_to(&c.hour),
        day_of_month: ranges_to(&c.day_of_month),
        month: ranges_to(&c.month),
        year: ranges_to(&c.year),
        day_of_week: ranges_to(&c.day_of_week),
        comment: c.comment.clone(),
    }
}

fn spec_to(s: &ScheduleSpec) -> proto::ScheduleSpec {
    proto::ScheduleSpec {
        structured_calendar: s.calendars.iter().map(calendar_to).collect(),
        cron_string: s.cron_expressions.clone(),
        interval: s
            .intervals
            .iter()
            .map(|i| proto::IntervalSpec {
                interval: duration_to(i.every),
                phase: duration_to(i.offset),
            })
            .collect(),
        exclude_structured_calendar: s.skip.iter().map(calendar_to).collect(),
        start_time: s.start_at.map(timestamp_to),
        end_time: s.end_at.map(timestamp_to),
        jitter: duration_to(s.jitter),
        timezone_name: s.time_zone.clone().unwrap_or_default(),
        ..Default::default()
    }
}

fn workflow_to(a: &StartWorkflowAction) -> NewWorkflowExecutionInfo {
    let o = &a.options;
    NewWorkflowExecutionInfo {
        workflow_id: a.workflow_id.clone(),
        workflow_type: Some(common::WorkflowType {
            name: a.workflow_type.clone(),
        }),
        task_queue: Some(TaskQueue {
            name: a.task_queue.clone(),
            kind: enums::TaskQueueKind::Normal as i32,
            ..Default::default()
        }),
        input: some_payloads(&a.input),
        workflow_execution_timeout: opt_duration_to(o.execution_timeout),
        workflow_run_timeout: opt_duration_to(o.run_timeout),
        workflow_task_timeout: opt_duration_to(o.task_timeout),
        retry_policy: o.retry_policy.as_ref().map(retry_to),
        memo: memo_to(&o.memo),
        search_attributes: (!o.search_attributes.is_empty())
            .then(|| search_attributes_to(o.search_attributes.iter().map(|(k, v)| (k, Some(v))))),
        ..Default::default()
    }
}

/// A schedule as Temporal's proto.
pub(super) fn schedule_to(s: &Schedule) -> proto::Schedule {
    let ScheduleAction::StartWorkflow(action) = &s.action;
    proto::Schedule {
        spec: Some(spec_to(&s.spec)),
        action: Some(proto::ScheduleAction {
            action: Some(proto::schedule_action::Action::StartWorkflow(workflow_to(
                action,
            ))),
        }),
        policies: Some(proto::SchedulePolicies {
            overlap_policy: overlap_to(s.policies.overlap) as i32,
            catchup_window: duration_to(s.policies.catchup_window),
            pause_on_failure: s.policies.pause_on_failure,
            keep_original_workflow_id: false,
        }),
        state: Some(proto::ScheduleState {
            notes: s.state.note.clone(),
            paused: s.state.paused,
            limited_actions: s.state.remaining_actions.is_some(),
            remaining_actions: s
                .state
                .remaining_actions
                .map_or(0, |n| i64::try_from(n).unwrap_or(i64::MAX)),
        }),
    }
}

/// Temporal's backfill requests for weft's ranges. Temporal has documented
/// a backfill's start as exclusive (servers since take it inclusively):
/// starting a nanosecond early includes it on either, as weft's engine
/// does.
pub(super) fn backfills_to(backfills: &[Backfill]) -> Vec<proto::BackfillRequest> {
    backfills
        .iter()
        .map(|b| proto::BackfillRequest {
            start_time: Some(timestamp_to(
                b.start_at
                    .checked_sub(Duration::from_nanos(1))
                    .unwrap_or(b.start_at),
            )),
            end_time: Some(timestamp_to(b.end_at)),
            overlap_policy: opt_overlap_to(b.overlap),
        })
        .collect()
}

/// Checks a schedule as weft's engine does before anything is sent, so
/// both backends refuse the same schedules with the same messages; the
/// server checks the rest.
pub(super) fn check_schedule(id: &str, schedule: &Schedule) -> Result<(), BackendError> {
    CompiledSpec::new(&schedule.spec)
        .map(drop)
        .map_err(|e| BackendError::InvalidArgument(format!("schedule {id:?}: spec: {e}")))
}

/// Checks backfill ranges as weft's engine does.
pub(super) fn check_backfills(id: &str, backfills: &[Backfill]) -> Result<(), BackendError> {
    match backfills.iter().position(|b| b.start_at > b.end_at) {
        Some(i) => Err(BackendError::InvalidArgument(format!(
            "schedule {id:?}: backfill {i}: start_at is after end_at"
        ))),
        None => Ok(()),
    }
}

// ---- Temporal to weft ----

fn overlap_from(p: i32) -> OverlapPolicy {
    use enums::ScheduleOverlapPolicy as P;
    match P::try_from(p) {
        Ok(P::BufferOne) => OverlapPolicy::BufferOne,
        Ok(P::BufferAll) => OverlapPolicy::BufferAll,
        Ok(P::CancelOther) => OverlapPolicy::CancelOther,
        Ok(P::TerminateOther) => OverlapPolicy::TerminateOther,
        Ok(P::AllowAll) => OverlapPolicy::AllowAll,
        // Unspecified is Temporal's default, Skip.
        _ => OverlapPolicy::Skip,
    }
}

/// Ranges as Temporal reads them: a step of 0 is 1, an end before the
/// start is the start; an empty list is the field's default.
fn ranges_from(ranges: Vec<proto::Range>, default: &[Range]) -> Vec<Range> {
    if ranges.is_empty() {
        return default.to_vec();
    }
    let int = |v: i32| u32::try_from(v).unwrap_or(0);
    ranges
        .into_iter()
        .map(|r| Range {
            start: int(r.start),
            end: int(r.end.max(r.start)),
            step: int(r.step).max(1),
        })
        .collect()
}

fn calendar_from(c: proto::StructuredCalendarSpec) -> CalendarSpec {
    let d = CalendarSpec::default();
    CalendarSpec {
        second: ranges_from(c.second, &d.second),
        minute: ranges_from(c.minute, &d.minute),
        hour: ranges_from(c.hour, &d.hour),
        day_of_month: ranges_from(c.day_of_month, &d.day_of_month),
        month: ranges_from(c.month, &d.month),
        year: ranges_from(c.year, &d.year),
        day_of_week: ranges_from(c.day_of_week, &d.day_of_week),
        comment: c.comment,
    }
}

/// A spec as Temporal describes it: cron expressions and calendars come
/// back as the structured calendars the server compiled them into.
fn spec_from(s: proto::ScheduleSpec) -> ScheduleSpec {
    ScheduleSpec {
        intervals: s
            .interval
            .into_iter()
            .map(|i| IntervalSpec {
                every: duration_from(i.interval).unwrap_or_default(),
                offset: duration_from(i.phase).unwrap_or_default(),
            })
            .collect(),
        cron_expressions: s.cron_string,
        calendars: s
            .structured_calendar
            .into_iter()
            .map(calendar_from)
            .collect(),
        skip: s
            .exclude_structured_calendar
            .into_iter()
            .map(calendar_from)
            .collect(),
        start_at: time_from(s.start_time),
        end_at: time_from(s.end_time),
        jitter: duration_from(s.jitter).unwrap_or_default(),
        time_zone: (!s.timezone_name.is_empty()).then_some(s.timezone_name),
    }
}

/// A duration Temporal writes as 0 for "none".
fn nonzero(d: Option<prost_wkt_types::Duration>) -> Option<Duration> {
    duration_from(d).filter(|d| !d.is_zero())
}

fn workflow_from(w: NewWorkflowExecutionInfo) -> StartWorkflowAction {
    StartWorkflowAction {
        workflow_type: w.workflow_type.map(|t| t.name).unwrap_or_default(),
        workflow_id: w.workflow_id,
        task_queue: w.task_queue.map(|q| q.name).unwrap_or_default(),
        input: from_payloads(w.input),
        options: RunOptions {
            execution_timeout: nonzero(w.workflow_execution_timeout),
            run_timeout: nonzero(w.workflow_run_timeout),
            task_timeout: nonzero(w.workflow_task_timeout),
            retry_policy: w.retry_policy.map(retry_from_proto),
            memo: memo_from(w.memo),
            search_attributes: search_attributes_from(w.search_attributes),
        },
    }
}

fn policies_from(p: Option<proto::SchedulePolicies>) -> SchedulePolicies {
    let p = p.unwrap_or_default();
    SchedulePolicies {
        overlap: overlap_from(p.overlap_policy),
        catchup_window: nonzero(p.catchup_window).unwrap_or(DEFAULT_CATCHUP_WINDOW),
        pause_on_failure: p.pause_on_failure,
    }
}

fn state_from(s: Option<proto::ScheduleState>) -> ScheduleState {
    let s = s.unwrap_or_default();
    ScheduleState {
        paused: s.paused,
        note: s.notes,
        remaining_actions: s
            .limited_actions
            .then(|| u64::try_from(s.remaining_actions).unwrap_or(0)),
    }
}

/// A schedule from Temporal's proto; its action must start a workflow
/// (the only action Temporal has).
pub(super) fn schedule_from(id: &str, s: proto::Schedule) -> Result<Schedule, BackendError> {
    let Some(proto::schedule_action::Action::StartWorkflow(workflow)) =
        s.action.and_then(|a| a.action)
    else {
        return Err(BackendError::InvalidArgument(format!(
            "schedule {id:?} on Temporal has no workflow to start: weft reads only schedules \
             whose action starts a workflow"
        )));
    };
    Ok(Schedule {
        action: ScheduleAction::StartWorkflow(workflow_from(workflow)),
        spec: spec_from(s.spec.unwrap_or_default()),
        policies: policies_from(s.policies),
        state: state_from(s.state),
    })
}

/// The nominal time a scheduled workflow's id ends with, if it does.
fn nominal_time(workflow_id: &str) -> Option<SystemTime> {
    let at = workflow_id.len().checked_sub(ID_TIME_LEN)?;
    let suffix = workflow_id.get(at..)?;
    let time = chrono::DateTime::parse_from_rfc3339(suffix).ok()?;
    Some(time.with_timezone(&chrono::Utc).into())
}

fn run_from(e: common::WorkflowExecution) -> ScheduledRun {
    ScheduledRun {
        workflow_id: e.workflow_id,
        run_id: e.run_id,
    }
}

fn action_from(a: proto::ScheduleActionResult) -> ScheduleActionResult {
    let workflow = run_from(a.start_workflow_result.unwrap_or_default());
    let scheduled_at = time_from(a.schedule_time).unwrap_or(SystemTime::UNIX_EPOCH);
    ScheduleActionResult {
        // Temporal records the time with jitter; the id keeps the nominal one.
        nominal_time: nominal_time(&workflow.workflow_id).unwrap_or(scheduled_at),
        scheduled_at,
        started_at: time_from(a.actual_time).unwrap_or(scheduled_at),
        workflow,
        status: status_from(a.start_workflow_status),
    }
}

fn count(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

fn times_from(times: Vec<prost_wkt_types::Timestamp>) -> Vec<SystemTime> {
    times
        .into_iter()
        .filter_map(|t| time_from(Some(t)))
        .collect()
}

#[allow(deprecated)] // invalid_schedule_error: the only place older servers say it
fn info_from(i: proto::ScheduleInfo) -> ScheduleInfo {
    ScheduleInfo {
        num_actions: count(i.action_count),
        missed_catchup_window: count(i.missed_catchup_window),
        overlap_skipped: count(i.overlap_skipped),
        buffer_dropped: count(i.buffer_dropped),
        buffer_size: usize::try_from(i.buffer_size).unwrap_or(0),
        running_actions: i.running_workflows.into_iter().map(run_from).collect(),
        recent_actions: i.recent_actions.into_iter().map(action_from).collect(),
        next_action_times: times_from(i.future_action_times),
        created_at: time_from(i.create_time),
        last_updated_at: time_from(i.update_time),
        errors: (!i.invalid_schedule_error.is_empty())
            .then_some(i.invalid_schedule_error)
            .into_iter()
            .collect(),
    }
}

/// Temporal's conflict token as weft's number: its 8 big-endian bytes
/// (how Temporal writes it), else a stable hash of the bytes. weft never
/// sends the number back: an update sends the bytes of a fresh describe.
pub(super) fn conflict_token_from(bytes: &[u8]) -> u64 {
    match <[u8; 8]>::try_from(bytes) {
        Ok(b) => u64::from_be_bytes(b),
        Err(_) => crate::schedule::spec::seed(&String::from_utf8_lossy(bytes)),
    }
}

pub(super) fn description_from(
    id: &str,
    r: ws::DescribeScheduleResponse,
) -> Result<ScheduleDescription, BackendError> {
    let schedule = schedule_from(id, r.schedule.unwrap_or_default())?;
    Ok(ScheduleDescription {
        schedule_id: id.to_string(),
        schedule,
        info: info_from(r.info.unwrap_or_default()),
        conflict_token: conflict_token_from(&r.conflict_token),
    })
}

pub(super) fn list_entry_from(e: proto::ScheduleListEntry) -> ScheduleListEntry {
    let info = e.info.unwrap_or_default();
    ScheduleListEntry {
        schedule_id: e.schedule_id,
        workflow_type: info.workflow_type.map(|t| t.name).unwrap_or_default(),
        note: info.notes,
        paused: info.paused,
        recent_actions: info.recent_actions.into_iter().map(action_from).collect(),
        next_action_times: times_from(info.future_action_times),
    }
}

/// A gRPC status of a schedule call as weft's error. Temporal answers a
/// missing schedule with its scheduler workflow's "not found", which
/// names an id the user never gave.
pub(super) fn schedule_error(s: &Status, id: &str) -> BackendError {
    let error = match s.code() {
        Code::NotFound => BackendError::ScheduleNotFound {
            schedule_id: id.to_string(),
        },
        Code::AlreadyExists => BackendError::ScheduleAlreadyExists {
            schedule_id: id.to_string(),
        },
        Code::InvalidArgument | Code::FailedPrecondition | Code::OutOfRange => {
            BackendError::InvalidArgument(format!("schedule {id:?}: {}", s.message()))
        }
        _ => status_error(s, id, None),
    };
    tracing::debug!(schedule_id = id, code = ?s.code(), message = s.message(), %error, "Temporal refused a schedule call");
    error
}

// ---- the calls ----

impl TemporalBackend {
    pub(super) async fn create_schedule_call(
        &self,
        namespace: String,
        id: String,
        schedule: Schedule,
    ) -> Result<(), BackendError> {
        check_schedule(&id, &schedule)?;
        let request = ws::CreateScheduleRequest {
            namespace,
            schedule_id: id.clone(),
            schedule: Some(schedule_to(&schedule)),
            identity: self.identity().to_string(),
            request_id: uuid::Uuid::new_v4().to_string(),
            ..Default::default()
        };
        self.service()
            .create_schedule(Request::new(request))
            .await
            .map_err(|s| schedule_error(&s, &id))?;
        tracing::info!(schedule_id = %id, "schedule created on Temporal");
        Ok(())
    }

    async fn describe_raw(
        &self,
        namespace: String,
        id: &str,
    ) -> Result<ws::DescribeScheduleResponse, BackendError> {
        let request = ws::DescribeScheduleRequest {
            namespace,
            schedule_id: id.to_string(),
        };
        Ok(self
            .service()
            .describe_schedule(Request::new(request))
            .await
            .map_err(|s| schedule_error(&s, id))?
            .into_inner())
    }

    pub(super) async fn describe_schedule_call(
        &self,
        namespace: String,
        id: String,
    ) -> Result<ScheduleDescription, BackendError> {
        let response = self.describe_raw(namespace, &id).await?;
        description_from(&id, response)
    }

    /// Temporal drops an update whose conflict token is stale, and answers
    /// as if it applied. So with a token the schedule is described first:
    /// a token that moved is `ScheduleConflict`, and the update carries
    /// the token just read, which the server checks again.
    pub(super) async fn update_schedule_call(
        &self,
        namespace: String,
        id: String,
        schedule: Schedule,
        conflict_token: Option<u64>,
    ) -> Result<(), BackendError> {
        check_schedule(&id, &schedule)?;
        let token = match conflict_token {
            None => Vec::new(),
            Some(expected) => {
                let current = self.describe_raw(namespace.clone(), &id).await?;
                if conflict_token_from(&current.conflict_token) != expected {
                    return Err(BackendError::ScheduleConflict { schedule_id: id });
                }
                current.conflict_token
            }
        };
        let request = ws::UpdateScheduleRequest {
            namespace,
            schedule_id: id.clone(),
            schedule: Some(schedule_to(&schedule)),
            conflict_token: token,
            identity: self.identity().to_string(),
            request_id: uuid::Uuid::new_v4().to_string(),
            ..Default::default()
        };
        self.service()
            .update_schedule(Request::new(request))
            .await
            .map_err(|s| schedule_error(&s, &id))?;
        tracing::info!(schedule_id = %id, "schedule updated on Temporal");
        Ok(())
    }

    pub(super) async fn delete_schedule_call(
        &self,
        namespace: String,
        id: String,
    ) -> Result<(), BackendError> {
        let request = ws::DeleteScheduleRequest {
            namespace,
            schedule_id: id.clone(),
            identity: self.identity().to_string(),
        };
        self.service()
            .delete_schedule(Request::new(request))
            .await
            .map_err(|s| schedule_error(&s, &id))?;
        tracing::info!(schedule_id = %id, "schedule deleted on Temporal");
        Ok(())
    }

    /// Every page of `ListSchedules`, by id. Temporal lists through its
    /// visibility store, which lags a create, an update or a delete.
    pub(super) async fn list_schedules_call(
        &self,
        namespace: String,
    ) -> Result<Vec<ScheduleListEntry>, BackendError> {
        let mut entries = Vec::new();
        let mut token = Vec::new();
        loop {
            let request = ws::ListSchedulesRequest {
                namespace: namespace.clone(),
                maximum_page_size: LIST_PAGE_SIZE,
                next_page_token: token,
                query: String::new(),
            };
            let response = self
                .service()
                .list_schedules(Request::new(request))
                .await
                .map_err(|s| {
                    let e = status_error(&s, &namespace, None);
                    tracing::warn!(namespace, error = %e, "Temporal could not list schedules");
                    e
                })?
                .into_inner();
            entries.extend(response.schedules.into_iter().map(list_entry_from));
            if response.next_page_token.is_empty() {
                break;
            }
            token = response.next_page_token;
        }
        entries.sort_by(|a, b| a.schedule_id.cmp(&b.schedule_id));
        Ok(entries)
    }

    async fn patch(
        &self,
        namespace: String,
        id: &str,
        patch: proto::SchedulePatch,
    ) -> Result<(), BackendError> {
        let request = ws::PatchScheduleRequest {
            namespace,
            schedule_id: id.to_string(),
            patch: Some(patch),
            identity: self.identity().to_string(),
            request_id: uuid::Uuid::new_v4().to_string(),
        };
        self.service()
            .patch_schedule(Request::new(request))
            .await
            .map_err(|s| schedule_error(&s, id))?;
        Ok(())
    }

    pub(super) async fn trigger_schedule_call(
        &self,
        namespace: String,
        id: String,
        overlap: Option<OverlapPolicy>,
    ) -> Result<(), BackendError> {
        let patch = proto::SchedulePatch {
            trigger_immediately: Some(proto::TriggerImmediatelyRequest {
                overlap_policy: opt_overlap_to(overlap),
                scheduled_time: None,
            }),
            ..Default::default()
        };
        self.patch(namespace, &id, patch).await
    }

    pub(super) async fn backfill_schedule_call(
        &self,
        namespace: String,
        id: String,
        backfills: Vec<Backfill>,
    ) -> Result<(), BackendError> {
        check_backfills(&id, &backfills)?;
        let patch = proto::SchedulePatch {
            backfill_request: backfills_to(&backfills),
            ..Default::default()
        };
        self.patch(namespace, &id, patch).await
    }

    pub(super) async fn pause_schedule_call(
        &self,
        namespace: String,
        id: String,
        paused: bool,
        note: Option<String>,
    ) -> Result<(), BackendError> {
        self.patch(namespace, &id, pause_patch(paused, note))
            .await?;
        tracing::info!(schedule_id = %id, paused, "schedule paused or unpaused on Temporal");
        Ok(())
    }
}

/// A pause or unpause patch. Temporal reads an empty note as "no change",
/// so an empty or missing note is weft's default one.
pub(super) fn pause_patch(paused: bool, note: Option<String>) -> proto::SchedulePatch {
    let note = note.filter(|n| !n.is_empty()).unwrap_or_else(|| {
        if paused {
            "Paused via weft"
        } else {
            "Unpaused via weft"
        }
        .to_string()
    });
    if paused {
        proto::SchedulePatch {
            pause: note,
            ..Default::default()
        }
    } else {
        proto::SchedulePatch {
            unpause: note,
            ..Default::default()
        }
    }
}

#[cfg(test)]
mod tests;
