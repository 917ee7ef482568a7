//! The expansion uses absolute paths only: it compiles warning-free where
//! `Result`, `Ok`, `Option`, `Box`, `Vec`, `vec!`, `Default`, `Send`, `Into`,
//! `core`, `std` and `weft` mean something else.
//!
//! User code lives in `user` (no shadowing); the macro invocations are in
//! `shadowed`, with the shadowing names in scope.

#![deny(warnings)]

mod user {
    use serde::{Deserialize, Serialize};
    use weft::prelude::*;

    #[derive(Clone, Debug, Serialize, Deserialize)]
    pub struct Receipt {
        pub amount: u32,
    }

    pub async fn order(amount: u32) -> Result<Receipt, ApplicationError> {
        Ok(Receipt { amount })
    }

    pub fn add(a: i64, b: i64) -> Result<i64, ApplicationError> {
        Ok(a + b)
    }

    #[weft::deterministic]
    pub async fn tally(ctx: WorkflowContext<super::shadowed::Tally>, input: u32) -> WorkflowResult<u32> {
        let receipt: Receipt = ctx
            .activity(super::shadowed::ORDER, input)
            .start_to_close_timeout(Duration::from_secs(1))
            .await?;
        let sum: i64 = ctx
            .activity(super::shadowed::ADD, (1, 2))
            .start_to_close_timeout(Duration::from_secs(1))
            .await?;
        let _: Receipt = ctx
            .activity(super::shadowed::Shop::BUY, 4)
            .start_to_close_timeout(Duration::from_secs(1))
            .await?;
        ctx.state_mut(|s| s.seen += 1);
        Ok(receipt.amount + sum as u32)
    }

    #[weft::deterministic]
    pub async fn counted(input: u64) -> Result<u64, ApplicationError> {
        Ok(input)
    }

    #[weft::deterministic]
    pub async fn stateless(
        ctx: WorkflowContext<super::shadowed::Stateless>,
        amount: u32,
    ) -> Result<u32, ApplicationError> {
        let receipt = ctx
            .activity(super::shadowed::TIMED, amount)
            .await
            .map_err(|e| ApplicationError::new(e.to_string()))?;
        Ok(receipt.amount)
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
    type Vec = ();
    type Default = ();
    type Send = ();
    type Into = ();
    type Arc = ();
    type Payload = ();
    #[allow(unused_macros)]
    macro_rules! vec {
        () => {};
    }
    mod core {}
    mod std {}
    mod weft {}

    #[activity]
    pub async fn order(amount: u32) -> ::core::result::Result<super::user::Receipt, ApplicationError> {
        super::user::order(amount).await
    }

    #[activity]
    pub fn add(ctx: ActivityContext, a: i64, b: i64) -> ::core::result::Result<i64, ApplicationError> {
        let _ = ctx;
        super::user::add(a, b)
    }

    #[activity]
    pub async fn nothing() -> ::core::result::Result<(), Failure> {
        ::core::result::Result::Ok(())
    }

    #[activity(start_to_close_timeout = "5s", retry(maximum_attempts = 2, non_retryable_errors = ["Fatal"]))]
    pub async fn timed(amount: u32) -> ::core::result::Result<super::user::Receipt, ApplicationError> {
        super::user::order(amount).await
    }

    #[workflow]
    pub async fn stateless(ctx: WorkflowContext, amount: u32) -> ::core::result::Result<u32, ApplicationError> {
        super::user::stateless(ctx, amount).await
    }

    pub struct Shop;

    #[activity]
    impl Shop {
        async fn buy(&self, amount: u32) -> ::core::result::Result<super::user::Receipt, ApplicationError> {
            super::user::order(amount).await
        }
    }

    #[workflow]
    #[derive(Default)]
    pub struct Tally {
        pub seen: u32,
    }

    #[workflow]
    impl Tally {
        #[run]
        pub async fn run(ctx: WorkflowContext<Self>, input: u32) -> WorkflowResult<u32> {
            super::user::tally(ctx, input).await
        }
    }

    #[workflow]
    pub struct Counted(u64);

    #[workflow]
    impl Counted {
        #[init]
        fn new(input: &u64) -> Self {
            Counted(*input)
        }

        #[run]
        pub async fn run(ctx: WorkflowContext<Self>, input: u64) -> ::core::result::Result<u64, ApplicationError> {
            let _ = ctx.state(|s| s.0);
            super::user::counted(input).await
        }
    }
}

fn main() {
    use weft::Workflow;
    assert_eq!(shadowed::Tally::NAME, "Tally");
    assert_eq!(shadowed::Counted::NAME, "Counted");
    assert_eq!(shadowed::ORDER.name(), "order");
    assert_eq!(shadowed::NOTHING.name(), "nothing");
    assert_eq!(shadowed::TIMED.defaults().retry.map(|r| r.maximum_attempts), Some(2));
    assert_eq!(shadowed::Stateless::NAME, "Stateless");
}
