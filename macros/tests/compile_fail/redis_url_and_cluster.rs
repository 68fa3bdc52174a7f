#[jwm_cache::ttl_cache(backend = redis(url = "redis://127.0.0.1/", cluster = ["redis://127.0.0.1:7000"]))]
fn f(x: u64) -> u64 {
    x
}

fn main() {}
