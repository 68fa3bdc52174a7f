#[jwm_cache::ttl_cache(ttl_ms = -5)]
fn f(n: u64) -> u64 {
    n
}

fn main() {}
