use weft::prelude::*;

#[activity(start_to_close_timeout = "10s", retry(backoff_coefficient = 0.5))]
async fn order(amount: u32) -> Result<String, ApplicationError> {
    Ok(format!("Ordered {amount}"))
}

fn main() {}
