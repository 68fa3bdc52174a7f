#[jwm_cache::ttl_cache(lease = "10s")]
fn f(x: u64) -> u64 {
    x
}

fn main() {}
