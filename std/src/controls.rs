//! The three cache controls every memoized wrapper offers.

/// `cache_info`, `cache_clear` and `cache_parameters` over `self.cache`: every memoized
/// wrapper offers the same three, plainly over a `MemoStore`, awaited over an
/// `AsyncCache`.
macro_rules! cache_controls {
    (sync) => {
        /// Hits, misses, current size, evictions, expirations and errors.
        ///
        /// Counters belong to the cache: functions sharing a cache share its counters.
        pub fn cache_info(&self) -> jwm_cache_core::CacheInfo {
            self.cache.cache_info()
        }

        /// Empties the cache and resets its counters. On a shared cache this clears the
        /// shared namespace, as in the original, and so resets the counters every sharer
        /// sees. A failure is counted in the cache's errors.
        pub fn cache_clear(&self) {
            self.cache.cache_clear();
        }

        /// TTL, identifier, capacity, and the names of the backend, codec and clock.
        pub fn cache_parameters(&self) -> jwm_cache_core::Parameters {
            self.cache.cache_parameters()
        }
    };
    (async) => {
        /// Hits, misses, current size, evictions, expirations and errors.
        ///
        /// Counters belong to the cache: functions sharing a cache share its counters.
        pub async fn cache_info(&self) -> jwm_cache_core::CacheInfo {
            self.cache.info().await
        }

        /// Empties the cache and resets its counters. On a shared cache this clears the
        /// shared namespace and so resets the counters every sharer sees. A failure is
        /// counted in the cache's errors.
        pub async fn cache_clear(&self) {
            let _counted = self.cache.clear().await;
        }

        /// TTL, identifier, capacity, and the names of the backend, codec and clock.
        pub fn cache_parameters(&self) -> jwm_cache_core::Parameters {
            self.cache.parameters()
        }
    };
}
