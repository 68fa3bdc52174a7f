// A generic function keeps one cache per instantiation: no test-owned cache to give.
#[jwm_cache::ttl_cache(clock = scoped)]
fn largest<T: Ord + Clone + std::hash::Hash + Send + Sync + 'static>(items: Vec<T>) -> Option<T> {
    items.into_iter().max()
}

fn main() {}
