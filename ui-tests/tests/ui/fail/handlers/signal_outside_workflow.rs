use weft::prelude::*;

#[derive(Default)]
struct Cart {
    items: Vec<String>,
}

impl Cart {
    #[signal]
    fn add(&mut self, item: String) {
        self.items.push(item);
    }
}

fn main() {}
