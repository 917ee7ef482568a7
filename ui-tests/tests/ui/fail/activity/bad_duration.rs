use weft::prelude::*;

#[activity(start_to_close_timeout = "10 seconds")]
async fn order(amount: u32) -> Result<String, ApplicationError> {
    Ok(format!("Ordered {amount}"))
}

fn main() {}
