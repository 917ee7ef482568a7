//! What waits for a commit and what does not: a workflow task is handed out
//! before the events it carries are durable, so a worker waits for them
//! before a local activity acts on the outside.

mod support;

use std::sync::Mutex;
use std::time::Duration;

use futures::future::BoxFuture;
use weft::backend::{
    ActivityTask, ActivityTaskResult, Backend, BackendError, CancelRequest, Description,
    HeartbeatResponse, QueryRequest, RunOutcome, SignalRequest, StartWorkflowRequest,
    StartWorkflowResponse, TaskToken, TerminateRequest, UpdateRequest, UpdateWithStartResponse,
    WorkflowTask, WorkflowTaskCompletion,
};
use weft::converter::Payload;
use weft::engine::Engine;
use weft::failure::Failure;
use weft::history::Event;
use weft::{Client, Worker, WorkflowContext, WorkflowOptions, WorkflowResult};

/// What happened, in order, across the worker and its local activity.
static LOG: Mutex<Vec<&'static str>> = Mutex::new(Vec::new());

fn log(what: &'static str) {
    if let Ok(mut log) = LOG.lock() {
        log.push(what);
    }
}

activity!(shout, String, |s| {
    log("local activity");
    Ok(s.to_uppercase())
});

async fn shouting(ctx: WorkflowContext<Shouting>, s: String) -> WorkflowResult<String> {
    let a = ctx
        .local_activity(shout, s)
        .start_to_close_timeout(Duration::from_secs(5))
        .await?;
    let b = ctx
        .local_activity(shout, a)
        .start_to_close_timeout(Duration::from_secs(5))
        .await?;
    Ok(b)
}
workflow!(Shouting, String, String, shouting);

/// The engine, with `wait_durable` logged when it returns.
struct Logged(Engine);

impl Backend for Logged {
    fn start_workflow(
        &self,
        request: StartWorkflowRequest,
    ) -> BoxFuture<'_, Result<StartWorkflowResponse, BackendError>> {
        self.0.start_workflow(request)
    }
    fn signal_workflow(&self, request: SignalRequest) -> BoxFuture<'_, Result<(), BackendError>> {
        self.0.signal_workflow(request)
    }
    fn signal_with_start(
        &self,
        start: StartWorkflowRequest,
        signal_name: String,
        input: Vec<Payload>,
    ) -> BoxFuture<'_, Result<StartWorkflowResponse, BackendError>> {
        self.0.signal_with_start(start, signal_name, input)
    }
    fn request_cancel_workflow(
        &self,
        request: CancelRequest,
    ) -> BoxFuture<'_, Result<(), BackendError>> {
        self.0.request_cancel_workflow(request)
    }
    fn terminate_workflow(
        &self,
        request: TerminateRequest,
    ) -> BoxFuture<'_, Result<(), BackendError>> {
        self.0.terminate_workflow(request)
    }
    fn record_activity_heartbeat(
        &self,
        token: TaskToken,
        details: Vec<Payload>,
    ) -> BoxFuture<'_, Result<HeartbeatResponse, BackendError>> {
        self.0.record_activity_heartbeat(token, details)
    }
    fn query_workflow(
        &self,
        request: QueryRequest,
    ) -> BoxFuture<'_, Result<Payload, BackendError>> {
        self.0.query_workflow(request)
    }
    fn respond_query(
        &self,
        token: TaskToken,
        result: Result<Payload, Failure>,
    ) -> BoxFuture<'_, Result<(), BackendError>> {
        self.0.respond_query(token, result)
    }
    fn update_workflow(
        &self,
        request: UpdateRequest,
    ) -> BoxFuture<'_, Result<Payload, BackendError>> {
        self.0.update_workflow(request)
    }
    fn update_with_start(
        &self,
        start: StartWorkflowRequest,
        update: UpdateRequest,
    ) -> BoxFuture<'_, Result<UpdateWithStartResponse, BackendError>> {
        self.0.update_with_start(start, update)
    }
    fn poll_workflow_task<'a>(
        &'a self,
        namespace: &'a str,
        task_queue: &'a str,
    ) -> BoxFuture<'a, Result<Option<WorkflowTask>, BackendError>> {
        self.0.poll_workflow_task(namespace, task_queue)
    }
    fn complete_workflow_task(
        &self,
        completion: WorkflowTaskCompletion,
    ) -> BoxFuture<'_, Result<(), BackendError>> {
        self.0.complete_workflow_task(completion)
    }
    fn fail_workflow_task(
        &self,
        token: TaskToken,
        failure: Failure,
        nondeterminism: bool,
    ) -> BoxFuture<'_, Result<(), BackendError>> {
        self.0.fail_workflow_task(token, failure, nondeterminism)
    }
    fn poll_activity_task<'a>(
        &'a self,
        namespace: &'a str,
        task_queue: &'a str,
    ) -> BoxFuture<'a, Result<Option<ActivityTask>, BackendError>> {
        self.0.poll_activity_task(namespace, task_queue)
    }
    fn complete_activity_task(
        &self,
        token: TaskToken,
        result: ActivityTaskResult,
    ) -> BoxFuture<'_, Result<(), BackendError>> {
        self.0.complete_activity_task(token, result)
    }
    fn describe<'a>(
        &'a self,
        namespace: &'a str,
        workflow_id: &'a str,
        run_id: Option<&'a str>,
    ) -> BoxFuture<'a, Result<Description, BackendError>> {
        self.0.describe(namespace, workflow_id, run_id)
    }
    fn history<'a>(
        &'a self,
        namespace: &'a str,
        workflow_id: &'a str,
        run_id: Option<&'a str>,
    ) -> BoxFuture<'a, Result<Vec<Event>, BackendError>> {
        self.0.history(namespace, workflow_id, run_id)
    }
    fn wait_durable(&self) -> BoxFuture<'_, Result<(), BackendError>> {
        Box::pin(async move {
            let result = self.0.wait_durable().await;
            log("durable");
            result
        })
    }
    fn wait_result<'a>(
        &'a self,
        namespace: &'a str,
        workflow_id: &'a str,
        run_id: Option<&'a str>,
    ) -> BoxFuture<'a, Result<RunOutcome, BackendError>> {
        self.0.wait_result(namespace, workflow_id, run_id)
    }
}

/// A workflow task's first local activity starts only after the worker has
/// waited for the task's events to be durable; later ones in the same task
/// do not wait again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn local_activities_wait_until_their_task_is_durable() {
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::sqlite(dir.path().join("weft.db")).await.unwrap();
    let client = Client::new(Logged(engine.clone()));
    let mut worker = Worker::new(&client, "q");
    worker
        .register_workflow::<Shouting>()
        .register_activity(shout);
    let worker = worker.start().unwrap();
    let out = client
        .execute_workflow(shouting, "hey".to_string(), WorkflowOptions::new("wf", "q"))
        .await
        .unwrap();
    assert_eq!(out, "HEY");
    let log = LOG.lock().unwrap().clone();
    assert_eq!(log, ["durable", "local activity", "local activity"]);
    worker.shutdown().await;
    engine.shutdown().await;
}
