//! What the async cache says of itself: its counts and settings, and its controls
//! ([`AsyncCacheControls`]), which memoized functions and handles forward to.

use std::future::Future;
use std::hash::Hash;

use jwm_cache_core::{CacheInfo, Clock, Counters, Counts, Parameters, Serializer, Ttl};

use super::AsyncCache;
use crate::asynch::backend::AsyncLookup;
use crate::controls::AsyncCacheControls;

impl<K, V, B, S, C> AsyncCache<K, V, B, S, C>
where
    K: Hash + Eq + Clone + Send + Sync,
    V: Clone + Send + Sync,
    S: Serializer<V> + Sync,
    B: AsyncLookup<K, K, S::Encoded>,
    C: Clock + Sync,
{
    /// Hits, misses, live size and the backend's reclaim counts since the last clear,
    /// and every counter since the cache was built ([`CacheInfo::lifetime`]).
    ///
    /// Only the size asks the backend: [`counters`](Self::counters) reads the rest
    /// without `.await`.
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// let cache: jwm_cache::AsyncCache<u32, u32> = jwm_cache::AsyncCache::new();
    /// cache.insert(1, 1).await.unwrap();
    /// cache.get(&1).await.unwrap();
    /// cache.get(&2).await.unwrap();
    /// let info = cache.info().await;
    /// assert_eq!((info.hits, info.misses, info.current_size), (1, 1, 1));
    /// # });
    /// ```
    pub async fn info(&self) -> CacheInfo {
        let now = self.clock.now();
        let size = self.backend.len(now).await;
        self.counts.add(Counts::backend(&size));
        self.info_with_size(size.ok())
    }

    /// TTL, identifier, capacity, time-to-idle, and the names of the backend, codec and
    /// clock.
    pub fn parameters(&self) -> Parameters {
        Parameters {
            time_to_idle: self.backend.time_to_idle(),
            ..self
                .policy
                .parameters::<V>(self.backend.capacity(), B::NAME, C::NAME)
        }
    }
}

impl<K, V, B, S, C> AsyncCache<K, V, B, S, C> {
    /// How old an entry must be for a memoized hit to refresh it, if ever.
    pub fn refresh_after(&self) -> Option<Ttl> {
        self.policy.freshening().refresh_after()
    }

    /// The TTL of entries stored without one.
    pub fn ttl(&self) -> Ttl {
        self.policy.ttl()
    }

    /// The clock.
    pub fn clock(&self) -> &C {
        &self.clock
    }

    /// The backend.
    pub fn backend(&self) -> &B {
        &self.backend
    }

    /// The identifier, for what is recorded of its computations (feature `metrics`).
    #[cfg(feature = "metrics")]
    pub(crate) fn identifier(&self) -> &str {
        self.policy.identifier()
    }
}

impl<K, V, B, S, C> AsyncCacheControls for AsyncCache<K, V, B, S, C>
where
    K: Hash + Eq + Clone + Send + Sync,
    V: Clone + Send + Sync,
    S: Serializer<V> + Sync,
    B: AsyncLookup<K, K, S::Encoded>,
    C: Clock + Sync,
{
    fn cache_info(&self) -> impl Future<Output = CacheInfo> + Send {
        self.info()
    }

    fn cache_counters(&self) -> Counters {
        self.counters()
    }

    async fn cache_clear(&self) {
        let _counted = self.clear().await;
    }

    fn cache_parameters(&self) -> Parameters {
        self.parameters()
    }
}
