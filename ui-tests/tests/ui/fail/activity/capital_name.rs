use weft::prelude::*;

#[allow(non_snake_case)]
#[activity]
async fn PING() -> Result<(), ApplicationError> {
    Ok(())
}

fn main() {}
