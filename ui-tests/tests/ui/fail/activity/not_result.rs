use weft::prelude::*;

#[activity]
async fn order(amount: u32) -> String {
    format!("Ordered {amount}")
}

fn main() {}
