#[weft::deterministic(strict)]
async fn helper() -> u32 {
    1
}

fn main() {
    let _ = helper;
}
