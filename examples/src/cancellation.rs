//! Cancellation: a workflow waits on an activity that never completes; the
//! client cancels the workflow. The activity learns of it through its
//! heartbeats and stops; the workflow's cleanup (the reference's `finally`)
//! is ordinary code after the cancellation error, and runs an activity with
//! no extra ceremony; the run ends canceled.

use std::future::Future;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, OnceLock};

use tokio::sync::{Notify, watch};
use weft::history::EventAttributes;
use weft::prelude::*;

use crate::support::{ExampleError, options};

/// Task queue of this example.
pub const TASK_QUEUE: &str = "cancellation";
/// The example's workflow id (also its request id).
pub const WORKFLOW_ID: &str = "cancellation";
/// The pause between two heartbeats of the never-completing activity (the
/// reference's is a second; a short one keeps the tour quick).
pub const BEAT_EVERY: Duration = Duration::from_millis(100);

/// What the activities share: counters the tests read, and the moments
/// they wait for.
#[derive(Debug)]
pub struct Steps {
    /// Heartbeats sent by `never_complete_activity`, across attempts.
    beats: watch::Sender<u32>,
    /// Runs of the cleanup activity.
    cleanups: AtomicU32,
    /// Notified when `never_complete_activity` stops on its cancellation.
    stopped: Notify,
    stops: AtomicU32,
    /// When set, the cleanup activity waits for it (tests use it to send a
    /// second cancel request while the cleanup runs).
    cleanup_gate: Option<Arc<Notify>>,
    cleanup_started: Notify,
}

impl Steps {
    /// Activities that run freely.
    pub fn new() -> Self {
        Steps {
            beats: watch::Sender::new(0),
            cleanups: AtomicU32::new(0),
            stopped: Notify::new(),
            stops: AtomicU32::new(0),
            cleanup_gate: None,
            cleanup_started: Notify::new(),
        }
    }

    /// Activities whose cleanup waits for `gate`.
    pub fn with_cleanup_gate(gate: Arc<Notify>) -> Self {
        Steps {
            cleanup_gate: Some(gate),
            ..Steps::new()
        }
    }

    /// Runs of the cleanup activity so far.
    pub fn cleanups(&self) -> u32 {
        self.cleanups.load(Ordering::SeqCst)
    }

    /// Times `never_complete_activity` stopped on a cancellation.
    pub fn stops(&self) -> u32 {
        self.stops.load(Ordering::SeqCst)
    }

    /// Resolves at the next heartbeat of `never_complete_activity` after
    /// this call.
    pub fn next_heartbeat(&self) -> impl Future<Output = ()> + Send + 'static {
        let mut beats = self.beats.subscribe();
        let now = *beats.borrow_and_update();
        async move {
            // An error only if the sender is gone: nothing more will come.
            let _ = beats.wait_for(|b| *b > now).await;
        }
    }

    /// Resolves once the cleanup activity has started.
    pub async fn cleanup_started(&self) {
        self.cleanup_started.notified().await;
    }

    /// Resolves once `never_complete_activity` has stopped on a cancellation.
    pub async fn stopped(&self) {
        self.stopped.notified().await;
    }
}

impl Default for Steps {
    fn default() -> Self {
        Steps::new()
    }
}

// ANCHOR: activities
#[activity]
impl Steps {
    /// Heartbeats until its cancellation reaches it through a heartbeat's
    /// answer, then stops with the cancellation error.
    pub async fn never_complete_activity(&self, ctx: ActivityContext) -> Result<(), Failure> {
        loop {
            println!("Heartbeating activity");
            if let Err(cancelled) = ctx.heartbeat(&()) {
                println!("Activity cancelled");
                self.stops.fetch_add(1, Ordering::SeqCst);
                self.stopped.notify_one();
                return Err(cancelled);
            }
            self.beats.send_modify(|b| *b += 1);
            tokio::select! {
                () = tokio::time::sleep(BEAT_EVERY) => {}
                // Awake at once when a heartbeat's answer brings the news.
                () = ctx.cancelled() => {}
            }
        }
    }

    /// The cleanup.
    pub async fn cleanup_activity(&self) -> Result<String, ApplicationError> {
        self.cleanup_started.notify_one();
        if let Some(gate) = &self.cleanup_gate {
            gate.notified().await;
        }
        println!("Executing cleanup activity");
        self.cleanups.fetch_add(1, Ordering::SeqCst);
        Ok("Executing cleanup activity".into())
    }
}
// ANCHOR_END: activities

/// Waits on an activity that never completes; cleans up however that ends.
#[workflow]
#[derive(Default)]
pub struct CancellationWorkflow;

// ANCHOR: workflow
#[workflow]
impl CancellationWorkflow {
    #[run]
    pub async fn run(ctx: WorkflowContext<Self>, _: ()) -> WorkflowResult<()> {
        let outcome = ctx
            .activity(Steps::NEVER_COMPLETE_ACTIVITY, ())
            .start_to_close_timeout(Duration::from_secs(1000))
            // Cancellation reaches the activity through its heartbeats
            // (the reference's timeout is 2 s; heartbeats go out at most
            // every 0.8 x this).
            .heartbeat_timeout(Duration::from_millis(500))
            .await;
        // The reference's `finally`: this runs however the activity ended.
        // It is created after the cancellation, so it is not cancelled.
        ctx.activity(Steps::CLEANUP_ACTIVITY, ())
            .start_to_close_timeout(Duration::from_secs(5))
            .await?;
        // The cancellation error, returned after the request: the run ends
        // canceled.
        outcome?;
        Ok(())
    }
}
// ANCHOR_END: workflow

/// A worker for this example whose activities share `steps`.
pub fn worker_with(client: &Client, steps: Arc<Steps>) -> Worker {
    Worker::new(client, TASK_QUEUE)
        .register_workflow::<CancellationWorkflow>()
        .register_activities(steps)
}

/// The activities' shared state of this process (the tour's worker and
/// run use the same one).
fn shared_steps() -> Arc<Steps> {
    static STEPS: OnceLock<Arc<Steps>> = OnceLock::new();
    STEPS.get_or_init(|| Arc::new(Steps::new())).clone()
}

/// A worker for this example.
pub fn worker(client: &Client) -> Worker {
    worker_with(client, shared_steps())
}

/// Starts the workflow, cancels it once its activity is running, and
/// prints what history says: the cleanup ran, and the run ended canceled.
pub async fn run(client: &Client) -> Result<Vec<String>, ExampleError> {
    run_with(client, &shared_steps()).await
}

/// [`run()`], for a worker whose activities share `steps`.
pub async fn run_with(client: &Client, steps: &Steps) -> Result<Vec<String>, ExampleError> {
    let heartbeat = steps.next_heartbeat();
    // ANCHOR: client
    let handle = client
        .start_workflow(
            CancellationWorkflow::run,
            (),
            options(WORKFLOW_ID, TASK_QUEUE),
        )
        .await?;
    // Cancel once the activity is running and heartbeating (unless the run
    // ended first: a rerun on the same database finds it closed).
    let running = tokio::select! {
        () = heartbeat => true,
        _ = handle.result() => false,
    };
    if running {
        handle.cancel().await?;
        // The workflow does not wait for the activity to notice (the
        // default cancellation type, try-cancel); this example does, so
        // that its output comes in order.
        steps.stopped().await;
    }
    let outcome = handle.result().await;
    // ANCHOR_END: client
    let mut lines = Vec::new();
    for event in handle.history().await? {
        if let EventAttributes::ActivityTaskCompleted { result, .. } = &event.attributes {
            lines.push(format!(
                "cleanup: {}",
                weft::converter::decode::<String>(result).map_err(weft::ClientError::from)?
            ));
        }
    }
    let status = handle.describe().await?.status;
    lines.push(match outcome {
        Ok(()) => format!("status: {status:?}"),
        Err(weft::ClientError::Workflow(e)) => format!("status: {status:?} ({})", e.cause),
        Err(e) => return Err(e.into()),
    });
    Ok(lines)
}
