use weft::prelude::*;

#[activity]
async fn add((a, b): (i64, i64)) -> Result<i64, ApplicationError> {
    Ok(a + b)
}

fn main() {}
