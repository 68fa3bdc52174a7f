// Redis keeps one namespace per identifier, which every test would share.
#[jwm_cache::ttl_cache(clock = scoped, backend = redis(url = "redis://127.0.0.1/"))]
fn square(n: u64) -> u64 {
    n * n
}

fn main() {}
