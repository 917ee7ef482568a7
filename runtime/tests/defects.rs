//! Defects found by adversarial runs (bad inputs, oversized results,
//! panicking validators, requests to closed runs), each pinned by a test
//! named after what broke. Defects of the SQLite file itself are in
//! `store_files.rs`.

mod support;

use support::{env, within};

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
