//! Workflow and query tasks on a worker: polled from the backend, run on
//! the workflow thread, with local activities run here while the task is
//! held, then completed or failed.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{oneshot, watch};

use super::thread::{self, QueryStep, Request, TaskStep};
use tracing::Instrument as _;

use super::{Shared, backoff_after, local, next, telemetry};
use crate::backend::{TaskToken, WorkflowTask, WorkflowTaskCompletion};
use crate::history::Event;
use crate::protocol::{Command, ScheduleActivity};
use crate::telemetry::spans;
use crate::workflow::error::TaskError;

pub(super) async fn workflow_loop(shared: Arc<Shared>, mut stop: watch::Receiver<bool>) {
    loop {
        let poll = shared
            .backend
            .poll_workflow_task(&shared.namespace, &shared.task_queue);
        match next(&mut stop, poll).await {
            None => return,
            Some(Ok(task)) => {
                let span = spans::workflow_task(&shared.namespace, &shared.task_queue, &task);
                if task.query.is_some() {
                    run_query_task(&shared, task).instrument(span).await;
                } else {
                    run_workflow_task(&shared, task).instrument(span).await;
                }
            }
            Some(Err(e)) => {
                if !backoff_after(&e).await {
                    return;
                }
            }
        }
    }
}

/// Answers a query task: from the workflow thread's cached run if it is
/// current, else from a replay of the full history.
async fn run_query_task(shared: &Shared, task: WorkflowTask) {
    let task = Arc::new(task);
    let ask = |history: Option<Vec<Event>>| async {
        let (tx, rx) = oneshot::channel();
        let Some(thread) = &shared.thread else {
            return QueryStep::Answer(Err(thread::query_failure("no workflows registered")));
        };
        let request = Request::Query {
            task: task.clone(),
            history,
            reply: tx,
        };
        if thread.send(request).is_err() {
            return QueryStep::Answer(Err(thread::query_failure("the workflow thread stopped")));
        }
        rx.await.unwrap_or_else(|_| {
            QueryStep::Answer(Err(thread::query_failure("the workflow thread stopped")))
        })
    };
    let mut step = ask(None).await;
    if matches!(step, QueryStep::NeedHistory) {
        step = match shared
            .backend
            .history(
                &shared.namespace,
                &task.workflow_id,
                Some(&task.token.run_id),
            )
            .await
        {
            Ok(history) => ask(Some(history)).await,
            Err(e) => QueryStep::Answer(Err(thread::query_failure(&format!(
                "reading history to answer the query: {e}"
            )))),
        };
    }
    let result = match step {
        QueryStep::Answer(result) => result,
        QueryStep::NeedHistory => Err(thread::query_failure(
            "history did not reach the workflow thread",
        )),
    };
    if let Err(e) = shared
        .backend
        .respond_query(task.token.clone(), result)
        .await
    {
        tracing::warn!(run_id = %task.token.run_id, error = %e, "query answer refused");
    }
}

/// Runs a workflow task to its end: the workflow thread runs the code (on
/// the cached run, or on history read for it), local activities run here
/// until the task's commands are final, and the task is completed or
/// failed.
async fn run_workflow_task(shared: &Shared, task: WorkflowTask) {
    let mut run = TaskRun::new(shared, task);
    let mut step = run.first_step().await;
    loop {
        step = match step {
            TaskStep::NeedHistory => {
                TaskStep::Fail(TaskError::new("history did not reach the workflow thread"))
            }
            TaskStep::RunLocal(requests) => run.run_local(requests).await,
            TaskStep::Complete(commands) => return run.complete(commands).await,
            TaskStep::Fail(error) => {
                telemetry::task_failed(shared, &run.task, &error, run.started);
                return fail_task(shared, run.task.token.clone(), run.run_id, error).await;
            }
        };
    }
}

/// A workflow task in progress on this worker.
struct TaskRun<'a> {
    shared: &'a Shared,
    task: Arc<WorkflowTask>,
    run_id: String,
    /// Local activities run within 4/5 of the task's timeout: past it,
    /// the engine would hand the task out again.
    local_budget: Duration,
    local_deadline: tokio::time::Instant,
    locals: local::Runner<'a>,
    /// Whether the events the task carries are known to be durable.
    durable: bool,
    /// When the worker took the task (its execution latency's start).
    started: std::time::Instant,
}

impl<'a> TaskRun<'a> {
    fn new(shared: &'a Shared, task: WorkflowTask) -> Self {
        let local_budget = task.timeout.mul_f64(0.8);
        let locals = local::Runner::new(shared, &task);
        TaskRun {
            shared,
            run_id: task.token.run_id.clone(),
            task: Arc::new(task),
            local_budget,
            local_deadline: tokio::time::Instant::now() + local_budget,
            locals,
            durable: false,
            started: std::time::Instant::now(),
        }
    }

    async fn read_history(&self) -> Result<Vec<Event>, TaskError> {
        self.shared
            .backend
            .history(
                &self.shared.namespace,
                &self.task.workflow_id,
                Some(&self.run_id),
            )
            .await
            .map_err(|e| TaskError::new(format!("reading history: {e}")))
    }

    /// The task's first step: on the cached run, or (when the thread
    /// does not hold it current) on the run's history. Strict mode reads
    /// the history either way, for its replay from scratch.
    async fn first_step(&mut self) -> TaskStep {
        let strict_history = if self.shared.options.strict_replay {
            match self.read_history().await {
                Ok(history) => Some(history),
                Err(e) => return TaskStep::Fail(e),
            }
        } else {
            None
        };
        let step = self.ask_task(None, strict_history.clone()).await;
        let missed = matches!(step, TaskStep::NeedHistory);
        // A run's first task carries its whole history: no cache to miss.
        if self.task.first_event_id > 1 {
            telemetry::cache_lookup(self.shared, !missed);
        }
        if !missed {
            return step;
        }
        let history = match strict_history.clone() {
            Some(history) => Ok(history),
            None => self.read_history().await,
        };
        match history {
            Ok(history) => self.ask_task(Some(history), strict_history).await,
            Err(e) => TaskStep::Fail(e),
        }
    }

    async fn ask_task(
        &self,
        history: Option<Vec<Event>>,
        strict_history: Option<Vec<Event>>,
    ) -> TaskStep {
        self.shared
            .ask(|reply| Request::Task {
                task: self.task.clone(),
                history,
                strict_history,
                reply,
            })
            .await
    }

    /// Starts local activities, waits for the next to finish and hands its
    /// result to the workflow thread.
    async fn run_local(&mut self, requests: Vec<ScheduleActivity>) -> TaskStep {
        if let Err(e) = self.wait_durable().await {
            return TaskStep::Fail(e);
        }
        for request in requests {
            self.locals.start(request);
        }
        let next = tokio::time::timeout_at(self.local_deadline, self.locals.next()).await;
        let done = match next {
            Ok(Some(done)) => done,
            Ok(None) => return TaskStep::Fail(TaskError::new("local activities vanished")),
            Err(_) => {
                let error = TaskError::new(format!(
                    "local activities ({}) did not finish within {:?}, 4/5 of the workflow \
                     task timeout; a local activity must be short (retries included): \
                     use an activity for longer work",
                    self.locals.running_types().join(", "),
                    self.local_budget
                ));
                self.locals.abort();
                return TaskStep::Fail(error);
            }
        };
        self.shared
            .ask(|reply| Request::ResolveLocal {
                run_id: self.run_id.clone(),
                task_id: self.task.token.task_id,
                seq: done.seq,
                activity_type: done.activity_type,
                attempt: done.attempt,
                result: done.result,
                reply,
            })
            .await
    }

    /// The task may have been handed out before the events it carries were
    /// committed; a local activity acts on the outside, so the first one
    /// waits until they are, within the local activities' budget.
    async fn wait_durable(&mut self) -> Result<(), TaskError> {
        if self.durable {
            return Ok(());
        }
        let waited =
            tokio::time::timeout_at(self.local_deadline, self.shared.backend.wait_durable()).await;
        match waited {
            Ok(Ok(())) => {
                self.durable = true;
                Ok(())
            }
            Ok(Err(e)) => Err(TaskError::new(format!(
                "waiting for the task's events to be durable: {e}"
            ))),
            Err(_) => Err(TaskError::new(format!(
                "the task's events were not durable within {:?}, 4/5 of the workflow task \
                 timeout; its local activities did not start",
                self.local_budget
            ))),
        }
    }

    async fn complete(self, commands: Vec<Command>) {
        let closed = telemetry::closed(&commands);
        let completion = WorkflowTaskCompletion {
            token: self.task.token.clone(),
            commands,
            sdk_flags: Vec::new(),
            identity: self.shared.options.identity.clone(),
        };
        let result = self.shared.backend.complete_workflow_task(completion).await;
        if let Err(e) = &result {
            tracing::warn!(run_id = self.run_id, error = %e, "workflow task completion refused");
        }
        telemetry::task_completed(
            self.shared,
            &self.task,
            closed,
            result.is_ok(),
            self.started,
        );
        ack(
            self.shared,
            self.run_id,
            self.task.token.task_id,
            result.is_ok(),
        );
    }
}

async fn fail_task(shared: &Shared, token: TaskToken, run_id: String, error: TaskError) {
    tracing::warn!(run_id, error = %error.message, "workflow task failed");
    let task_id = token.task_id;
    let failure = thread::task_failure(&error);
    if let Err(e) = shared
        .backend
        .fail_workflow_task(token, failure, error.nondeterminism)
        .await
    {
        tracing::warn!(run_id, error = %e, "could not fail the workflow task");
    }
    ack(shared, run_id, task_id, false);
}

fn ack(shared: &Shared, run_id: String, task_id: i64, accepted: bool) {
    if let Some(thread) = &shared.thread {
        let _ = thread.send(Request::Ack {
            run_id,
            task_id,
            accepted,
        });
    }
}
