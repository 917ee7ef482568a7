//! Temporal core's workflow activations as weft's. Core already orders the
//! jobs as weft's executor expects them (start, patches, signals and
//! updates, resolutions, local activity resolutions, queries), so the jobs
//! keep their order; queries are taken out and answered from the run's
//! state after the other jobs are applied.

use std::time::SystemTime;

use temporalio_common::protos::coresdk::activity_result::{self, activity_resolution};
use temporalio_common::protos::coresdk::child_workflow::{self, child_workflow_result};
use temporalio_common::protos::coresdk::workflow_activation::{
    self as wa, WorkflowActivation, resolve_child_workflow_execution_start as child_start,
    workflow_activation_job::Variant,
};

use super::convert::{failure_from, first_or_null, payload_from, payloads_from, time_from};
use super::search::search_attributes_from;
use super::side_effects;
use crate::failure::{ApplicationError, Failure};
use crate::protocol::{Activation, ChildStart, Job, Resolution, WorkflowInfo};
use crate::workflow::error::TaskError;

/// A query to answer from a run's state.
pub(crate) struct Query {
    pub id: String,
    pub name: String,
    pub input: Vec<crate::converter::Payload>,
}

/// What one core activation asks of a run.
pub(crate) enum Incoming {
    /// Forget the run (answer with an empty completion).
    Evict { reason: String },
    /// Apply the jobs (if any), then answer the queries.
    Work {
        /// The run's type, when the activation starts it.
        start: Option<String>,
        activation: Activation,
        queries: Vec<Query>,
    },
}

/// What the worker knows that core's activation does not carry.
pub(crate) struct WorkerFacts<'a> {
    pub namespace: &'a str,
    pub task_queue: &'a str,
}

/// Reads one core activation.
pub(crate) fn read_activation(
    facts: &WorkerFacts<'_>,
    activation: WorkflowActivation,
) -> Result<Incoming, TaskError> {
    let mut start = None;
    let mut jobs = Vec::with_capacity(activation.jobs.len());
    let mut queries = Vec::new();
    for job in activation.jobs {
        let Some(variant) = job.variant else { continue };
        match variant {
            Variant::RemoveFromCache(evict) => {
                let reason = format!(
                    "{:?}: {}",
                    wa::remove_from_cache::EvictionReason::try_from(evict.reason)
                        .unwrap_or_default(),
                    evict.message
                );
                return Ok(Incoming::Evict { reason });
            }
            Variant::QueryWorkflow(q) => queries.push(Query {
                id: q.query_id,
                name: q.query_type,
                input: payloads_from(q.arguments),
            }),
            Variant::InitializeWorkflow(init) => {
                start = Some(init.workflow_type.clone());
                jobs.push(start_job(facts, &activation.run_id, init));
            }
            other => {
                if let Some(job) = job_from(other)? {
                    jobs.push(job);
                }
            }
        }
    }
    let activation = Activation {
        timestamp: time_from(activation.timestamp).unwrap_or_else(SystemTime::now),
        is_replaying: activation.is_replaying,
        history_length: u64::from(activation.history_length),
        history_size_bytes: activation.history_size_bytes,
        continue_as_new_suggested: activation.continue_as_new_suggested,
        jobs,
    };
    Ok(Incoming::Work {
        start,
        activation,
        queries,
    })
}

fn start_job(facts: &WorkerFacts<'_>, run_id: &str, init: wa::InitializeWorkflow) -> Job {
    Job::Start {
        info: WorkflowInfo {
            namespace: facts.namespace.to_string(),
            workflow_id: init.workflow_id,
            run_id: run_id.to_string(),
            workflow_type: init.workflow_type,
            task_queue: facts.task_queue.to_string(),
            attempt: u32::try_from(init.attempt).unwrap_or(1).max(1),
            start_time: time_from(init.start_time).unwrap_or_else(SystemTime::now),
            search_attributes: search_attributes_from(init.search_attributes),
        },
        input: payloads_from(init.arguments),
        randomness_seed: init.randomness_seed,
    }
}

/// The weft job for one of core's, `None` for those weft has no use for.
fn job_from(variant: Variant) -> Result<Option<Job>, TaskError> {
    let job = match variant {
        Variant::FireTimer(t) => Job::FireTimer { seq: t.seq },
        Variant::SignalWorkflow(s) => Job::Signal {
            name: s.signal_name,
            input: payloads_from(s.input),
        },
        Variant::DoUpdate(u) => Job::Update {
            id: u.protocol_instance_id,
            name: u.name,
            input: payloads_from(u.input),
            run_validator: u.run_validator,
        },
        Variant::CancelWorkflow(c) => Job::CancelWorkflow { reason: c.reason },
        Variant::NotifyHasPatch(p) => Job::NotifyHasPatch {
            patch_id: p.patch_id,
        },
        Variant::ResolveActivity(r) => match side_effects::side_effect_seq(r.seq) {
            Some(seq) if r.is_local => side_effects::resolved(seq, r.result)?,
            _ if r.is_local => Job::ResolveLocalActivity {
                seq: r.seq,
                result: resolution(r.seq, r.result)?,
            },
            _ => Job::ResolveActivity {
                seq: r.seq,
                result: resolution(r.seq, r.result)?,
            },
        },
        Variant::ResolveChildWorkflowExecutionStart(s) => match s.status {
            Some(child_start::Status::Succeeded(ok)) => Job::ResolveChildStart {
                seq: s.seq,
                result: ChildStart::Started { run_id: ok.run_id },
            },
            Some(child_start::Status::Failed(_)) => Job::ResolveChildStart {
                seq: s.seq,
                result: ChildStart::AlreadyExists,
            },
            Some(child_start::Status::Cancelled(c)) => Job::ResolveChild {
                seq: s.seq,
                result: Resolution::Failed(missing_failure(c.failure)),
            },
            None => return Err(TaskError::new("child start resolution without a status")),
        },
        Variant::ResolveChildWorkflowExecution(r) => Job::ResolveChild {
            seq: r.seq,
            result: child_result(r.result),
        },
        Variant::ResolveSignalExternalWorkflow(r) => Job::ResolveSignalExternal {
            seq: r.seq,
            failure: r.failure.map(failure_from),
        },
        Variant::ResolveRequestCancelExternalWorkflow(r) => Job::ResolveRequestCancelExternal {
            seq: r.seq,
            child: false,
            failure: r.failure.map(failure_from),
        },
        Variant::UpdateRandomSeed(_) => {
            tracing::debug!("Temporal changed the run's random seed; weft keeps its own");
            return Ok(None);
        }
        Variant::ResolveNexusOperationStart(_) | Variant::ResolveNexusOperation(_) => {
            return Err(TaskError::new("weft workflows start no Nexus operations"));
        }
        Variant::InitializeWorkflow(_)
        | Variant::QueryWorkflow(_)
        | Variant::RemoveFromCache(_) => return Ok(None),
    };
    Ok(Some(job))
}

fn missing_failure(
    f: Option<temporalio_common::protos::temporal::api::failure::v1::Failure>,
) -> Failure {
    f.map(failure_from)
        .unwrap_or_else(|| ApplicationError::new("no failure recorded").into())
}

fn resolution(
    seq: u32,
    r: Option<activity_result::ActivityResolution>,
) -> Result<Resolution, TaskError> {
    match r.and_then(|r| r.status) {
        Some(activity_resolution::Status::Completed(ok)) => Ok(Resolution::Completed(
            ok.result
                .map(payload_from)
                .unwrap_or_else(super::convert::null_payload),
        )),
        Some(activity_resolution::Status::Failed(f)) => {
            Ok(Resolution::Failed(missing_failure(f.failure)))
        }
        Some(activity_resolution::Status::Cancelled(c)) => {
            Ok(Resolution::Failed(missing_failure(c.failure)))
        }
        Some(activity_resolution::Status::Backoff(b)) => Err(TaskError::new(format!(
            "local activity {seq} asks for a retry timer (attempt {}), which weft does not \
             schedule on the Temporal backend",
            b.attempt
        ))),
        None => Err(TaskError::new(format!(
            "activity {seq} resolved without a result"
        ))),
    }
}

fn child_result(r: Option<child_workflow::ChildWorkflowResult>) -> Resolution {
    match r.and_then(|r| r.status) {
        Some(child_workflow_result::Status::Completed(ok)) => Resolution::Completed(
            ok.result
                .map(payload_from)
                .unwrap_or_else(super::convert::null_payload),
        ),
        Some(child_workflow_result::Status::Failed(f)) => {
            Resolution::Failed(missing_failure(f.failure))
        }
        Some(child_workflow_result::Status::Cancelled(c)) => {
            Resolution::Failed(missing_failure(c.failure))
        }
        None => Resolution::Completed(first_or_null(Vec::new())),
    }
}

/// Decodes the payloads of jobs with the worker's codecs.
pub(crate) fn decode_jobs(
    coder: &crate::backend::PayloadCoder<'_>,
    jobs: &mut [Job],
) -> Result<(), TaskError> {
    let coded = |r: Result<(), crate::converter::CodecError>| {
        r.map_err(|e| TaskError::new(format!("payload codec: {e}")))
    };
    for job in jobs {
        match job {
            Job::Start { input, .. } | Job::Signal { input, .. } | Job::Update { input, .. } => {
                coded(coder.list(input))?
            }
            Job::ResolveActivity { result, .. }
            | Job::ResolveLocalActivity { result, .. }
            | Job::ResolveChild { result, .. } => coded(coder.resolution(result))?,
            Job::ResolveSignalExternal {
                failure: Some(f), ..
            }
            | Job::ResolveRequestCancelExternal {
                failure: Some(f), ..
            } => coded(coder.failure(f))?,
            Job::ResolveSideEffect { value: Some(v), .. } => coded(coder.one(v))?,
            _ => {}
        }
    }
    Ok(())
}
