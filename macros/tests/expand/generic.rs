#[ttl_cache(single_flight = false, capacity = 1_000)]
fn largest<T: Ord + Clone + Hash + Send + Sync + 'static>(items: Vec<T>) -> Option<T> {
    items.into_iter().max()
}
