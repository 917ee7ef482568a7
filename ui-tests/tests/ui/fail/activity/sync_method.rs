use weft::prelude::*;

struct Deps;

#[activity]
impl Deps {
    fn get(&self, id: u64) -> Result<u64, ApplicationError> {
        Ok(id)
    }
}

fn main() {}
