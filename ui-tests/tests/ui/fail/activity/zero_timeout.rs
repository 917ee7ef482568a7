use weft::prelude::*;

#[activity(heartbeat_timeout = "0s")]
async fn order(amount: u32) -> Result<String, ApplicationError> {
    Ok(format!("Ordered {amount}"))
}

fn main() {}
