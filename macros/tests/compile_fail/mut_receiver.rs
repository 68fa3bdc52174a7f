struct Counter(u64);

impl Counter {
    #[jwm_cache::ttl_cache]
    fn bump(&mut self) -> u64 {
        self.0 += 1;
        self.0
    }
}

fn main() {}
