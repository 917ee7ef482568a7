//! Every handler kind (sync and async signals and updates, queries with and
//! without input, validators with and without input), and typed calls of
//! the generated `Workflow` entry points; warning-free, also where
//! `Result`, `Ok`, `Option`, `Some`, `None`, `Box` and `core` mean
//! something else.

#![deny(warnings)]

use serde::{Deserialize, Serialize};
use weft::prelude::*;
use weft::{Payload, Workflow};

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Item {
    pub name: String,
    pub cents: u64,
}

#[workflow]
#[derive(Default)]
pub struct Cart {
    items: Vec<Item>,
    approved_by: Option<String>,
    closed: bool,
}

#[workflow]
impl Cart {
    #[run]
    pub async fn run(ctx: WorkflowContext<Self>, budget: u64) -> WorkflowResult<u64> {
        ctx.sleep(Duration::from_secs(1)).await?;
        Ok(budget)
    }

    #[signal]
    fn approve(&mut self, by: String) {
        self.approved_by = Some(by);
    }

    #[signal(name = "Close")]
    fn close(&mut self) {
        self.closed = true;
    }

    #[weft::signal]
    async fn remind(ctx: WorkflowContext<Self>, after: u64) {
        let _ = ctx.sleep(Duration::from_secs(after)).await;
        let both = async { ctx.sleep(Duration::from_secs(1)).await };
        let _ = both.await;
    }

    #[signal]
    async fn ping(_ctx: WorkflowContext<Self>) -> () {}

    #[query]
    fn status(&self) -> String {
        format!("{} items", self.items.len())
    }

    #[query(name = "item")]
    fn item_at(&self, index: usize) -> Option<Item> {
        self.items.get(index).cloned()
    }

    #[update]
    fn add(&mut self, item: Item) -> Result<usize, ApplicationError> {
        self.items.push(item);
        Ok(self.items.len())
    }

    #[validator(add)]
    fn check_add(&self, item: &Item) -> Result<(), ApplicationError> {
        if item.name.is_empty() {
            return Err(ApplicationError::new("an item needs a name"));
        }
        Ok(())
    }

    #[update]
    fn clear(&mut self) -> WorkflowResult<()> {
        self.items.clear();
        Ok(())
    }

    #[validator(clear)]
    fn check_clear(&self) -> Result<(), Failure> {
        Ok(())
    }

    #[update(name = "Checkout")]
    async fn checkout(ctx: WorkflowContext<Self>, note: String) -> Result<u64, ApplicationError> {
        let _ = ctx.sleep(Duration::from_secs(1)).await;
        let total = ctx.state(|s| s.items.iter().map(|i| i.cents).sum::<u64>());
        Ok(total + note.len() as u64)
    }

    #[update]
    async fn reset(ctx: WorkflowContext<Self>) -> WorkflowResult<bool> {
        ctx.state_mut(|s| s.items.clear());
        Ok(true)
    }
}

#[allow(dead_code, non_camel_case_types)]
mod shadowed {
    use ::weft::prelude::*;

    type Result = ();
    struct Ok;
    struct Err;
    type Option = ();
    struct Some;
    struct None;
    type Box = ();
    type Future = ();
    mod core {}
    mod std {}

    #[workflow]
    #[derive(Default)]
    pub struct Shadowed {
        pub n: u64,
    }

    #[workflow]
    impl Shadowed {
        #[run]
        pub async fn run(_ctx: WorkflowContext<Self>, n: u64) -> WorkflowResult<u64> {
            ::core::result::Result::Ok(n)
        }

        #[signal]
        fn set(&mut self, n: u64) {
            self.n = n;
        }

        #[signal]
        async fn later(_ctx: WorkflowContext<Self>) {}

        #[query]
        fn get(&self) -> u64 {
            self.n
        }

        #[update]
        fn bump(&mut self) -> WorkflowResult<u64> {
            self.n += 1;
            ::core::result::Result::Ok(self.n)
        }

        #[update]
        async fn bump_later(ctx: WorkflowContext<Self>, by: u64) -> WorkflowResult<u64> {
            ::core::result::Result::Ok(ctx.state_mut(|s| {
                s.n += by;
                s.n
            }))
        }

        #[validator(bump_later)]
        fn check_bump(&self, by: &u64) -> WorkflowResult<()> {
            if *by == 0 {
                return ::core::result::Result::Err(ApplicationError::new("zero").into());
            }
            ::core::result::Result::Ok(())
        }
    }
}

/// A workflow with updates but no validator, and no other handlers.
#[workflow]
#[derive(Default)]
pub struct Plain;

#[workflow]
impl Plain {
    #[run]
    async fn run(_ctx: WorkflowContext<Self>, _input: ()) -> WorkflowResult<()> {
        Ok(())
    }

    #[update]
    fn touch(&mut self) -> Result<(), ApplicationError> {
        Ok(())
    }
}

/// The signal and update entry points need a context, which only the
/// executor builds: these calls only have to type-check.
#[allow(dead_code)]
fn typed_calls(ctx: &WorkflowContext<Cart>) {
    let signal: Option<Result<weft::workflow::Handler, Failure>> =
        <Cart as Workflow>::signal(ctx, "approve", &[]);
    let update: Option<Result<weft::workflow::UpdateHandler, Failure>> =
        <Cart as Workflow>::update(ctx, "add", &[]);
    drop((signal, update));
}

fn main() {
    let state = Cart::init(&10);
    let status: Option<Result<Payload, Failure>> = <Cart as Workflow>::query(&state, "status", &[]);
    assert!(matches!(status, Some(Ok(_))));
    let item = weft::converter::encode(&Item { name: "pear".into(), cents: 3 }).unwrap();
    let valid: Option<Result<(), Failure>> = <Cart as Workflow>::validate(&state, "add", &[item]);
    assert!(matches!(valid, Some(Ok(()))));
    assert!(<Cart as Workflow>::validate(&state, "Checkout", &[]).is_some());
    assert!(<Cart as Workflow>::query(&state, "approve", &[]).is_none());

    let shadowed = <shadowed::Shadowed as Workflow>::init(&1);
    assert!(<shadowed::Shadowed as Workflow>::query(&shadowed, "get", &[]).is_some());
    assert!(<Plain as Workflow>::validate(&Plain, "touch", &[]).is_some());
    assert!(<Plain as Workflow>::query(&Plain, "touch", &[]).is_none());
}
