#[jwm_cache::ttl_cache(result = true)]
fn f(n: u64) -> u64 {
    n
}

fn main() {}
