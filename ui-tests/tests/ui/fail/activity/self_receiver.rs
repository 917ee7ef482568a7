use weft::prelude::*;

struct Deps;

impl Deps {
    #[activity]
    async fn get(&self, id: u64) -> Result<u64, ApplicationError> {
        Ok(id)
    }
}

fn main() {}
