#[ttl_cache(key = city.to_lowercase(), clock = manual(CLOCK))]
fn population(city: &str) -> u64 {
    census(city)
}
