use weft::prelude::*;

struct Shop(u32);

impl Shop {
    #[init]
    fn new(input: &u32) -> Self {
        Shop(*input)
    }
}

fn main() {}
