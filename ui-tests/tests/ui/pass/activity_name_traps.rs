//! An activity's value is a constant named in capitals, so bindings named
//! like the activity stay bindings: a parameter `refund`, a `let refund`,
//! and `other =>` / `result` / `status` catch-alls beside activities of
//! those names.

use weft::prelude::*;

#[activity]
async fn refund(cents: u64) -> Result<u64, ApplicationError> {
    Ok(cents)
}

#[activity]
async fn other(code: u32) -> Result<String, ApplicationError> {
    Ok(format!("other {code}"))
}

#[activity]
fn result(n: u32) -> Result<u32, ApplicationError> {
    Ok(n)
}

#[activity]
fn status() -> Result<String, ApplicationError> {
    Ok("ok".into())
}

fn describe(code: u32) -> &'static str {
    match code {
        0 => "zero",
        other => {
            let _ = other;
            "some"
        }
    }
}

fn halve(refund: u64) -> u64 {
    refund / 2
}

#[workflow]
#[derive(Default)]
struct Refunds;

#[workflow]
impl Refunds {
    #[run]
    async fn run(ctx: WorkflowContext<Self>, refund: u64) -> WorkflowResult<String> {
        let refund = ctx
            .activity(REFUND, halve(refund))
            .start_to_close_timeout(Duration::from_secs(5))
            .await?;
        let status = ctx
            .activity(STATUS, ())
            .start_to_close_timeout(Duration::from_secs(5))
            .await?;
        let result = match refund {
            0 => ctx.activity(OTHER, 0),
            other => ctx.activity(OTHER, other as u32),
        };
        let result = result.start_to_close_timeout(Duration::from_secs(5)).await?;
        Ok(format!("{refund} {status} {result} {}", describe(1)))
    }
}

fn main() {
    assert_eq!(REFUND.name(), "refund");
    assert_eq!(OTHER.name(), "other");
    assert_eq!(RESULT.name(), "result");
    assert_eq!(result(3).unwrap(), 3);
    assert_eq!(status().unwrap(), "ok");
    assert_eq!(describe(2), "some");
}
