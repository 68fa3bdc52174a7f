#[jwm_cache::ttl_cache(key = |n: &u64| *n)]
fn f(n: u64) -> u64 {
    n
}

fn main() {}
