use weft::prelude::*;

#[derive(Default)]
struct Shop;

#[workflow]
impl Clone for Shop {
    fn clone(&self) -> Self {
        Shop
    }
}

fn main() {}
