//! `FnCache`: the cache behind a `#[ttl_cache]` function, as a static.

use std::sync::{Arc, LazyLock};

use jwm_cache_core::{CacheInfo, Parameters};

use super::{MemoStore, registry};

/// The cache of a `#[ttl_cache]` function: a static named after the function in upper
/// case (`fib` → `FIB`), with the function's visibility, built on first use.
///
/// ```
/// use jwm_cache::ttl_cache;
///
/// #[ttl_cache(ttl = "30s")]
/// fn square(n: u64) -> u64 {
///     n * n
/// }
///
/// assert_eq!((square(12), square(12)), (144, 144));
/// let info = SQUARE.cache_info();
/// assert_eq!((info.hits, info.misses, info.current_size), (1, 1, 1));
/// SQUARE.cache_clear();
/// assert_eq!(SQUARE.cache_info().current_size, 0);
/// ```
pub struct FnCache<M: 'static> {
    cache: LazyLock<Arc<M>>,
}

impl<M> FnCache<M> {
    /// A cache that `init` builds on first use.
    pub const fn new(init: fn() -> Arc<M>) -> Self {
        FnCache {
            cache: LazyLock::new(init),
        }
    }

    /// The cache itself.
    pub fn cache(&self) -> &Arc<M> {
        &self.cache
    }

    /// The cache registered under `identifier` in this process, or a new one from
    /// `make`: functions under one identifier (with the same types) share one cache.
    #[doc(hidden)]
    pub fn shared(identifier: &str, make: impl FnOnce() -> M) -> Arc<M>
    where
        M: Send + Sync + 'static,
    {
        registry::shared(identifier, make)
    }
}

impl<M: MemoStore> FnCache<M> {
    /// Hits, misses, current size, evictions, expirations and errors.
    pub fn cache_info(&self) -> CacheInfo {
        self.cache.cache_info()
    }

    /// Empties the cache and resets its counters.
    pub fn cache_clear(&self) {
        self.cache.cache_clear();
    }

    /// TTL, identifier, capacity, and the names of the backend, codec and clock.
    pub fn cache_parameters(&self) -> Parameters {
        self.cache.cache_parameters()
    }
}

#[cfg(feature = "async")]
impl<K, V, B, S, C> FnCache<crate::AsyncCache<K, V, B, S, C>>
where
    K: std::hash::Hash + Eq + Clone + Send + Sync,
    V: Clone + Send + Sync,
    S: jwm_cache_core::Serializer<V> + Sync,
    B: crate::AsyncBackend<K, S::Encoded>,
    C: jwm_cache_core::Clock + Sync,
{
    /// Hits, misses, current size, evictions, expirations and errors (for an async
    /// function's cache, awaited).
    pub async fn cache_info(&self) -> CacheInfo {
        self.cache.info().await
    }

    /// Empties the cache and resets its counters; a failure is counted in its errors.
    pub async fn cache_clear(&self) {
        let _counted = self.cache.clear().await;
    }

    /// TTL, identifier, capacity, and the names of the backend, codec and clock.
    pub fn cache_parameters(&self) -> Parameters {
        self.cache.parameters()
    }
}
