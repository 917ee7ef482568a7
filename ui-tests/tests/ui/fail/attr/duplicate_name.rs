use weft::prelude::*;

#[activity(name = "Order", name = "OrderV2")]
async fn order(amount: u32) -> Result<String, ApplicationError> {
    Ok(format!("Ordered {amount}"))
}

fn main() {}
