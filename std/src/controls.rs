//! The three cache controls every memoized wrapper offers.

/// `cache_info`, `cache_clear` and `cache_parameters` over `self.cache`: every memoized
/// wrapper offers the same three, plainly over a `MemoStore`, awaited over an
/// `AsyncCache`. With `own_ttl`, the wrapper's `ttl: Option<Ttl>` field is the TTL it
/// reports, since functions sharing a cache keep their own TTLs.
macro_rules! cache_controls {
    (sync $(, $own_ttl:ident)?) => {
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

        /// TTL (this function's own), identifier, capacity, and the names of the
        /// backend, codec and clock.
        pub fn cache_parameters(&self) -> jwm_cache_core::Parameters {
            #[allow(unused_mut)]
            let mut parameters = self.cache.cache_parameters();
            $(cache_controls!(@$own_ttl self, parameters);)?
            parameters
        }
    };
    (async $(, $own_ttl:ident)?) => {
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

        /// TTL (this function's own), identifier, capacity, and the names of the
        /// backend, codec and clock.
        pub fn cache_parameters(&self) -> jwm_cache_core::Parameters {
            #[allow(unused_mut)]
            let mut parameters = self.cache.parameters();
            $(cache_controls!(@$own_ttl self, parameters);)?
            parameters
        }
    };
    (@own_ttl $this:ident, $parameters:ident) => {
        if let Some(ttl) = $this.ttl {
            $parameters.ttl = ttl;
        }
    };
}
