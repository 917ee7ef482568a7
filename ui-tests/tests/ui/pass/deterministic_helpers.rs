//! Async helpers marked `#[weft::deterministic]` may be awaited in workflow
//! code: free fns, methods, helpers borrowing the context, helpers using
//! `?` and `return`, and generic helpers.

use weft::prelude::*;

#[activity]
async fn price(item: String) -> Result<u64, ApplicationError> {
    Ok(item.len() as u64)
}

#[weft::deterministic]
async fn priced(ctx: &WorkflowContext<Cart>, item: String) -> WorkflowResult<u64> {
    if item.is_empty() {
        return Ok(0);
    }
    let cents = ctx
        .activity(PRICE, item)
        .start_to_close_timeout(Duration::from_secs(5))
        .await?;
    Ok(cents)
}

#[weft::deterministic]
async fn pause<W>(ctx: &WorkflowContext<W>, millis: u64) {
    let _ = ctx.sleep(Duration::from_millis(millis)).await;
}

struct Pricing {
    discount: u64,
}

impl Pricing {
    #[weft::deterministic]
    async fn total(&self, ctx: &WorkflowContext<Cart>, items: Vec<String>) -> WorkflowResult<u64> {
        let mut total = 0;
        for item in items {
            total += priced(ctx, item).await?;
        }
        Ok(total.saturating_sub(self.discount))
    }
}

/// A sync helper gets the syntax checks only.
#[weft::deterministic]
fn label(total: u64) -> String {
    format!("{total} cents")
}

#[workflow]
#[derive(Default)]
struct Cart;

#[workflow]
impl Cart {
    #[run]
    async fn run(ctx: WorkflowContext<Self>, items: Vec<String>) -> WorkflowResult<String> {
        pause(&ctx, 10).await;
        let total = Pricing { discount: 5 }.total(&ctx, items).await?;
        Ok(label(total))
    }
}

fn main() {
    use weft::Workflow;
    assert_eq!(Cart::NAME, "Cart");
    assert_eq!(label(3), "3 cents");
}
