#[jwm_cache::ttl_cache(backend = redis(url = "redis://127.0.0.1/"), shards = 4)]
fn f(x: u64) -> u64 {
    x
}

fn main() {}
