use weft::prelude::*;

#[activity]
async fn echo<T: serde::Serialize>(value: T) -> Result<T, ApplicationError> {
    Ok(value)
}

fn main() {}
