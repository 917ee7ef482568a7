use weft::prelude::*;

#[weft::deterministic]
fn deadline() -> std::time::Instant {
    std::time::Instant::now() + Duration::from_secs(5)
}

fn main() {
    let _ = deadline;
}
