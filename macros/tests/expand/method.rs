impl Shape {
    #[ttl_cache(ttl = "250ms", key = |shape: &Shape| shape.id, cache_none = false)]
    pub fn area(&self, scale: u64) -> Option<u64> {
        Some(self.side * self.side * scale)
    }
}
