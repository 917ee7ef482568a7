use weft::prelude::*;

#[activity(nmae = "Order")]
async fn order(amount: u32) -> Result<String, ApplicationError> {
    Ok(format!("Ordered {amount}"))
}

fn main() {}
