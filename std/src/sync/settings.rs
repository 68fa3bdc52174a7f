//! What a `SyncCache` says of itself: its settings, its weight, and its controls, which
//! memoized functions forward to.

use std::hash::Hash;

use jwm_cache_core::{CacheInfo, Clock, Lookup, MemoryBackend, Parameters, Serializer, Ttl};

use super::SyncCache;
use crate::controls::CacheControls;
use crate::shards;

impl<K, V, B, S, C> SyncCache<K, V, B, S, C>
where
    K: Hash + Eq + Clone,
    V: Clone,
    S: Serializer<V>,
    B: Lookup<K, K, S::Encoded>,
    C: Clock,
{
    /// Hits, misses, live size and reclaim counts, summed over the shards.
    ///
    /// Each counter is exact; the shards are read one after another, so a snapshot
    /// taken while other threads run is not atomic across shards.
    ///
    /// ```
    /// use jwm_cache::SharedCache;
    ///
    /// let cache: SharedCache<u32, u32> = SharedCache::new();
    /// cache.insert(1, 1).unwrap();
    /// cache.get(&1).unwrap();
    /// cache.get(&2).unwrap();
    /// let info = cache.info();
    /// assert_eq!((info.hits, info.misses, info.current_size), (1, 1, 1));
    /// ```
    pub fn info(&self) -> CacheInfo {
        let now = self.clock.now();
        let info = self
            .shards
            .iter()
            .enumerate()
            .map(|(n, shard)| {
                // Shards that share one namespace count its entries once.
                if n > 0 && B::SEES_WHOLE_NAMESPACE {
                    shard.lock().cache.info_without_size()
                } else {
                    shard.lock().cache.info_at(now)
                }
            })
            .fold(CacheInfo::default(), |sum, shard| sum + shard);
        self.notify.deliver();
        info
    }

    /// [`info`](Self::info) without the size, which a backend that sees a server's
    /// whole namespace can only count by scanning it.
    pub(crate) fn info_without_size(&self) -> CacheInfo {
        let shards = self
            .shards
            .iter()
            .map(|s| s.lock().cache.info_without_size());
        shards.fold(CacheInfo::default(), |sum, shard| sum + shard)
    }

    /// TTL, identifier, total capacity, and the names of the backend, codec and clock.
    ///
    /// ```
    /// use jwm_cache::SyncCache;
    ///
    /// let cache = SyncCache::builder().capacity(10_000).build::<u32, u32>();
    /// assert_eq!(cache.parameters().capacity, Some(10_000));
    /// ```
    pub fn parameters(&self) -> Parameters {
        let mut parameters = self.shards[0].lock().cache.parameters();
        parameters.capacity = shards::total_capacity(
            self.shards
                .iter()
                .map(|shard| shard.lock().cache.parameters().capacity),
        );
        parameters
    }
}

impl<K, V, B, S, C> SyncCache<K, V, B, S, C> {
    /// The TTL of entries stored without one.
    pub fn ttl(&self) -> Ttl {
        self.ttl
    }

    /// How old an entry must be for a hit of
    /// [`try_get_or_refresh`](Self::try_get_or_refresh) to refresh it, if ever.
    pub fn refresh_after(&self) -> Option<Ttl> {
        self.refresh_after
    }

    /// The clock.
    pub fn clock(&self) -> &C {
        &self.clock
    }

    /// The number of shards.
    pub fn shard_count(&self) -> usize {
        self.shards.len()
    }

    /// Records a computation of `key` that took `took` (feature `metrics`), under the
    /// cache's identifier, copied out so that the recorder runs under none of our locks.
    #[cfg(feature = "metrics")]
    pub(crate) fn computation_took(&self, key: &K, took: std::time::Duration)
    where
        K: Hash,
    {
        let identifier = self.lock(key).cache.identifier().to_owned();
        crate::metrics::computation_took(&identifier, took);
    }

    /// How its misses are computed: whether single-flight (a sync engine takes no
    /// lease), and where they are kept (every shard's backend is built alike).
    pub(crate) fn computing<E>(&self) -> crate::memoize::Computing
    where
        B: jwm_cache_core::Backend<K, E>,
    {
        crate::memoize::Computing {
            single_flight: self.single_flight,
            lease: None,
            backend: self.shards[0].lock().cache.backend().settings(),
            shared: B::SEES_WHOLE_NAMESPACE,
        }
    }
}

impl<K, V, E, H, P, W, L, S, C> SyncCache<K, V, MemoryBackend<K, E, H, P, W, L>, S, C> {
    /// The total weight of the entries in memory, summed over the shards (a weight of
    /// 0 counting as 1): their count without a weigher. Entries that expired but were
    /// not reclaimed yet still count; [`info`](Self::info) reclaims them.
    ///
    /// ```
    /// use jwm_cache::SyncCache;
    ///
    /// let cache = SyncCache::builder()
    ///     .weigher(|_: &u8, value: &Vec<u8>| value.len())
    ///     .build::<u8, Vec<u8>>();
    /// cache.insert(1, vec![0; 40]).unwrap();
    /// assert_eq!(cache.weighted_size(), 40);
    /// ```
    pub fn weighted_size(&self) -> usize {
        shards::total_weight(
            self.shards
                .iter()
                .map(|shard| shard.lock().cache.backend().weight()),
        )
    }
}

impl<K, V, B, S, C> CacheControls for SyncCache<K, V, B, S, C>
where
    K: Hash + Eq + Clone,
    V: Clone,
    S: Serializer<V>,
    B: Lookup<K, K, S::Encoded>,
    C: Clock,
{
    fn cache_info(&self) -> CacheInfo {
        self.info()
    }

    fn cache_clear(&self) {
        let _counted = self.clear();
    }

    fn cache_parameters(&self) -> Parameters {
        self.parameters()
    }
}
