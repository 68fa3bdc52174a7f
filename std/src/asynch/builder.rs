//! Configuring an [`AsyncCache`].

use jwm_cache_core::{Identity, MemoryBackend, Options, Serializer};

use super::backend::AsyncBackend;
use super::cache::AsyncCache;
use super::sharded::Sharded;
use crate::clock::SystemClock;
use crate::shards;

/// Configures an [`AsyncCache`]: TTL, identifier, capacity, codec, clock, shards and
/// single-flight, all held in one [`Options`] value.
///
/// ```
/// use std::time::Duration;
/// use jwm_cache::AsyncCacheBuilder;
///
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let cache = AsyncCacheBuilder::new()
///     .ttl(Duration::from_secs(30))
///     .capacity(100_000)
///     .build::<u64, String>();
/// cache.insert(1, "one".into()).await.unwrap();
/// assert_eq!(cache.get(&1).await.unwrap().as_deref(), Some("one"));
/// # });
/// ```
#[derive(Clone, Debug)]
pub struct AsyncCacheBuilder<S = Identity, C = SystemClock> {
    options: Options<S, C>,
}

impl AsyncCacheBuilder {
    /// The defaults of [`SyncCacheBuilder::new`](crate::sync::SyncCacheBuilder::new):
    /// 60 s TTL, unbounded, [`Identity`], [`SystemClock`], single-flight on, and in
    /// memory as many shards.
    pub fn new() -> Self {
        Self::from_options(Options::new(SystemClock))
    }
}

impl Default for AsyncCacheBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl<S, C> AsyncCacheBuilder<S, C> {
    /// A builder that starts from `options`.
    pub fn from_options(options: Options<S, C>) -> Self {
        AsyncCacheBuilder { options }
    }

    /// The options configured so far.
    pub fn options(&self) -> &Options<S, C> {
        &self.options
    }

    fn with_options<S2, C2>(
        self,
        f: impl FnOnce(Options<S, C>) -> Options<S2, C2>,
    ) -> AsyncCacheBuilder<S2, C2> {
        AsyncCacheBuilder::from_options(f(self.options))
    }

    jwm_cache_core::option_setters!(
        AsyncCacheBuilder[]; all
    );

    /// A cache over in-memory [`Sharded`] backends, splitting the capacity among them.
    pub fn build<K, V>(self) -> AsyncCache<K, V, Sharded<MemoryBackend<K, S::Encoded>>, S, C>
    where
        S: Serializer<V>,
    {
        let shards = Sharded::new(
            shards::shard_count(&self.options),
            shards::memory_backends(&self.options),
        );
        AsyncCache::from_options(self.options, shards)
    }

    /// A cache over `backend`, which learns the cache's identifier (see
    /// [`AsyncBackend::use_identifier`]). Capacity and shards are the backend's business
    /// here.
    pub fn build_with_backend<K, V, B>(self, mut backend: B) -> AsyncCache<K, V, B, S, C>
    where
        S: Serializer<V>,
        B: AsyncBackend<K, S::Encoded>,
    {
        backend.use_identifier(self.options.identifier_or_default());
        AsyncCache::from_options(self.options, backend)
    }
}
