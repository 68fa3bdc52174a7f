// Options are read once, on the first call: one that reads the receiver or an
// argument would give every later call the first call's.
struct Client {
    url: String,
}

impl Client {
    #[jwm_cache::ttl_cache(backend = redis(url = self.url.as_str()))]
    async fn fetch(&self, id: u64) -> u64 {
        id
    }
}

#[jwm_cache::ttl_cache(capacity = limit as usize)]
fn bounded<T: Clone + Send + Sync + 'static>(limit: u64, value: T) -> T {
    value
}

fn main() {}
