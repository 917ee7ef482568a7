//! weft's payloads, failures, durations and retry policies to and from
//! Temporal's protos. Payloads cross unchanged (weft's converter already
//! writes Temporal's default encodings: `json/plain`, `binary/null`);
//! failures map variant by variant onto `Failure.failure_info`.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use temporalio_common::protos::temporal::api::common::v1 as common;
use temporalio_common::protos::temporal::api::enums::v1 as enums;
use temporalio_common::protos::temporal::api::failure::v1 as proto;
use temporalio_common::protos::temporal::api::failure::v1::failure::FailureInfo;

use crate::converter::Payload;
use crate::failure::{
    ActivityError, ApplicationError, CanceledError, ChildWorkflowError, Failure, RetryState,
    ServerError, TerminatedError, TimeoutError, TimeoutType,
};
use crate::retry::RetryPolicy;

/// The `source` Temporal records on failures weft made.
const SOURCE: &str = "weft";

pub(crate) fn payload_to(p: &Payload) -> common::Payload {
    common::Payload {
        metadata: p
            .metadata
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
        data: p.data.clone(),
        ..Default::default()
    }
}

pub(crate) fn payload_from(p: common::Payload) -> Payload {
    Payload {
        metadata: p.metadata.into_iter().collect::<BTreeMap<_, _>>(),
        data: p.data,
    }
}

/// A memo's entries as Temporal carries them.
pub(super) fn memo_fields_to<C: FromIterator<(String, common::Payload)>>(
    memo: &BTreeMap<String, Payload>,
) -> C {
    memo.iter()
        .map(|(k, v)| (k.clone(), payload_to(v)))
        .collect()
}

/// A memo as Temporal carries it: none when empty.
pub(super) fn memo_to(memo: &BTreeMap<String, Payload>) -> Option<common::Memo> {
    (!memo.is_empty()).then(|| common::Memo {
        fields: memo_fields_to(memo),
    })
}

/// A memo Temporal carries, as weft keeps it.
pub(super) fn memo_from(memo: Option<common::Memo>) -> BTreeMap<String, Payload> {
    memo.map(|m| {
        m.fields
            .into_iter()
            .map(|(k, v)| (k, payload_from(v)))
            .collect()
    })
    .unwrap_or_default()
}

pub(crate) fn payloads_to(ps: &[Payload]) -> Vec<common::Payload> {
    ps.iter().map(payload_to).collect()
}

pub(crate) fn payloads_from(ps: Vec<common::Payload>) -> Vec<Payload> {
    ps.into_iter().map(payload_from).collect()
}

/// `Payloads` (a message around a list), absent when empty.
pub(crate) fn some_payloads(ps: &[Payload]) -> Option<common::Payloads> {
    (!ps.is_empty()).then(|| common::Payloads {
        payloads: payloads_to(ps),
    })
}

pub(crate) fn from_payloads(ps: Option<common::Payloads>) -> Vec<Payload> {
    ps.map(|p| payloads_from(p.payloads)).unwrap_or_default()
}

/// The first payload, or the `binary/null` one an absent result stands for.
pub(crate) fn first_or_null(ps: Vec<common::Payload>) -> Payload {
    ps.into_iter()
        .next()
        .map(payload_from)
        .unwrap_or_else(null_payload)
}

pub(crate) fn null_payload() -> Payload {
    let mut metadata = BTreeMap::new();
    metadata.insert(
        crate::converter::ENCODING_KEY.to_string(),
        crate::converter::ENCODING_NULL.as_bytes().to_vec(),
    );
    Payload {
        metadata,
        data: Vec::new(),
    }
}

pub(crate) fn duration_to(d: Duration) -> Option<prost_wkt_types::Duration> {
    d.try_into().ok()
}

pub(crate) fn opt_duration_to(d: Option<Duration>) -> Option<prost_wkt_types::Duration> {
    d.and_then(duration_to)
}

pub(crate) fn duration_from(d: Option<prost_wkt_types::Duration>) -> Option<Duration> {
    d.and_then(|d| Duration::try_from(d).ok())
}

pub(crate) fn time_from(t: Option<prost_wkt_types::Timestamp>) -> Option<SystemTime> {
    t.and_then(|t| SystemTime::try_from(t).ok())
}

pub(crate) fn retry_to(p: &RetryPolicy) -> common::RetryPolicy {
    common::RetryPolicy {
        initial_interval: duration_to(p.initial_interval),
        backoff_coefficient: p.backoff_coefficient,
        maximum_interval: opt_duration_to(p.maximum_interval),
        maximum_attempts: i32::try_from(p.maximum_attempts).unwrap_or(i32::MAX),
        non_retryable_error_types: p.non_retryable_error_types.clone(),
    }
}

pub(crate) fn retry_from_proto(p: common::RetryPolicy) -> RetryPolicy {
    let default = RetryPolicy::default();
    RetryPolicy {
        initial_interval: duration_from(p.initial_interval).unwrap_or(default.initial_interval),
        backoff_coefficient: if p.backoff_coefficient > 0.0 {
            p.backoff_coefficient
        } else {
            default.backoff_coefficient
        },
        maximum_interval: duration_from(p.maximum_interval),
        maximum_attempts: u32::try_from(p.maximum_attempts).unwrap_or(0),
        non_retryable_error_types: p.non_retryable_error_types,
    }
}

fn retry_state_to(s: RetryState) -> enums::RetryState {
    match s {
        RetryState::InProgress => enums::RetryState::InProgress,
        RetryState::NonRetryableFailure => enums::RetryState::NonRetryableFailure,
        RetryState::Timeout => enums::RetryState::Timeout,
        RetryState::MaximumAttemptsReached => enums::RetryState::MaximumAttemptsReached,
        RetryState::RetryPolicyNotSet => enums::RetryState::RetryPolicyNotSet,
        RetryState::CancelRequested => enums::RetryState::CancelRequested,
    }
}

pub(crate) fn retry_state_from(s: i32) -> RetryState {
    match enums::RetryState::try_from(s) {
        Ok(enums::RetryState::InProgress) => RetryState::InProgress,
        Ok(enums::RetryState::NonRetryableFailure) => RetryState::NonRetryableFailure,
        Ok(enums::RetryState::Timeout) => RetryState::Timeout,
        Ok(enums::RetryState::MaximumAttemptsReached) => RetryState::MaximumAttemptsReached,
        Ok(enums::RetryState::CancelRequested) => RetryState::CancelRequested,
        _ => RetryState::RetryPolicyNotSet,
    }
}

fn timeout_type_to(t: TimeoutType) -> enums::TimeoutType {
    match t {
        TimeoutType::StartToClose | TimeoutType::WorkflowRun | TimeoutType::WorkflowExecution => {
            enums::TimeoutType::StartToClose
        }
        TimeoutType::ScheduleToStart => enums::TimeoutType::ScheduleToStart,
        TimeoutType::ScheduleToClose => enums::TimeoutType::ScheduleToClose,
        TimeoutType::Heartbeat => enums::TimeoutType::Heartbeat,
    }
}

fn timeout_type_from(t: i32) -> TimeoutType {
    match enums::TimeoutType::try_from(t) {
        Ok(enums::TimeoutType::ScheduleToStart) => TimeoutType::ScheduleToStart,
        Ok(enums::TimeoutType::ScheduleToClose) => TimeoutType::ScheduleToClose,
        Ok(enums::TimeoutType::Heartbeat) => TimeoutType::Heartbeat,
        _ => TimeoutType::StartToClose,
    }
}

/// A weft failure as Temporal's `Failure` (message, cause chain, and the
/// info of its kind).
pub(crate) fn failure_to(f: &Failure) -> proto::Failure {
    let (message, cause, info) = match f {
        Failure::Application(e) => (
            e.message.clone(),
            e.cause.as_deref(),
            FailureInfo::ApplicationFailureInfo(proto::ApplicationFailureInfo {
                r#type: e.type_name.clone(),
                non_retryable: e.non_retryable,
                details: some_payloads(&e.details),
                next_retry_delay: opt_duration_to(e.next_retry_delay),
                ..Default::default()
            }),
        ),
        Failure::Activity(e) => (
            "Activity task failed".to_string(),
            Some(&*e.cause),
            FailureInfo::ActivityFailureInfo(proto::ActivityFailureInfo {
                activity_type: Some(common::ActivityType {
                    name: e.activity_type.clone(),
                }),
                activity_id: e.activity_id.clone(),
                retry_state: retry_state_to(e.retry_state) as i32,
                ..Default::default()
            }),
        ),
        Failure::ChildWorkflow(e) => (
            e.message.clone(),
            Some(&*e.cause),
            FailureInfo::ChildWorkflowExecutionFailureInfo(
                proto::ChildWorkflowExecutionFailureInfo {
                    workflow_execution: Some(common::WorkflowExecution {
                        workflow_id: e.workflow_id.clone(),
                        run_id: e.run_id.clone(),
                    }),
                    workflow_type: Some(common::WorkflowType {
                        name: e.workflow_type.clone(),
                    }),
                    retry_state: retry_state_to(e.retry_state) as i32,
                    ..Default::default()
                },
            ),
        ),
        Failure::Timeout(e) => (
            format!("{} timeout", e.timeout_type),
            None,
            FailureInfo::TimeoutFailureInfo(proto::TimeoutFailureInfo {
                timeout_type: timeout_type_to(e.timeout_type) as i32,
                last_heartbeat_details: some_payloads(&e.last_heartbeat_details),
            }),
        ),
        Failure::Canceled(e) => (
            e.message.clone(),
            None,
            FailureInfo::CanceledFailureInfo(proto::CanceledFailureInfo {
                details: some_payloads(&e.details),
                ..Default::default()
            }),
        ),
        Failure::Terminated(e) => (
            e.reason.clone(),
            None,
            FailureInfo::TerminatedFailureInfo(proto::TerminatedFailureInfo::default()),
        ),
        Failure::Server(e) => (
            e.message.clone(),
            None,
            FailureInfo::ServerFailureInfo(proto::ServerFailureInfo {
                non_retryable: e.non_retryable,
            }),
        ),
    };
    proto::Failure {
        message,
        source: SOURCE.to_string(),
        cause: cause.map(|c| Box::new(failure_to(c))),
        failure_info: Some(info),
        ..Default::default()
    }
}

/// Temporal's `Failure` as weft's. A failure without info (or of a kind
/// weft has no variant for) reads as an `ApplicationError` with its
/// message, so nothing a peer sends is lost.
pub(crate) fn failure_from(f: proto::Failure) -> Failure {
    let cause = f.cause.map(|c| Box::new(failure_from(*c)));
    let missing_cause = || {
        Box::new(Failure::Application(ApplicationError::new(
            "no cause recorded",
        )))
    };
    match f.failure_info {
        Some(FailureInfo::ActivityFailureInfo(info)) => Failure::Activity(ActivityError {
            activity_type: info.activity_type.map(|t| t.name).unwrap_or_default(),
            activity_id: info.activity_id,
            retry_state: retry_state_from(info.retry_state),
            attempt: 0,
            cause: cause.unwrap_or_else(missing_cause),
        }),
        Some(FailureInfo::ChildWorkflowExecutionFailureInfo(info)) => {
            let execution = info.workflow_execution.unwrap_or_default();
            Failure::ChildWorkflow(Box::new(ChildWorkflowError {
                message: f.message,
                workflow_id: execution.workflow_id,
                run_id: execution.run_id,
                workflow_type: info.workflow_type.map(|t| t.name).unwrap_or_default(),
                retry_state: retry_state_from(info.retry_state),
                cause: cause.unwrap_or_else(missing_cause),
            }))
        }
        Some(FailureInfo::TimeoutFailureInfo(info)) => Failure::Timeout(TimeoutError {
            timeout_type: timeout_type_from(info.timeout_type),
            last_heartbeat_details: from_payloads(info.last_heartbeat_details),
        }),
        Some(FailureInfo::CanceledFailureInfo(info)) => Failure::Canceled(CanceledError {
            message: f.message,
            details: from_payloads(info.details),
        }),
        Some(FailureInfo::TerminatedFailureInfo(_)) => {
            Failure::Terminated(TerminatedError { reason: f.message })
        }
        Some(FailureInfo::ServerFailureInfo(info)) => Failure::Server(ServerError {
            message: f.message,
            non_retryable: info.non_retryable,
        }),
        Some(FailureInfo::ApplicationFailureInfo(info)) => Failure::Application(ApplicationError {
            message: f.message,
            type_name: info.r#type,
            non_retryable: info.non_retryable,
            details: from_payloads(info.details),
            next_retry_delay: duration_from(info.next_retry_delay),
            cause,
        }),
        _ => Failure::Application(ApplicationError {
            cause,
            ..ApplicationError::new(f.message)
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_cross_both_ways_with_types_and_messages() {
        let f: Failure = Failure::Activity(ActivityError {
            activity_type: "charge".into(),
            activity_id: "3".into(),
            retry_state: RetryState::MaximumAttemptsReached,
            attempt: 0,
            cause: Box::new(
                ApplicationError::new("card declined")
                    .with_type("CardError")
                    .non_retryable()
                    .into(),
            ),
        });
        assert_eq!(failure_from(failure_to(&f)), f);
        let t = Failure::Timeout(TimeoutError {
            timeout_type: TimeoutType::Heartbeat,
            last_heartbeat_details: vec![crate::converter::encode(&3).unwrap()],
        });
        assert_eq!(failure_from(failure_to(&t)), t);
    }

    #[test]
    fn retry_policies_round_trip() {
        let p = RetryPolicy {
            maximum_attempts: 3,
            non_retryable_error_types: vec!["X".into()],
            ..RetryPolicy::default()
        };
        assert_eq!(retry_from_proto(retry_to(&p)), p);
    }
}
