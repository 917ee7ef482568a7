//! The determinism rewrites (checked awaits, vouched async blocks,
//! `#[weft::deterministic]` helpers, payload checks) compile warning-free
//! where `Result`, `Ok`, `Option`, `Box`, `Future`, `core`, `std` and `weft`
//! mean something else.

#![deny(warnings)]

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
    type Send = ();
    mod core {}
    mod std {}
    mod weft {}

    #[::weft::deterministic]
    pub async fn wait(ctx: &WorkflowContext<Shadowed>, millis: u64) -> u64 {
        let _ = ctx.sleep(Duration::from_millis(millis)).await;
        millis
    }

    #[::weft::deterministic]
    pub async fn nothing() {}

    #[activity]
    pub async fn echo(n: u64) -> ::core::result::Result<u64, ApplicationError> {
        ::core::result::Result::Ok(n)
    }

    #[workflow]
    #[derive(Default)]
    pub struct Shadowed {
        pub waited: u64,
    }

    #[workflow]
    impl Shadowed {
        #[run]
        pub async fn run(ctx: WorkflowContext<Self>, n: u64) -> WorkflowResult<u64> {
            nothing().await;
            let waited = wait(&ctx, n).await;
            let (a, b) = ::weft::workflow::join(
                async { wait(&ctx, 1).await },
                async {
                    ctx.activity(ECHO, 2)
                        .start_to_close_timeout(Duration::from_secs(1))
                        .await
                },
            )
            .await;
            ctx.state_mut(|s| s.waited = waited + a);
            ::core::result::Result::Ok(b?)
        }
    }
}

fn main() {
    use weft::Workflow;
    assert_eq!(shadowed::Shadowed::NAME, "Shadowed");
}
