use std::rc::Rc;

use weft::prelude::*;

#[activity]
async fn order(amount: u32) -> Result<u32, ApplicationError> {
    let local = Rc::new(amount);
    std::future::ready(()).await;
    Ok(*local)
}

fn main() {}
