use weft::prelude::*;

#[derive(Debug)]
struct MyError;

#[activity]
async fn order(amount: u32) -> Result<u32, MyError> {
    Ok(amount)
}

fn main() {}
