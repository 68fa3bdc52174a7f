//! Configuring a [`SyncCache`].

use jwm_cache_core::{Backend, Identity, MemoryBackend, Options, Serializer};

use super::SyncCache;
use crate::clock::SystemClock;
use crate::shards;

/// Configures a [`SyncCache`]: TTL, identifier, capacity, codec, clock, shards and
/// single-flight, all held in one [`Options`] value.
///
/// ```
/// use std::time::Duration;
/// use jwm_cache::{SyncCacheBuilder, codec::Postcard};
///
/// let cache = SyncCacheBuilder::new()
///     .ttl(Duration::from_secs(30))
///     .capacity(100_000)
///     .serializer(Postcard)
///     .build::<String, Vec<u32>>();
/// cache.insert("k".into(), vec![1, 2]).unwrap();
/// assert_eq!(cache.get("k").unwrap(), Some(vec![1, 2]));
/// ```
#[derive(Clone, Debug)]
pub struct SyncCacheBuilder<S = Identity, C = SystemClock> {
    options: Options<S, C>,
}

impl SyncCacheBuilder {
    /// Defaults: 60 s TTL, unbounded, [`Identity`], [`SystemClock`], single-flight on,
    /// and 32 shards per available core (rounded to a power of two, at most 256): with
    /// fewer, two threads collide on a lock often enough to show (BENCHMARKS.md). An
    /// empty shard costs a few hundred bytes.
    pub fn new() -> Self {
        Self::from_options(Options::new(SystemClock))
    }
}

impl Default for SyncCacheBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl<S, C> SyncCacheBuilder<S, C> {
    /// A builder that starts from `options`.
    pub fn from_options(options: Options<S, C>) -> Self {
        SyncCacheBuilder { options }
    }

    /// The options configured so far.
    pub fn options(&self) -> &Options<S, C> {
        &self.options
    }

    fn with_options<S2, C2>(
        self,
        f: impl FnOnce(Options<S, C>) -> Options<S2, C2>,
    ) -> SyncCacheBuilder<S2, C2> {
        SyncCacheBuilder::from_options(f(self.options))
    }

    jwm_cache_core::option_setters!(
        SyncCacheBuilder[]; all
    );

    /// A cache over in-memory shards, splitting the capacity among them.
    pub fn build<K, V>(self) -> SyncCache<K, V, MemoryBackend<K, S::Encoded>, S, C>
    where
        S: Serializer<V> + Clone,
        C: Clone,
    {
        let backends = shards::memory_backends(&self.options);
        SyncCache::from_options(self.options, backends)
    }

    /// A cache whose shards each get a backend from `backend`, which learns the cache's
    /// identifier. Each backend bounds itself; the capacity only caps the shard count
    /// (at least 1024 entries each).
    pub fn build_with_backend<K, V, B>(
        self,
        mut backend: impl FnMut() -> B,
    ) -> SyncCache<K, V, B, S, C>
    where
        S: Serializer<V> + Clone,
        B: Backend<K, S::Encoded>,
        C: Clone,
    {
        let identifier = String::from(self.options.identifier_or_default());
        let named = move || {
            let mut backend = backend();
            backend.use_identifier(&identifier);
            backend
        };
        SyncCache::from_options(self.options, named)
    }
}
