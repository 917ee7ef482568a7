//! Driving the embedded engine through the `Backend` trait alone (no
//! worker): an engine on either store, hand-built commands, polls with a
//! bound.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use weft::backend::{
    ActivityTask, Backend, BackendError, IdConflictPolicy, IdReusePolicy, SignalRequest,
    StartWorkflowRequest, WorkflowTask, WorkflowTaskCompletion,
};
use weft::converter::encode;
use weft::engine::store::{InterceptCommits, StoreOp};
use weft::engine::{Engine, EngineOptions, MemoryStore, SqliteStore, Store};
use weft::failure::{ApplicationError, Failure};
use weft::history::Event;
use weft::protocol::{ActivityOptions, Command, ScheduleActivity};
use weft::retry::RetryPolicy;

pub const NS: &str = "default";
pub const TQ: &str = "tq";
pub const WAIT: Duration = Duration::from_secs(10);

pub struct Harness {
    pub engine: Engine,
    pub dir: tempfile::TempDir,
}

impl Harness {
    /// An engine on a fresh SQLite file (`sqlite`), or in memory.
    pub fn new(sqlite: bool, options: EngineOptions) -> Harness {
        let dir = tempfile::tempdir().unwrap();
        let engine = if sqlite {
            let store = SqliteStore::open(dir.path().join("weft.db")).unwrap();
            Engine::start(store, options).unwrap()
        } else {
            Engine::start(MemoryStore::new(), options).unwrap()
        };
        Harness { engine, dir }
    }

    pub fn db(&self) -> std::path::PathBuf {
        self.dir.path().join("weft.db")
    }
}

pub fn request(workflow_id: &str, request_id: &str) -> StartWorkflowRequest {
    StartWorkflowRequest {
        namespace: NS.into(),
        workflow_id: workflow_id.into(),
        workflow_type: "Greet".into(),
        task_queue: TQ.into(),
        input: vec![encode(&"world").unwrap()],
        request_id: request_id.into(),
        id_reuse_policy: IdReusePolicy::AllowDuplicate,
        id_conflict_policy: IdConflictPolicy::Fail,
        run_options: Default::default(),
    }
}

pub async fn start(engine: &Engine, workflow_id: &str) -> String {
    let r = engine
        .start_workflow(request(workflow_id, &format!("req-{workflow_id}")))
        .await
        .unwrap();
    assert!(r.started);
    r.run_id
}

pub async fn poll_wft_on(engine: &Engine, queue: &str) -> WorkflowTask {
    tokio::time::timeout(WAIT, engine.poll_workflow_task(NS, queue))
        .await
        .expect("a workflow task in time")
        .unwrap()
        .expect("a task, not shutdown")
}

pub async fn poll_wft(engine: &Engine) -> WorkflowTask {
    poll_wft_on(engine, TQ).await
}

pub async fn poll_act(engine: &Engine) -> ActivityTask {
    tokio::time::timeout(WAIT, engine.poll_activity_task(NS, TQ))
        .await
        .expect("an activity task in time")
        .unwrap()
        .expect("a task, not shutdown")
}

pub async fn complete(
    engine: &Engine,
    task: &WorkflowTask,
    commands: Vec<Command>,
) -> Result<(), BackendError> {
    engine
        .complete_workflow_task(WorkflowTaskCompletion {
            token: task.token.clone(),
            commands,
            sdk_flags: vec![1],
            identity: "test-worker".into(),
        })
        .await
}

/// Activity `seq` of type "Charge" on the test queue: 30 s start-to-close,
/// retried by `policy`.
pub fn schedule_activity(seq: u32, policy: RetryPolicy) -> ScheduleActivity {
    ScheduleActivity {
        seq,
        activity_id: seq.to_string(),
        activity_type: "Charge".into(),
        task_queue: TQ.into(),
        input: vec![encode(&seq).unwrap()],
        options: ActivityOptions {
            start_to_close_timeout: Some(Duration::from_secs(30)),
            schedule_to_close_timeout: None,
            schedule_to_start_timeout: None,
            heartbeat_timeout: None,
            retry_policy: Some(policy),
            cancellation_type: Default::default(),
        },
    }
}

/// The command scheduling [`schedule_activity`]'s activity.
pub fn activity(seq: u32, policy: RetryPolicy) -> Command {
    Command::ScheduleActivity(schedule_activity(seq, policy))
}

pub fn quick_retries() -> RetryPolicy {
    RetryPolicy::default().with_initial_interval(Duration::from_millis(10))
}

pub fn done(value: &str) -> Command {
    Command::CompleteWorkflow {
        result: encode(&value).unwrap(),
    }
}

pub fn app_failure(message: &str) -> Failure {
    ApplicationError::new(message).with_type("Boom").into()
}

/// A signal (`add`, no input) to `workflow_id`'s latest run.
pub fn signal(workflow_id: &str, request_id: &str) -> SignalRequest {
    SignalRequest {
        namespace: NS.into(),
        workflow_id: workflow_id.into(),
        run_id: None,
        signal_name: "add".into(),
        input: Vec::new(),
        request_id: request_id.into(),
    }
}

pub fn names(events: &[Event]) -> Vec<&'static str> {
    events.iter().map(|e| e.attributes.name()).collect()
}

pub async fn history(engine: &Engine, workflow_id: &str) -> Vec<Event> {
    engine.history(NS, workflow_id, None).await.unwrap()
}

pub fn ms(t: SystemTime) -> u128 {
    t.duration_since(UNIX_EPOCH).unwrap().as_millis()
}

/// The memory store, with a hook that sees each batch before it commits
/// and can hold it or refuse it (an `Err` is the commit's failure, with
/// nothing written).
pub type Hooked = InterceptCommits<MemoryStore, Hook>;

pub type Hook = Box<dyn FnMut(&mut MemoryStore, &[StoreOp]) -> Result<(), BackendError> + Send>;

pub fn hooked(
    mut hook: impl FnMut(&[StoreOp]) -> Result<(), BackendError> + Send + 'static,
) -> Hooked {
    InterceptCommits::new(
        MemoryStore::new(),
        Box::new(move |inner: &mut MemoryStore, ops: &[StoreOp]| {
            hook(ops)?;
            inner.commit(ops)
        }),
    )
}
