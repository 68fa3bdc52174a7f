#[jwm_cache::ttl_cache(tll = "30s")]
fn f(n: u64) -> u64 {
    n
}

fn main() {}
