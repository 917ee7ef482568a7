use weft::prelude::*;

/// Not serde-serializable: activity arguments travel as payloads.
pub struct Card {
    pub number: String,
}

#[activity]
async fn charge(card: Card, cents: u64) -> Result<u64, ApplicationError> {
    let _ = card.number;
    Ok(cents)
}

fn main() {}
