#[ttl_cache(ttl = "30s", backend = redis(url = std::env::var("REDIS_URL").unwrap_or_default(), timeout = "100ms"))]
fn rates(currency: String) -> Option<f64> {
    fetch(&currency)
}
