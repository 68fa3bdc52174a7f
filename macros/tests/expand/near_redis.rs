#[ttl_cache(backend = redis(url = "redis://127.0.0.1/", near = 10_000))]
async fn profile(id: u64) -> String {
    load(id).await
}
