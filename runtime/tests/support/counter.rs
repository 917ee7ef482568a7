//! A hand-written workflow with queries, update validators and updates (as
//! the macros would build them), shared by the query and update tests.

use std::cell::RefCell;
use std::collections::HashMap;
use std::time::Duration;

use futures::future::LocalBoxFuture;
use serde::{Deserialize, Serialize};
use weft::converter::{self, Payload};
use weft::workflow::{Handler, UpdateHandler};
use weft::{ApplicationError, Failure, Workflow, WorkflowContext, WorkflowResult};

thread_local! {
    /// The last state each tag's run ended with on this thread (Replayer tests).
    pub static REPLAYED: RefCell<HashMap<String, Totals>> = RefCell::new(HashMap::new());
}

/// What the run ends with.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Totals {
    pub total: i64,
    /// Update handlers run (sync and async).
    pub applied: u32,
}

/// Adds numbers by update; answers queries; ends on the `finish` signal.
#[derive(Default)]
pub struct Counter {
    pub total: i64,
    pub applied: u32,
    pub done: bool,
    /// Set by `finish_now`: the run returns without waiting for handlers.
    pub abandon: bool,
}

fn decode<T: serde::de::DeserializeOwned>(input: &[Payload]) -> Result<T, Failure> {
    if input.len() != 1 {
        return Err(
            ApplicationError::new(format!("expected 1 argument, got {}", input.len()))
                .with_type("ArityError")
                .into(),
        );
    }
    converter::decode_single(input).map_err(Failure::from)
}

fn encode<T: Serialize>(value: &T) -> Result<Payload, Failure> {
    converter::encode(value).map_err(Failure::from)
}

impl Workflow for Counter {
    const NAME: &'static str = "Counter";
    type Input = String;
    type Output = Totals;

    fn init(_: &String) -> Self {
        Counter::default()
    }

    fn run(
        ctx: WorkflowContext<Self>,
        tag: String,
    ) -> LocalBoxFuture<'static, WorkflowResult<Totals>> {
        Box::pin(async move {
            ctx.wait_condition(|s| s.done).await?;
            if !ctx.state(|s| s.abandon) {
                ctx.all_handlers_finished().await?;
            }
            let totals = ctx.state(|s| Totals {
                total: s.total,
                applied: s.applied,
            });
            REPLAYED.with(|r| r.borrow_mut().insert(tag, totals.clone()));
            Ok(totals)
        })
    }

    fn signal(
        ctx: &WorkflowContext<Self>,
        name: &str,
        _input: &[Payload],
    ) -> Option<Result<Handler, Failure>> {
        match name {
            "finish" => {
                ctx.state_mut(|s| s.done = true);
                Some(Ok(Handler::Done))
            }
            "finish_now" => {
                ctx.state_mut(|s| {
                    s.done = true;
                    s.abandon = true;
                });
                Some(Ok(Handler::Done))
            }
            _ => None,
        }
    }

    fn query(state: &Self, name: &str, input: &[Payload]) -> Option<Result<Payload, Failure>> {
        match name {
            "total" => Some(if input.is_empty() {
                encode(&state.total)
            } else {
                Err(ApplicationError::new("query total takes no argument").into())
            }),
            "plus" => Some(decode::<i64>(input).and_then(|x| encode(&(state.total + x)))),
            "applied" => Some(encode(&state.applied)),
            "fail" => Some(Err(ApplicationError::new("this query always fails").into())),
            _ => None,
        }
    }

    fn validate(state: &Self, name: &str, input: &[Payload]) -> Option<Result<(), Failure>> {
        match name {
            "add" | "slow_add" => Some(decode::<i64>(input).and_then(|x| {
                if x < 0 {
                    Err(ApplicationError::new(format!("negative amount {x}"))
                        .with_type("Negative")
                        .into())
                } else if state.done {
                    Err(ApplicationError::new("the counter is finished").into())
                } else {
                    Ok(())
                }
            })),
            "fail" => Some(Ok(())),
            _ => None,
        }
    }

    fn update(
        ctx: &WorkflowContext<Self>,
        name: &str,
        input: &[Payload],
    ) -> Option<Result<UpdateHandler, Failure>> {
        match name {
            "add" => Some(decode::<i64>(input).map(|x| {
                let total = ctx.state_mut(|s| {
                    s.total += x;
                    s.applied += 1;
                    s.total
                });
                UpdateHandler::Done(encode(&total))
            })),
            "slow_add" => Some(decode::<i64>(input).map(|x| {
                let ctx = ctx.clone();
                UpdateHandler::Async(Box::pin(async move {
                    ctx.sleep(Duration::from_millis(20)).await?;
                    let total = ctx.state_mut(|s| {
                        s.total += x;
                        s.applied += 1;
                        s.total
                    });
                    encode(&total)
                }))
            })),
            "fail" => Some(Ok(UpdateHandler::Done(Err(ApplicationError::new(
                "the handler failed",
            )
            .with_type("HandlerFailed")
            .into())))),
            _ => None,
        }
    }
}
