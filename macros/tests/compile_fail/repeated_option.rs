// An option given twice is refused rather than the last one winning.
#[jwm_cache::ttl_cache(ttl = "1s", ttl_ms = 5)]
fn twice(n: u8) -> u8 {
    n
}

#[jwm_cache::ttl_cache(capacity = 10, capacity = 20)]
fn setter_twice(n: u8) -> u8 {
    n
}

fn main() {}
