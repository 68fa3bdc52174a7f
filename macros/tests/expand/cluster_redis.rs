#[ttl_cache(backend = redis(cluster = ["redis://10.0.0.1:7000", "redis://10.0.0.2:7000"], near = 1_000))]
fn user(id: u64) -> String {
    load(id)
}
