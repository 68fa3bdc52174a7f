// `bridge` is how a sync function reaches Redis; an async function has its own runtime.
#[jwm_cache::ttl_cache(backend = redis(url = "redis://127.0.0.1/"), bridge = jwm_cache::Bridge::new().unwrap())]
async fn f(x: u64) -> u64 {
    x
}

fn main() {}
