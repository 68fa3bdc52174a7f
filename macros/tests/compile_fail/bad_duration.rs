#[jwm_cache::ttl_cache(ttl = "30 seconds")]
fn f(n: u64) -> u64 {
    n
}

fn main() {}
