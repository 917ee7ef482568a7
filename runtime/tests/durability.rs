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
use weft::engine::{Engine, EngineOptions, SqliteStore};
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

/// The engine, with `wait_durable` logged when it returns (or never
/// returning, with `stall`), and workflow task failures reported.
struct Logged {
    engine: Engine,
    stall: bool,
    failures: tokio::sync::mpsc::UnboundedSender<String>,
}

impl Backend for Logged {
    fn start_workflow(
        &self,
        request: StartWorkflowRequest,
    ) -> BoxFuture<'_, Result<StartWorkflowResponse, BackendError>> {
        self.engine.start_workflow(request)
    }
    fn signal_workflow(&self, request: SignalRequest) -> BoxFuture<'_, Result<(), BackendError>> {
        self.engine.signal_workflow(request)
    }
    fn signal_with_start(
        &self,
        start: StartWorkflowRequest,
        signal_name: String,
        input: Vec<Payload>,
    ) -> BoxFuture<'_, Result<StartWorkflowResponse, BackendError>> {
        self.engine.signal_with_start(start, signal_name, input)
    }
    fn request_cancel_workflow(
        &self,
        request: CancelRequest,
    ) -> BoxFuture<'_, Result<(), BackendError>> {
        self.engine.request_cancel_workflow(request)
    }
    fn terminate_workflow(
        &self,
        request: TerminateRequest,
    ) -> BoxFuture<'_, Result<(), BackendError>> {
        self.engine.terminate_workflow(request)
    }
    fn record_activity_heartbeat(
        &self,
        token: TaskToken,
        details: Vec<Payload>,
    ) -> BoxFuture<'_, Result<HeartbeatResponse, BackendError>> {
        self.engine.record_activity_heartbeat(token, details)
    }
    fn query_workflow(
        &self,
        request: QueryRequest,
    ) -> BoxFuture<'_, Result<Payload, BackendError>> {
        self.engine.query_workflow(request)
    }
    fn respond_query(
        &self,
        token: TaskToken,
        result: Result<Payload, Failure>,
    ) -> BoxFuture<'_, Result<(), BackendError>> {
        self.engine.respond_query(token, result)
    }
    fn update_workflow(
        &self,
        request: UpdateRequest,
    ) -> BoxFuture<'_, Result<Payload, BackendError>> {
        self.engine.update_workflow(request)
    }
    fn update_with_start(
        &self,
        start: StartWorkflowRequest,
        update: UpdateRequest,
    ) -> BoxFuture<'_, Result<UpdateWithStartResponse, BackendError>> {
        self.engine.update_with_start(start, update)
    }
    fn poll_workflow_task<'a>(
        &'a self,
        namespace: &'a str,
        task_queue: &'a str,
    ) -> BoxFuture<'a, Result<Option<WorkflowTask>, BackendError>> {
        self.engine.poll_workflow_task(namespace, task_queue)
    }
    fn complete_workflow_task(
        &self,
        completion: WorkflowTaskCompletion,
    ) -> BoxFuture<'_, Result<(), BackendError>> {
        self.engine.complete_workflow_task(completion)
    }
    fn fail_workflow_task(
        &self,
        token: TaskToken,
        failure: Failure,
        nondeterminism: bool,
    ) -> BoxFuture<'_, Result<(), BackendError>> {
        let _ = self.failures.send(failure.to_string());
        self.engine
            .fail_workflow_task(token, failure, nondeterminism)
    }
    fn poll_activity_task<'a>(
        &'a self,
        namespace: &'a str,
        task_queue: &'a str,
    ) -> BoxFuture<'a, Result<Option<ActivityTask>, BackendError>> {
        self.engine.poll_activity_task(namespace, task_queue)
    }
    fn complete_activity_task(
        &self,
        token: TaskToken,
        result: ActivityTaskResult,
    ) -> BoxFuture<'_, Result<(), BackendError>> {
        self.engine.complete_activity_task(token, result)
    }
    fn describe<'a>(
        &'a self,
        namespace: &'a str,
        workflow_id: &'a str,
        run_id: Option<&'a str>,
    ) -> BoxFuture<'a, Result<Description, BackendError>> {
        self.engine.describe(namespace, workflow_id, run_id)
    }
    fn history<'a>(
        &'a self,
        namespace: &'a str,
        workflow_id: &'a str,
        run_id: Option<&'a str>,
    ) -> BoxFuture<'a, Result<Vec<Event>, BackendError>> {
        self.engine.history(namespace, workflow_id, run_id)
    }
    fn wait_durable(&self) -> BoxFuture<'_, Result<(), BackendError>> {
        Box::pin(async move {
            if self.stall {
                return futures::future::pending().await;
            }
            let result = self.engine.wait_durable().await;
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
        self.engine.wait_result(namespace, workflow_id, run_id)
    }
}

/// Serializes the tests, which share `LOG`.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

fn setup(
    engine: &Engine,
    stall: bool,
) -> (
    Client,
    weft::worker::WorkerHandle,
    tokio::sync::mpsc::UnboundedReceiver<String>,
) {
    let (failures, failed) = tokio::sync::mpsc::unbounded_channel();
    let client = Client::new(Logged {
        engine: engine.clone(),
        stall,
        failures,
    });
    let worker = Worker::new(&client, "q")
        .register_workflow::<Shouting>()
        .register_activity(shout);
    (client, worker.start().unwrap(), failed)
}

/// A workflow task's first local activity starts only after the worker has
/// waited for the task's events to be durable; later ones in the same task
/// do not wait again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn local_activities_wait_until_their_task_is_durable() {
    let _serial = SERIAL.lock().await;
    LOG.lock().unwrap().clear();
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::sqlite(dir.path().join("weft.db")).await.unwrap();
    let (client, worker, _failed) = setup(&engine, false);
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

/// If the task's events are not durable within the local activities'
/// budget (4/5 of the workflow task timeout), the task fails with a message
/// that says so, and no local activity runs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_task_not_durable_in_time_fails_without_running_local_activities() {
    let _serial = SERIAL.lock().await;
    LOG.lock().unwrap().clear();
    let dir = tempfile::tempdir().unwrap();
    let options = EngineOptions {
        workflow_task_timeout: Duration::from_millis(250),
        ..EngineOptions::default()
    };
    let store = SqliteStore::open(dir.path().join("weft.db")).unwrap();
    let engine = Engine::start(store, options).unwrap();
    let (client, worker, mut failed) = setup(&engine, true);
    client
        .start_workflow(shouting, "hey".to_string(), WorkflowOptions::new("wf", "q"))
        .await
        .unwrap();
    let failure = failed.recv().await.expect("a workflow task failure");
    assert!(failure.contains("not durable within 200ms"), "{failure}");
    assert!(LOG.lock().unwrap().is_empty(), "{:?}", LOG.lock().unwrap());
    worker.shutdown().await;
    engine.shutdown().await;
}

/// A backend that implements only the required calls (here, one that
/// wraps the engine) answers every schedule call with `Unsupported`, so
/// backends without schedules compile and say so.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backend_without_schedules_says_so() {
    let engine = Engine::memory().await.unwrap();
    let (failures, _failed) = tokio::sync::mpsc::unbounded_channel();
    let client = Client::new(Logged {
        engine: engine.clone(),
        stall: false,
        failures,
    });
    let e = client.list_schedules().await.unwrap_err();
    assert_eq!(
        e.to_string(),
        "not supported by this backend: schedules (list)"
    );
    let e = client.schedule_handle("s").trigger().await.unwrap_err();
    assert!(matches!(
        e,
        weft::ClientError::Backend(BackendError::Unsupported(_))
    ));
    engine.shutdown().await;
}
