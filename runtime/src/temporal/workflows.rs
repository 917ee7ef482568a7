//! Workflow activations from Temporal core, run by weft's executor.
//!
//! Core polls the server, keeps the sticky cache's bookkeeping, turns
//! history into activations and checks the commands against history on
//! replay; this module owns the runs' executors on a thread of their own
//! (no tokio runtime entered there, as on weft's own workers) and answers
//! each activation with the executor's commands. A run not held here when
//! core sends it a non-start activation (after a failure) fails the
//! activation: core then evicts it and replays it from its history.

use std::collections::HashMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, mpsc};

use temporalio_common::protos::coresdk::workflow_activation::WorkflowActivation;
use temporalio_common::protos::coresdk::workflow_commands::{
    QueryResult, QuerySuccess, query_result, workflow_command::Variant,
};
use temporalio_common::protos::coresdk::workflow_completion::WorkflowActivationCompletion;
use temporalio_common::protos::temporal::api::enums::v1::WorkflowTaskFailedCause;
use temporalio_sdk_core::{PollError, Worker as CoreWorker};
use tokio::sync::oneshot;

use super::commands::{RunContext, commands_to_core};
use super::convert::{failure_to, payload_to};
use super::jobs::{Incoming, Query, WorkerFacts, read_activation};
use super::side_effects::InOrder;
use crate::backend::PayloadCoder;
use crate::failure::{ApplicationError, Failure};
use crate::protocol::Command;
use crate::worker::intercept::{self, Chain};
use crate::workflow::error::TaskError;
use crate::workflow::executor::{Factory, Instance};

/// What the workflow thread needs.
pub(crate) struct Setup {
    pub namespace: String,
    pub task_queue: String,
    pub factories: HashMap<String, Factory>,
    pub interceptors: Chain,
    /// The client's payload codecs, when it has any.
    pub converter: Option<crate::converter::DataConverter>,
}

pub(crate) struct Request {
    activation: WorkflowActivation,
    reply: oneshot::Sender<WorkflowActivationCompletion>,
}

struct Run {
    instance: Box<dyn Instance>,
    workflow_type: String,
    /// Commands held back behind a side effect's local activity.
    order: InOrder,
}

struct Thread {
    setup: Setup,
    runs: HashMap<String, Run>,
}

/// Starts the workflow thread; it ends when the sender is dropped.
pub(crate) fn spawn(setup: Setup) -> std::io::Result<mpsc::Sender<Request>> {
    let (tx, rx) = mpsc::channel::<Request>();
    let dispatch = tracing::dispatcher::get_default(|d| d.clone());
    std::thread::Builder::new()
        .name("weft-temporal-workflows".into())
        .spawn(move || {
            let _scope = tracing::dispatcher::set_default(&dispatch);
            let mut thread = Thread {
                setup,
                runs: HashMap::new(),
            };
            while let Ok(request) = rx.recv() {
                let completion = thread.handle(request.activation);
                let _ = request.reply.send(completion);
            }
        })?;
    Ok(tx)
}

/// Polls core's activations until core shuts down, answering each.
pub(crate) async fn workflow_loop(core: Arc<CoreWorker>, thread: mpsc::Sender<Request>) {
    // Completions go out concurrently (core allows one outstanding
    // activation per run, any number of runs): waiting for each one's
    // round trip to the server before the next poll would serialise
    // every run of the worker.
    let mut completing = tokio::task::JoinSet::new();
    loop {
        while completing.try_join_next().is_some() {}
        let activation = match core.poll_workflow_activation().await {
            Ok(activation) => activation,
            Err(PollError::ShutDown) => break,
            Err(e) => {
                tracing::warn!(error = %e, "polling workflow activations failed; retrying");
                tokio::time::sleep(std::time::Duration::from_millis(200)).await;
                continue;
            }
        };
        let run_id = activation.run_id.clone();
        let (reply, answer) = oneshot::channel();
        let completion = match thread.send(Request { activation, reply }) {
            Ok(()) => answer.await.ok(),
            Err(_) => None,
        };
        let completion = completion.unwrap_or_else(|| {
            let failure = ApplicationError::new("the workflow thread stopped").into();
            fail(&run_id, &failure)
        });
        let core = core.clone();
        completing.spawn(async move {
            if let Err(e) = core.complete_workflow_activation(completion).await {
                tracing::warn!(run_id, error = %e, "workflow activation completion refused");
            }
        });
    }
    while completing.join_next().await.is_some() {}
}

fn fail(run_id: &str, failure: &Failure) -> WorkflowActivationCompletion {
    WorkflowActivationCompletion::fail(
        run_id.to_string(),
        failure_to(failure),
        Some(WorkflowTaskFailedCause::WorkflowWorkerUnhandledFailure),
    )
}

impl Thread {
    fn handle(&mut self, activation: WorkflowActivation) -> WorkflowActivationCompletion {
        let run_id = activation.run_id.clone();
        let facts = WorkerFacts {
            namespace: &self.setup.namespace,
            task_queue: &self.setup.task_queue,
        };
        let result = read_activation(&facts, activation).and_then(|incoming| match incoming {
            Incoming::Evict { reason } => {
                tracing::debug!(run_id, reason, "run evicted");
                self.runs.remove(&run_id);
                Ok(Vec::new())
            }
            Incoming::Work {
                start,
                activation,
                queries,
            } => self.work(&run_id, start, activation, queries),
        });
        match result {
            Ok(commands) => WorkflowActivationCompletion::from_cmds(run_id, commands),
            Err(e) => {
                // The run's state is unknown after a failure: core evicts
                // it and replays it from history.
                self.runs.remove(&run_id);
                tracing::warn!(run_id, error = %e.message, "workflow activation failed");
                let kind = if e.nondeterminism {
                    "NondeterminismError"
                } else {
                    "WorkflowTaskError"
                };
                fail(
                    &run_id,
                    &ApplicationError::new(e.message).with_type(kind).into(),
                )
            }
        }
    }

    fn work(
        &mut self,
        run_id: &str,
        start: Option<String>,
        activation: crate::protocol::Activation,
        queries: Vec<Query>,
    ) -> Result<Vec<Variant>, TaskError> {
        if let Some(workflow_type) = start {
            let instance = self.fresh(&workflow_type, &activation, run_id)?;
            self.runs.insert(
                run_id.to_string(),
                Run {
                    instance,
                    workflow_type,
                    order: InOrder::default(),
                },
            );
        }
        let Some(run) = self.runs.get_mut(run_id) else {
            return Err(TaskError::new(format!(
                "run {run_id} is not held by this worker; it is replayed from history"
            )));
        };
        let coder = |encode| {
            self.setup
                .converter
                .as_ref()
                .map(|converter| PayloadCoder { converter, encode })
        };
        let codec = |e: crate::converter::CodecError| TaskError::new(format!("payload codec: {e}"));
        let mut activation = activation;
        if let Some(decoder) = coder(false) {
            super::jobs::decode_jobs(&decoder, &mut activation.jobs)?;
        }
        run.order.note_resolutions(&activation.jobs);
        let mut commands = Vec::new();
        if !activation.jobs.is_empty() {
            let replaying = activation.is_replaying;
            let mut produced = guarded(|| run.instance.activate(activation))?;
            if let Some(encoder) = coder(true) {
                for command in &mut produced {
                    // A replayed side effect has no value (nothing is sent).
                    if !(replaying && matches!(command, Command::RecordSideEffect { .. })) {
                        encoder.command(command).map_err(codec)?;
                    }
                }
            }
            let context = RunContext {
                namespace: &self.setup.namespace,
                task_queue: &self.setup.task_queue,
                workflow_type: &run.workflow_type,
                replaying,
            };
            commands = commands_to_core(&context, produced)?;
        }
        let mut out = run.order.release(commands);
        for mut query in queries {
            if let Some(decoder) = coder(false) {
                decoder.list(&mut query.input).map_err(codec)?;
            }
            let mut answer = guarded(|| Ok(run.instance.query(&query.name, &query.input)))
                .unwrap_or_else(|e| Err(query_failure(&e.message)));
            if let Some(encoder) = coder(true) {
                encoder.result(&mut answer).map_err(codec)?;
            }
            out.push(Variant::RespondToQuery(QueryResult {
                query_id: query.id,
                variant: Some(match answer {
                    Ok(p) => query_result::Variant::Succeeded(QuerySuccess {
                        response: Some(payload_to(&p)),
                    }),
                    Err(f) => query_result::Variant::Failed(failure_to(&f)),
                }),
            }));
        }
        Ok(out)
    }

    fn fresh(
        &self,
        workflow_type: &str,
        activation: &crate::protocol::Activation,
        run_id: &str,
    ) -> Result<Box<dyn Instance>, TaskError> {
        let Some(factory) = self.setup.factories.get(workflow_type) else {
            let mut known: Vec<_> = self.setup.factories.keys().cloned().collect();
            known.sort();
            return Err(TaskError::new(format!(
                "workflow type {workflow_type:?} is not registered on this worker (registered: {})",
                known.join(", ")
            )));
        };
        let workflow_id = activation
            .jobs
            .iter()
            .find_map(|j| match j {
                crate::protocol::Job::Start { info, .. } => Some(info.workflow_id.clone()),
                _ => None,
            })
            .unwrap_or_default();
        let run = crate::telemetry::WorkflowRun {
            namespace: self.setup.namespace.clone(),
            workflow_id,
            run_id: run_id.to_string(),
            workflow_type: workflow_type.to_string(),
        };
        Ok(intercept::wrap(factory(), run, &self.setup.interceptors))
    }
}

/// A query that could not be answered.
fn query_failure(message: &str) -> Failure {
    ApplicationError::new(message.to_string())
        .with_type("QueryFailed")
        .into()
}

/// Runs workflow code, turning a panic into an activation failure.
fn guarded<T>(f: impl FnOnce() -> Result<T, TaskError>) -> Result<T, TaskError> {
    match crate::panic::in_workflow_code(|| catch_unwind(AssertUnwindSafe(f))) {
        Ok(result) => result,
        Err(panic) => Err(TaskError::new(format!(
            "workflow code panicked: {}",
            crate::panic::message(panic.as_ref())
        ))),
    }
}
