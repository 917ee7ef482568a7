trait Lookup {
    #[weft::deterministic]
    async fn lookup(&self) -> u32;
}

fn main() {}
