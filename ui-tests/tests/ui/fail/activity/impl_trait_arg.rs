use weft::prelude::*;

#[activity]
async fn greet(name: impl Into<String>) -> Result<String, ApplicationError> {
    Ok(name.into())
}

fn main() {}
