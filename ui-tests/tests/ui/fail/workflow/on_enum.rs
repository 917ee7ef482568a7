use weft::prelude::*;

#[workflow]
enum Shop {
    Open,
}

fn main() {}
