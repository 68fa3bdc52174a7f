#[jwm_cache::ttl_cache(ttl = "-5s")]
fn f(n: u64) -> u64 {
    n
}

fn main() {}
