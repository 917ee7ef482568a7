//! Defects found by adversarial runs (bad inputs, oversized results,
//! panicking validators, requests to closed runs), each pinned by a test
//! named after what broke. Defects of the SQLite file itself are in
//! `store_files.rs`.

mod support;

use support::{env, names, task_failure, within};

use std::time::Duration;

use serde::{Deserialize, Serialize};
use weft::backend::{BackendError, RunStatus};
use weft::failure::{RetryState, WorkflowFailureError};
use weft::history::EventAttributes;
use weft::prelude::*;
use weft::{ClientError, WorkflowHandle};

const QUEUE: &str = "defects";

fn start_worker(
    client: &Client,
    build: impl FnOnce(Worker) -> Worker,
) -> weft::worker::WorkerHandle {
    build(Worker::new(client, QUEUE)).start().unwrap()
}

/// The failure a run ended with, as the client prints it (the whole chain).
async fn run_failure<W: weft::Workflow>(h: &WorkflowHandle<W>) -> (WorkflowFailureError, String)
where
    W::Output: std::fmt::Debug,
{
    match within(h.result()).await {
        Err(ClientError::Workflow(e)) => {
            let text = format!("{e:#}");
            (e, text)
        }
        other => panic!("expected the run to fail, got {other:?}"),
    }
}

// ---------------------------------------------------------------------
// Requests to a closed run name what was asked.

#[workflow]
#[derive(Default)]
struct Echo;

#[workflow]
impl Echo {
    #[run]
    async fn run(_ctx: WorkflowContext<Self>, x: u32) -> WorkflowResult<u32> {
        Ok(x)
    }
}

both_stores! {
    // Cancel and terminate of a closed run said it "takes no more signals";
    // all three said "not found" of a run that exists.
    cancel_and_terminate_of_a_closed_run_say_what_was_refused(sqlite) {
        let env = env(sqlite).await;
        let w = start_worker(&env.client, |w| w.register_workflow::<Echo>());
        let h = env
            .client
            .start_workflow(Echo::run, 7, WorkflowOptions::new("closed", QUEUE))
            .await
            .unwrap();
        assert_eq!(within(h.result()).await.unwrap(), 7);
        let cancel = h.cancel().await.unwrap_err().to_string();
        assert!(cancel.contains("is closed and cannot be cancelled"), "{cancel}");
        assert!(!cancel.contains("signal"), "{cancel}");
        let terminate = h.terminate("too late").await.unwrap_err().to_string();
        assert!(terminate.contains("is closed and cannot be terminated"), "{terminate}");
        assert!(!terminate.contains("signal"), "{terminate}");
        let signal = h.signal("poke", &()).await.unwrap_err().to_string();
        assert!(signal.contains("is closed and takes no more signals"), "{signal}");
        // A run that exists is not "not found", whatever it refuses.
        for refusal in [&cancel, &terminate, &signal] {
            assert!(!refusal.contains("not found"), "{refusal}");
        }
        w.shutdown().await;
    }
}

// ---------------------------------------------------------------------
// A panicking update validator.

#[workflow]
#[derive(Default)]
struct Guarded {
    total: i64,
    done: bool,
}

#[workflow]
impl Guarded {
    #[run]
    async fn run(ctx: WorkflowContext<Self>, _input: ()) -> WorkflowResult<i64> {
        ctx.wait_condition(|s| s.done).await?;
        Ok(ctx.state(|s| s.total))
    }

    #[update]
    fn add(&mut self, n: i64) -> Result<i64, ApplicationError> {
        self.total += n;
        Ok(self.total)
    }

    #[validator(add)]
    fn check_add(&self, n: &i64) -> Result<(), ApplicationError> {
        if *n == 13 {
            panic!("the validator cannot stand {n}");
        }
        Ok(())
    }

    #[signal]
    fn finish(&mut self) {
        self.done = true;
    }
}

both_stores! {
    // A validator's panic left its caller without an answer and blocked
    // every later update of the run.
    a_panicking_validator_rejects_its_update_and_the_run_goes_on(sqlite) {
        let env = env(sqlite).await;
        let w = start_worker(&env.client, |w| w.register_workflow::<Guarded>());
        let h = env
            .client
            .start_workflow(Guarded::run, (), WorkflowOptions::new("guarded", QUEUE))
            .await
            .unwrap();
        assert_eq!(within(h.update::<i64>("add", &2)).await.unwrap(), 2);
        let before = h.history().await.unwrap();
        match within(h.update::<i64>("add", &13)).await {
            Err(ClientError::Update(f)) => {
                let text = format!("{f:#}");
                assert!(text.contains("panicked"), "{text}");
                assert!(text.contains("the validator cannot stand 13"), "{text}");
            }
            other => panic!("expected a rejection, got {other:?}"),
        }
        // Rejected like any validator error: nothing in history, state as it was.
        assert_eq!(h.history().await.unwrap(), before);
        assert_eq!(within(h.update::<i64>("add", &3)).await.unwrap(), 5);
        h.signal("finish", &()).await.unwrap();
        assert_eq!(within(h.result()).await.unwrap(), 5);
        w.shutdown().await;
    }
}

// ---------------------------------------------------------------------
// NaN and infinities.

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
struct Reading {
    sensor: String,
    values: Vec<f64>,
}

#[activity]
async fn halve(x: f64) -> Result<f64, ApplicationError> {
    Ok(x / 2.0)
}

#[activity]
async fn ratio(parts: (f64, f64)) -> Result<f64, ApplicationError> {
    Ok(parts.0 / parts.1)
}

#[workflow]
#[derive(Default)]
struct Average;

#[workflow]
impl Average {
    #[run]
    async fn run(_ctx: WorkflowContext<Self>, r: Reading) -> WorkflowResult<f64> {
        Ok(r.values.iter().sum::<f64>() / r.values.len() as f64)
    }
}

/// Halves ten times its input: an infinity for a large enough input.
#[workflow]
#[derive(Default)]
struct Scaling;

#[workflow]
impl Scaling {
    #[run]
    async fn run(ctx: WorkflowContext<Self>, x: f64) -> WorkflowResult<f64> {
        Ok(ctx
            .activity(HALVE, x * 10.0)
            .start_to_close_timeout(Duration::from_secs(60))
            .await?)
    }
}

#[workflow]
#[derive(Default)]
struct Dividing;

#[workflow]
impl Dividing {
    #[run]
    async fn run(ctx: WorkflowContext<Self>, parts: (f64, f64)) -> WorkflowResult<f64> {
        Ok(ctx
            .activity(RATIO, parts)
            .start_to_close_timeout(Duration::from_secs(60))
            .await?)
    }
}

#[test]
fn nan_and_infinities_are_refused_at_encoding_with_where_they_are() {
    let err = weft::converter::encode(&f64::NAN).unwrap_err().to_string();
    assert!(err.contains("NaN"), "{err}");
    let reading = Reading {
        sensor: "t1".into(),
        values: vec![1.0, f64::NEG_INFINITY],
    };
    let err = weft::converter::encode(&reading).unwrap_err().to_string();
    assert!(err.contains("-inf") && err.contains(".values[1]"), "{err}");
    let err = weft::converter::encode(&Some(f32::INFINITY))
        .unwrap_err()
        .to_string();
    assert!(err.contains("inf"), "{err}");
    // Null and finite values are as before.
    let p = weft::converter::encode(&(None::<f64>, 1.5f64, "null")).unwrap();
    assert_eq!(p.data, br#"[null,1.5,"null"]"#);
    assert_eq!(weft::converter::encode(&()).unwrap().data, b"");
}

both_stores! {
    // A NaN in a workflow's input was written as null; the run's first
    // task then failed to decode it, for ever.
    a_workflow_input_holding_nan_is_refused_by_the_client(sqlite) {
        let env = env(sqlite).await;
        let reading = Reading { sensor: "t1".into(), values: vec![1.0, f64::NAN] };
        let err = env
            .client
            .start_workflow(Average::run, reading, WorkflowOptions::new("nan-input", QUEUE))
            .await
            .err()
            .expect("the start is refused");
        assert!(matches!(err, ClientError::Converter(_)), "{err:?}");
        let text = err.to_string();
        assert!(text.contains("NaN") && text.contains(".values[1]"), "{text}");
        // Nothing was started.
        let described = env
            .client
            .workflow_handle::<Average>("nan-input", None)
            .describe()
            .await;
        assert!(
            matches!(described, Err(ClientError::Backend(BackendError::NotFound { .. }))),
            "{described:?}"
        );
    }

    // An infinite activity input was written as null: the activity was
    // scheduled with a value nobody sent. Now the call fails its workflow
    // task, unscheduled: a value the code cannot send is a bug to fix.
    an_activity_input_holding_infinity_fails_the_task_unscheduled(sqlite) {
        let env = env(sqlite).await;
        let w = start_worker(&env.client, |w| w.register_workflow::<Scaling>().register_activity(HALVE));
        let h = env
            .client
            .start_workflow(Scaling::run, f64::MAX, WorkflowOptions::new("inf-arg", QUEUE))
            .await
            .unwrap();
        let text = task_failure(&h).await;
        assert!(text.contains("cannot be encoded") && text.contains("inf"), "{text}");
        let events = h.history().await.unwrap();
        assert!(!names(&events).contains(&"ActivityTaskScheduled"), "{:?}", names(&events));
        // A finite one goes through.
        let h = env
            .client
            .start_workflow(Scaling::run, 1.5, WorkflowOptions::new("finite-arg", QUEUE))
            .await
            .unwrap();
        assert_eq!(within(h.result()).await.unwrap(), 7.5);
        w.shutdown().await;
    }

    // A NaN activity result was written as null, which the workflow could
    // not decode: its task failed for ever.
    an_activity_result_holding_nan_fails_the_activity(sqlite) {
        let env = env(sqlite).await;
        let w = start_worker(&env.client, |w| w.register_workflow::<Dividing>().register_activity(RATIO));
        let h = env
            .client
            .start_workflow(Dividing::run, (0.0, 0.0), WorkflowOptions::new("nan-result", QUEUE))
            .await
            .unwrap();
        let (e, text) = run_failure(&h).await;
        assert!(text.contains("NaN"), "{text}");
        match &e.cause {
            Failure::Activity(a) => {
                assert_eq!((a.retry_state, a.attempt), (RetryState::NonRetryableFailure, 1), "{text}");
            }
            other => panic!("expected an activity error, got {other:?}"),
        }
        w.shutdown().await;
    }
}

// ---------------------------------------------------------------------
// An activity result over the payload limit.

#[activity]
async fn big_report(megabytes: usize) -> Result<String, ApplicationError> {
    Ok("x".repeat(megabytes * 1024 * 1024))
}

#[workflow]
#[derive(Default)]
struct Reporting;

#[workflow]
impl Reporting {
    #[run]
    async fn run(ctx: WorkflowContext<Self>, megabytes: usize) -> WorkflowResult<usize> {
        // Unlimited retries and a long attempt timeout: a refused result
        // used to wait out each attempt, and retry for ever.
        let report = ctx
            .activity(BIG_REPORT, megabytes)
            .start_to_close_timeout(Duration::from_secs(600))
            .await?;
        Ok(report.len())
    }
}

both_stores! {
    // A result over the 2 MB limit was refused with only a worker
    // warning: the attempt waited out its start-to-close timeout and was
    // retried, for ever.
    an_activity_result_over_the_limit_fails_the_attempt_at_once(sqlite) {
        let env = env(sqlite).await;
        let w = start_worker(&env.client, |w| w.register_workflow::<Reporting>().register_activity(BIG_REPORT));
        let h = env
            .client
            .start_workflow(Reporting::run, 3usize, WorkflowOptions::new("big", QUEUE))
            .await
            .unwrap();
        let (e, text) = run_failure(&h).await;
        let limit = 2 * 1024 * 1024;
        assert!(text.contains("activity result"), "{text}");
        assert!(text.contains(&format!("over the limit of {limit} bytes")), "{text}");
        match &e.cause {
            Failure::Activity(a) => {
                assert_eq!((a.retry_state, a.attempt), (RetryState::NonRetryableFailure, 1), "{text}");
                assert!(a.cause.is_non_retryable(), "{text}");
            }
            other => panic!("expected an activity error, got {other:?}"),
        }
        let events = h.history().await.unwrap();
        let failed = events.iter().find_map(|ev| match &ev.attributes {
            EventAttributes::ActivityTaskFailed { failure, retry_state, .. } => {
                Some((format!("{failure}"), *retry_state))
            }
            _ => None,
        });
        let (failure, retry_state) = failed.expect("an ActivityTaskFailed event");
        assert_eq!(retry_state, RetryState::NonRetryableFailure);
        assert!(failure.contains(&format!("over the limit of {limit} bytes")), "{failure}");
        assert_eq!(
            h.describe().await.unwrap().status,
            RunStatus::Failed
        );
        // A result under the limit still goes through.
        let h = env
            .client
            .start_workflow(Reporting::run, 1usize, WorkflowOptions::new("small", QUEUE))
            .await
            .unwrap();
        assert_eq!(within(h.result()).await.unwrap(), 1024 * 1024);
        w.shutdown().await;
    }
}

#[activity]
async fn heavy_heartbeat(ctx: ActivityContext, megabytes: usize) -> Result<String, Failure> {
    ctx.heartbeat(&"x".repeat(megabytes * 1024 * 1024))?;
    // Until the engine answers a heartbeat with "stop".
    ctx.cancelled().await;
    Err(ctx.cancellation_error().into())
}

#[workflow]
#[derive(Default)]
struct Beating;

#[workflow]
impl Beating {
    #[run]
    async fn run(ctx: WorkflowContext<Self>, megabytes: usize) -> WorkflowResult<String> {
        Ok(ctx
            .activity(HEAVY_HEARTBEAT, megabytes)
            .start_to_close_timeout(Duration::from_secs(600))
            .heartbeat_timeout(Duration::from_secs(60))
            .await?)
    }
}

both_stores! {
    // Heartbeat details over the limit were refused and the attempt ran
    // on without a heartbeat, to time out and be retried.
    heartbeat_details_over_the_limit_fail_the_attempt_at_once(sqlite) {
        let env = env(sqlite).await;
        let w = start_worker(&env.client, |w| w.register_workflow::<Beating>().register_activity(HEAVY_HEARTBEAT));
        let h = env
            .client
            .start_workflow(Beating::run, 3usize, WorkflowOptions::new("heavy", QUEUE))
            .await
            .unwrap();
        let (e, text) = run_failure(&h).await;
        assert!(text.contains("heartbeat details"), "{text}");
        assert!(text.contains("over the limit of 2097152 bytes"), "{text}");
        match &e.cause {
            Failure::Activity(a) => {
                assert_eq!((a.retry_state, a.attempt), (RetryState::NonRetryableFailure, 1), "{text}");
            }
            other => panic!("expected an activity error, got {other:?}"),
        }
        w.shutdown().await;
    }
}
