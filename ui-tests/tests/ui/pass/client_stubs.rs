//! The typed client stubs of every handler kind: signals, queries and
//! updates, each with and without an input, sync and async, under the fn's
//! name and a registered one, with `Self` and private types in their
//! signatures. Called with their exact result types; each future is
//! `Send + 'static` once it owns its handle. Warning-free, also where the
//! prelude's and weft's names mean something else.

#![deny(warnings)]

use serde::{Deserialize, Serialize};
use weft::prelude::*;
use weft::{ClientError, WorkflowHandle};

/// Private: the stubs trait is `pub` and mentions it.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
struct Item {
    name: String,
    cents: u64,
}

#[workflow]
#[derive(Default, Serialize, Deserialize)]
struct Cart {
    items: Vec<Item>,
    approved_by: Option<String>,
}

#[workflow]
impl Cart {
    #[run]
    async fn run(ctx: WorkflowContext<Self>, _budget: u64) -> WorkflowResult<usize> {
        ctx.wait_condition(|s| s.approved_by.is_some()).await?;
        Ok(ctx.state(|s| s.items.len()))
    }

    #[signal]
    fn approve(&mut self, by: String) {
        self.approved_by = Some(by);
    }

    #[signal(name = "Ping")]
    async fn ping(_ctx: WorkflowContext<Self>) {}

    #[query]
    fn status(&self) -> String {
        format!("{} items", self.items.len())
    }

    #[query(name = "item")]
    fn item_at(&self, index: usize) -> Option<Item> {
        self.items.get(index).cloned()
    }

    #[query]
    fn snapshot(&self) -> Self {
        Cart {
            items: self.items.clone(),
            approved_by: self.approved_by.clone(),
        }
    }

    #[update]
    fn add(&mut self, item: Item) -> Result<usize, ApplicationError> {
        self.items.push(item);
        Ok(self.items.len())
    }

    #[update(name = "Clear")]
    fn clear(&mut self) -> WorkflowResult<()> {
        self.items.clear();
        Ok(())
    }

    #[update]
    async fn replace(ctx: WorkflowContext<Self>, with: Self) -> Result<Vec<Item>, Failure> {
        Ok(ctx.state_mut(|s| std::mem::replace(&mut s.items, with.items)))
    }
}

mod caller {
    //! The trait is imported from the workflow's module.

    use super::{Cart, CartHandle, Item};
    use weft::{ClientError, WorkflowHandle};

    pub async fn every_stub(handle: &WorkflowHandle<Cart>) -> Result<(), ClientError> {
        let (): () = handle.approve("ann".to_string()).await?;
        let (): () = handle.ping().await?;
        let _: String = handle.status().await?;
        let _: Option<Item> = handle.item_at(0).await?;
        let _: Cart = handle.snapshot().await?;
        let _: usize = handle.add(Item::default()).await?;
        let (): () = handle.clear().await?;
        let _: Vec<Item> = handle.replace(Cart::default()).await?;
        // Called through the trait, as when an inherent method shadows one.
        let _: String = CartHandle::status(handle).await?;
        Ok(())
    }
}

fn spawned(handle: WorkflowHandle<Cart>) {
    let _ = tokio::spawn(async move {
        let result: Result<usize, ClientError> = handle.add(Item::default()).await;
        result
    });
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
    type Vec = ();
    type Send = ();
    type Future = ();
    type Into = ();
    type ClientError = ();
    type WorkflowHandle = ();
    type Payload = ();
    #[allow(unused_macros)]
    macro_rules! vec {
        () => {};
    }
    mod core {}
    mod std {}
    mod weft {}

    #[workflow]
    #[derive(Default)]
    pub struct Counter {
        pub n: u64,
    }

    #[workflow]
    impl Counter {
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

        #[query]
        fn plus(&self, by: u64) -> u64 {
            self.n + by
        }

        #[update]
        fn bump(&mut self) -> WorkflowResult<u64> {
            self.n += 1;
            ::core::result::Result::Ok(self.n)
        }

        #[update]
        async fn bump_by(ctx: WorkflowContext<Self>, by: u64) -> WorkflowResult<u64> {
            ::core::result::Result::Ok(ctx.state_mut(|s| {
                s.n += by;
                s.n
            }))
        }
    }

    pub async fn calls(handle: &::weft::WorkflowHandle<Counter>) -> ::core::result::Result<u64, ::weft::ClientError> {
        handle.set(1).await?;
        handle.later().await?;
        let n = handle.get().await? + handle.plus(1).await?;
        ::core::result::Result::Ok(n + handle.bump().await? + handle.bump_by(2).await?)
    }
}

fn main() {
    let _ = caller::every_stub;
    let _ = spawned;
    let _ = shadowed::calls;
}
