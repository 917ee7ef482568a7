//! Dynamic handlers (`#[signal(dynamic)]`, `#[query(dynamic)]`,
//! `#[update(dynamic)]`): each takes every name of its kind that has no
//! handler of its own, with the name and the arguments still encoded;
//! named handlers keep their names; a dynamic update's validator sees the
//! call too. On both stores, in strict mode, and the history replays.

mod support;

use std::collections::BTreeMap;

use weft::history::Event;
use weft::prelude::*;
use weft::replay::Replayer;

use support::{env, strict, within};

const QUEUE: &str = "dynamic";

/// Counters named by the signals and updates that reach them.
#[workflow]
#[derive(Default)]
struct Counters {
    values: BTreeMap<String, i64>,
    closed: bool,
}

#[workflow]
impl Counters {
    #[run]
    async fn run(ctx: WorkflowContext<Self>, _: ()) -> WorkflowResult<BTreeMap<String, i64>> {
        ctx.wait_condition(|s| s.closed).await?;
        Ok(ctx.state(|s| s.values.clone()))
    }

    #[signal]
    fn close(&mut self) {
        self.closed = true;
    }

    // ANCHOR: dynamic
    /// Any other signal sets the counter it names; an input that is not a
    /// number is ignored.
    #[signal(dynamic)]
    fn set(&mut self, call: DynamicCall) {
        if let Ok(value) = call.input::<i64>() {
            self.values.insert(call.name().to_string(), value);
        }
    }

    #[query]
    fn count(&self) -> usize {
        self.values.len()
    }

    /// Any other query reads the counter it names.
    #[query(dynamic)]
    fn get(&self, call: DynamicCall) -> Option<i64> {
        self.values.get(call.name()).copied()
    }

    /// Any update adds its input to the counter it names.
    #[update(dynamic)]
    fn add(&mut self, call: DynamicCall) -> WorkflowResult<i64> {
        let by: i64 = call.input()?;
        let value = self.values.entry(call.name().to_string()).or_default();
        *value += by;
        Ok(*value)
    }

    #[validator(add)]
    fn names_are_public(&self, call: &DynamicCall) -> Result<(), ApplicationError> {
        match call.name().strip_prefix('_') {
            Some(_) => Err(ApplicationError::new(format!(
                "{} is private: counter names do not start with `_`",
                call.name()
            ))),
            None => Ok(()),
        }
    }
    // ANCHOR_END: dynamic
}

fn replay(events: &[Event]) {
    let mut replayer = Replayer::new();
    replayer.register_workflow::<Counters>();
    replayer
        .replay(events)
        .expect("the history replays cleanly");
}

both_stores! {
    every_unnamed_handler_call_reaches_the_dynamic_one(sqlite) {
        let env = env(sqlite).await;
        let worker = Worker::new(&env.client, QUEUE)
            .with_options(strict(0))
            .register_workflow::<Counters>()
            .start()
            .unwrap();
        let h = env
            .client
            .start_workflow(Counters::run, (), WorkflowOptions::new("counters", QUEUE))
            .await
            .unwrap();
        // ANCHOR: calls
        h.signal("apples", &3).await.unwrap();
        h.signal("pears", &"not a number").await.unwrap();
        // The named query answers, the dynamic one takes the rest.
        assert_eq!(h.count().await.unwrap(), 1);
        assert_eq!(h.query::<Option<i64>>("apples", &()).await.unwrap(), Some(3));
        assert_eq!(h.query::<Option<i64>>("pears", &()).await.unwrap(), None);
        assert_eq!(h.update::<i64>("apples", &2).await.unwrap(), 5);
        assert_eq!(h.update::<i64>("plums", &1).await.unwrap(), 1);
        // ANCHOR_END: calls
        // The validator sees the name: rejected, and not in history.
        let rejected = h.update::<i64>("_secret", &1).await.unwrap_err();
        assert!(rejected.to_string().contains("_secret is private"), "{rejected}");
        // An input the handler cannot decode fails that update only.
        let failed = h.update::<i64>("apples", &"two").await.unwrap_err();
        assert!(failed.to_string().contains("invalid type"), "{failed}");
        h.close().await.unwrap();
        let values = within(h.result()).await.unwrap();
        let expected = BTreeMap::from([("apples".to_string(), 5), ("plums".to_string(), 1)]);
        assert_eq!(values, expected);
        let events = h.history().await.unwrap();
        let names = support::names(&events);
        let accepted = names.iter().filter(|n| **n == "WorkflowExecutionUpdateAccepted");
        assert_eq!(accepted.count(), 3, "{names:?}");
        replay(&events);
        worker.shutdown().await;
    }
}
