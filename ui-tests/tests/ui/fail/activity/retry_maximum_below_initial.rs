use weft::prelude::*;

#[activity(retry(initial_interval = "10s", maximum_interval = "1s"))]
async fn order(amount: u32) -> Result<String, ApplicationError> {
    Ok(format!("Ordered {amount}"))
}

fn main() {}
