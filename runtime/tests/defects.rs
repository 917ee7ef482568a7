//! Defects found by adversarial runs (bad inputs, oversized results,
//! panicking validators, requests to closed runs), each pinned by a test
//! named after what broke. Defects of the SQLite file itself are in
//! `store_files.rs`.

mod support;

use support::{env, within};

use weft::ClientError;
use weft::prelude::*;

const QUEUE: &str = "defects";

fn start_worker(client: &Client, build: impl FnOnce(&mut Worker)) -> weft::worker::WorkerHandle {
    let mut w = Worker::new(client, QUEUE);
    build(&mut w);
    w.start().unwrap()
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
    // Cancel and terminate of a closed run said it "takes no more signals".
    cancel_and_terminate_of_a_closed_run_say_what_was_refused(sqlite) {
        let env = env(sqlite).await;
        let w = start_worker(&env.client, |w| { w.register_workflow::<Echo>(); });
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
        ctx.wait_condition(|s| s.done).await;
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
        let w = start_worker(&env.client, |w| { w.register_workflow::<Guarded>(); });
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
