use weft::prelude::*;

/// Not serde-serializable: activity results travel as payloads.
pub struct Receipt {
    pub cents: u64,
}

#[activity]
async fn charge(cents: u64) -> Result<Receipt, ApplicationError> {
    Ok(Receipt { cents })
}

fn main() {}
