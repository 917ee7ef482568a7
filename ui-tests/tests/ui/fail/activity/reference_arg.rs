use weft::prelude::*;

#[activity]
async fn greet(name: &str) -> Result<String, ApplicationError> {
    Ok(format!("hi {name}"))
}

fn main() {}
