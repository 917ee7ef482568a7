use weft::prelude::*;

struct Deps;

#[activity]
impl Deps {
    async fn get(&self, id: u64) -> Result<u64, ApplicationError> {
        Ok(id)
    }
}

fn worker(client: &Client) {
    let worker = Worker::new(client, "deps").register_activity(Deps::GET);
}

fn main() {
    let _ = worker;
}
