//! Configuring an [`AsyncCache`].

use jwm_cache_core::{
    Clock, Identity, NoListener, Options, RemovalCause, Serializer, UnitWeight, Weigher,
};

use super::backend::AsyncBackend;
use super::cache::AsyncCache;
use super::sharded::Sharded;
use crate::clock::SystemClock;
use crate::departures::{Listener, ListenerSetting};
use crate::shards::{self, ShardStore};

/// Configures an [`AsyncCache`]: TTL, identifier, capacity, codec, clock, shards and
/// single-flight, all held in one [`Options`] value; and for the in-memory stores a
/// [`weigher`](Self::weigher) and an [`eviction_listener`](Self::eviction_listener).
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
pub struct AsyncCacheBuilder<S = Identity, C = SystemClock, W = UnitWeight, L = NoListener> {
    options: Options<S, C>,
    weigher: W,
    listener: L,
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
        AsyncCacheBuilder {
            options,
            weigher: UnitWeight,
            listener: NoListener,
        }
    }

    /// A cache over `backend`, which learns the cache's identifier (see
    /// [`AsyncBackend::use_identifier`]). Capacity and shards are the backend's business
    /// here, as are a weigher, a listener and a time-to-idle: this is offered only on a
    /// builder given neither of the first two, and its `time_to_idle` is not used.
    pub fn build_with_backend<K, V, B>(self, mut backend: B) -> AsyncCache<K, V, B, S, C>
    where
        S: Serializer<V>,
        B: AsyncBackend<K, S::Encoded>,
        C: Clock,
    {
        backend.use_identifier(self.options.identifier_or_default());
        backend.now_is_system_time(C::READS_SYSTEM_TIME);
        backend.keep_stale_for(self.options.stale_if_error);
        if self.options.reads_ttl_from_deadlines() {
            backend.keep_deadlines_as_written();
        }
        if let Some(lease) = self.options.lease {
            backend.use_lease(lease);
        }
        AsyncCache::from_options(self.options, backend)
    }
}

impl<S, C, W, L> AsyncCacheBuilder<S, C, W, L> {
    /// The options configured so far.
    pub fn options(&self) -> &Options<S, C> {
        &self.options
    }

    fn with_options<S2, C2>(
        self,
        f: impl FnOnce(Options<S, C>) -> Options<S2, C2>,
    ) -> AsyncCacheBuilder<S2, C2, W, L> {
        AsyncCacheBuilder {
            options: f(self.options),
            weigher: self.weigher,
            listener: self.listener,
        }
    }

    jwm_cache_core::option_setters!(
        AsyncCacheBuilder[][, W, L]; all
    );

    /// Weighs each entry, so that the capacity bounds the total weight: as
    /// [`SyncCacheBuilder::weigher`](crate::sync::SyncCacheBuilder::weigher).
    ///
    /// ```
    /// use jwm_cache::AsyncCacheBuilder;
    ///
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// let blobs = AsyncCacheBuilder::new()
    ///     .capacity(1 << 20)
    ///     .weigher(|_: &u64, blob: &Vec<u8>| blob.len() as u32)
    ///     .build::<u64, Vec<u8>>();
    /// blobs.insert(1, vec![0; 1 << 21]).await.unwrap(); // heavier than the capacity
    /// assert_eq!(blobs.get(&1).await.unwrap(), None);
    /// # });
    /// ```
    pub fn weigher<W2>(self, weigher: W2) -> AsyncCacheBuilder<S, C, W2, L> {
        AsyncCacheBuilder {
            options: self.options,
            weigher,
            listener: self.listener,
        }
    }

    /// Tells `listener` about every entry that leaves the cache, after the in-memory
    /// shard's lock is released: as
    /// [`SyncCacheBuilder::eviction_listener`](crate::sync::SyncCacheBuilder::eviction_listener).
    /// It runs inline in the task whose call removed the entry, so it should not block.
    ///
    /// ```
    /// use std::sync::atomic::{AtomicUsize, Ordering};
    /// use std::sync::Arc;
    /// use jwm_cache::{AsyncCacheBuilder, memory::RemovalCause};
    ///
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// let removed = Arc::new(AtomicUsize::new(0));
    /// let count = Arc::clone(&removed);
    /// let cache = AsyncCacheBuilder::new()
    ///     .eviction_listener(move |_: u8, _: u8, cause| {
    ///         assert_eq!(cause, RemovalCause::Removed);
    ///         count.fetch_add(1, Ordering::Relaxed);
    ///     })
    ///     .build::<u8, u8>();
    /// cache.insert(1, 1).await.unwrap();
    /// cache.remove(&1).await.unwrap();
    /// assert_eq!(removed.load(Ordering::Relaxed), 1);
    /// # });
    /// ```
    pub fn eviction_listener<K, E, F>(self, listener: F) -> AsyncCacheBuilder<S, C, W, Listener<F>>
    where
        F: Fn(K, E, RemovalCause) + Send + Sync + 'static,
    {
        AsyncCacheBuilder {
            options: self.options,
            weigher: self.weigher,
            listener: Listener(listener),
        }
    }

    /// A cache over in-memory [`Sharded`] backends that share the capacity.
    pub fn build<K, V>(
        self,
    ) -> AsyncCache<K, V, Sharded<ShardStore<K, S::Encoded, W, L::Part>>, S, C>
    where
        S: Serializer<V>,
        W: Weigher<K, S::Encoded> + Clone,
        L: ListenerSetting<K, S::Encoded>,
    {
        let (part, notify) = self.listener.into_part();
        let shards = Sharded::new(
            shards::shard_count(&self.options),
            // Its own hasher: `Sharded` routes by bits the stores' tables use.
            shards::memory_backends(&self.options, &Default::default(), self.weigher, part),
        )
        .notifying(notify);
        AsyncCache::from_options(self.options, shards)
    }
}
