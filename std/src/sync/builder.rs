//! Configuring a [`SyncCache`].

use std::sync::Mutex;
use std::thread;

use jwm_cache_core::{Backend, Cache, CacheBuilder, Identity, MemoryBackend, Serializer, Ttl};

use super::{Shard, SyncCache};
use crate::SystemClock;

/// Shards hold at least this many entries each when a capacity is set, so per-shard
/// eviction stays close to whole-cache eviction.
const MIN_ENTRIES_PER_SHARD: usize = 1024;

/// Configures a [`SyncCache`]: TTL, identifier, capacity, codec, clock, shards and
/// single-flight.
///
/// ```
/// use std::time::Duration;
/// use jwm_cache::{SyncCacheBuilder, Postcard};
///
/// let cache = SyncCacheBuilder::new()
///     .ttl(Duration::from_secs(30))
///     .capacity(100_000)
///     .serializer(Postcard)
///     .build::<String, Vec<u32>>();
/// cache.insert("k".into(), vec![1, 2]).unwrap();
/// assert_eq!(cache.get(&"k".into()).unwrap(), Some(vec![1, 2]));
/// ```
#[derive(Clone, Debug)]
pub struct SyncCacheBuilder<S = Identity, C = SystemClock> {
    /// What every shard's engine is built from: TTL, identifier, codec and clock.
    core: CacheBuilder<S, C>,
    capacity: Option<usize>,
    shards: Option<usize>,
    single_flight: bool,
}

impl SyncCacheBuilder {
    /// Defaults: 60 s TTL, unbounded, [`Identity`], [`SystemClock`], single-flight on,
    /// and 32 shards per available core (rounded to a power of two, at most 256): with
    /// fewer, two threads collide on a lock often enough to show (BENCHMARKS.md). An
    /// empty shard costs a few hundred bytes.
    pub fn new() -> Self {
        SyncCacheBuilder {
            core: CacheBuilder::new(SystemClock),
            capacity: None,
            shards: None,
            single_flight: true,
        }
    }
}

impl Default for SyncCacheBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl<S, C> SyncCacheBuilder<S, C> {
    /// The TTL of entries stored without one.
    pub fn ttl(mut self, ttl: impl Into<Ttl>) -> Self {
        self.core = self.core.ttl(ttl);
        self
    }

    /// The namespace of the cache's entries.
    pub fn identifier(mut self, identifier: impl Into<String>) -> Self {
        self.core = self.core.identifier(identifier);
        self
    }

    /// The most entries the cache holds. It is split across shards, each evicting by
    /// SIEVE on its own; small capacities use fewer shards (at least 1024 entries each).
    pub fn capacity(mut self, capacity: usize) -> Self {
        self.capacity = Some(capacity);
        self
    }

    /// The number of shards, rounded up to a power of two and kept within 1..=4096.
    /// Each is one lock.
    pub fn shards(mut self, shards: usize) -> Self {
        self.shards = Some(shards.clamp(1, 4096).next_power_of_two());
        self
    }

    /// Whether concurrent misses on one key run the computation once (the default) or
    /// once per caller.
    pub fn single_flight(mut self, on: bool) -> Self {
        self.single_flight = on;
        self
    }

    /// The codec.
    pub fn serializer<S2>(self, serializer: S2) -> SyncCacheBuilder<S2, C> {
        self.map_serializer(|_| serializer)
    }

    /// The codec, replaced by `f` of the current one: for a wrapper such as
    /// [`Stamped`](jwm_cache_core::Stamped).
    pub fn map_serializer<S2>(self, f: impl FnOnce(S) -> S2) -> SyncCacheBuilder<S2, C> {
        SyncCacheBuilder {
            core: self.core.map_serializer(f),
            capacity: self.capacity,
            shards: self.shards,
            single_flight: self.single_flight,
        }
    }

    /// The clock.
    pub fn clock<C2>(self, clock: C2) -> SyncCacheBuilder<S, C2> {
        SyncCacheBuilder {
            core: self.core.clock(clock),
            capacity: self.capacity,
            shards: self.shards,
            single_flight: self.single_flight,
        }
    }

    /// The TTL configured so far.
    pub(crate) fn configured_ttl(&self) -> Ttl {
        self.core.configured_ttl()
    }

    fn shard_count(&self) -> usize {
        let default = || {
            let cores = thread::available_parallelism().map_or(1, usize::from);
            (cores * 32).next_power_of_two().min(256)
        };
        let wanted = self.shards.unwrap_or_else(default);
        match self.capacity {
            Some(capacity) => {
                let most = (capacity / MIN_ENTRIES_PER_SHARD).max(1);
                // Largest power of two within both limits.
                let most = 1 << (usize::BITS - 1 - most.leading_zeros());
                wanted.min(most)
            }
            None => wanted,
        }
    }

    /// A cache over in-memory shards.
    pub fn build<K, V>(self) -> SyncCache<K, V, MemoryBackend<K, S::Encoded>, S, C>
    where
        S: Serializer<V> + Clone,
        C: Clone,
    {
        let mut backends = self.memory_backends();
        // The memory backend keeps no namespace, so it is not named.
        let engines = (0..self.shard_count())
            .map(|_| self.core.clone().build_over(backends()))
            .collect();
        self.assemble(engines)
    }

    /// One in-memory backend per shard, splitting the capacity exactly: the first
    /// `capacity % shards` shards take one more entry.
    fn memory_backends<K, E>(&self) -> impl FnMut() -> MemoryBackend<K, E> + use<K, E, S, C> {
        let (shards, capacity) = (self.shard_count(), self.capacity);
        let mut index = 0;
        move || {
            let backend = match capacity {
                Some(c) => {
                    MemoryBackend::with_capacity(c / shards + usize::from(index < c % shards))
                }
                None => MemoryBackend::new(),
            };
            index += 1;
            backend
        }
    }

    /// A cache whose shards each get a backend from `backend`.
    pub fn build_with_backend<K, V, B>(
        self,
        mut backend: impl FnMut() -> B,
    ) -> SyncCache<K, V, B, S, C>
    where
        S: Serializer<V> + Clone,
        B: Backend<K, S::Encoded>,
        C: Clone,
    {
        let engines = (0..self.shard_count())
            .map(|_| self.core.clone().build_with_backend(backend()))
            .collect();
        self.assemble(engines)
    }

    /// The thread-safe cache over one engine per shard.
    fn assemble<K, V, B>(self, engines: Vec<Cache<K, V, B, S, C>>) -> SyncCache<K, V, B, S, C>
    where
        C: Clone,
    {
        // Every engine was built from the same options; the first speaks for all.
        let (ttl, clock) = (engines[0].ttl(), engines[0].clock().clone());
        SyncCache {
            shards: engines
                .into_iter()
                .map(|cache| {
                    Mutex::new(Shard {
                        cache,
                        flights: Default::default(),
                    })
                })
                .collect(),
            router: Default::default(),
            clock,
            ttl,
            single_flight: self.single_flight,
        }
    }

    /// An [`AsyncCache`](crate::AsyncCache) over in-memory shards, with the same options.
    #[cfg(feature = "async")]
    #[cfg_attr(docsrs, doc(cfg(feature = "async")))]
    pub fn build_async<K, V>(
        self,
    ) -> crate::AsyncCache<K, V, crate::Sharded<MemoryBackend<K, S::Encoded>>, S, C>
    where
        S: Serializer<V>,
    {
        let shards = crate::Sharded::new(self.shard_count(), self.memory_backends());
        self.assemble_async(shards)
    }

    /// An [`AsyncCache`](crate::AsyncCache) over `backend`, which learns the cache's
    /// identifier (see [`AsyncBackend::use_identifier`](crate::AsyncBackend::use_identifier)).
    /// Capacity and shard options are the backend's business and are not applied.
    #[cfg(feature = "async")]
    #[cfg_attr(docsrs, doc(cfg(feature = "async")))]
    pub fn build_async_with_backend<K, V, B>(
        self,
        mut backend: B,
    ) -> crate::AsyncCache<K, V, B, S, C>
    where
        S: Serializer<V>,
        B: crate::AsyncBackend<K, S::Encoded>,
    {
        backend.use_identifier(self.core.configured_identifier());
        self.assemble_async(backend)
    }

    #[cfg(feature = "async")]
    fn assemble_async<K, V, B>(self, backend: B) -> crate::AsyncCache<K, V, B, S, C> {
        let (policy, clock) = self.core.into_policy_and_clock();
        crate::AsyncCache {
            backend,
            policy,
            clock,
            counts: Default::default(),
            flights: Default::default(),
            writes: Default::default(),
            single_flight: self.single_flight,
        }
    }
}
