#[jwm_cache::ttl_cache(backend = redis(url = "redis://127.0.0.1/"), time_to_idle = "5m")]
fn f(x: u64) -> u64 {
    x
}

fn main() {}
