#[jwm_cache::ttl_cache(backend = redis(prefix = "app:"))]
fn f(x: u64) -> u64 {
    x
}

fn main() {}
