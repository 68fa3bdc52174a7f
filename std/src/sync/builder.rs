//! Configuring a [`SyncCache`].

use jwm_cache_core::{
    Backend, Identity, NoListener, Options, RemovalCause, Serializer, SharedHasher, UnitWeight,
    Weigher,
};

use super::SyncCache;
use crate::clock::SystemClock;
use crate::departures::{Listener, ListenerSetting};
use crate::shards::{self, ShardStore};

/// Configures a [`SyncCache`]: TTL, identifier, capacity, codec, clock, shards and
/// single-flight, all held in one [`Options`] value; and for the in-memory stores a
/// [`weigher`](Self::weigher) and an [`eviction_listener`](Self::eviction_listener).
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
pub struct SyncCacheBuilder<S = Identity, C = SystemClock, W = UnitWeight, L = NoListener> {
    options: Options<S, C>,
    weigher: W,
    listener: L,
}

impl SyncCacheBuilder {
    /// Defaults: 60 s TTL, unbounded, [`Identity`], [`SystemClock`], single-flight on,
    /// and 16 shards per available core (rounded to a power of two, at most 256): with
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
        SyncCacheBuilder {
            options,
            weigher: UnitWeight,
            listener: NoListener,
        }
    }

    /// A cache whose shards each get a backend from `backend`, which learns the cache's
    /// identifier. Each backend bounds itself; the capacity only caps the shard count
    /// (at least 1024 entries each). A weigher, a listener and a time-to-idle are the
    /// backend's own parts here, so this is offered only on a builder given neither of
    /// the first two, and the builder's `time_to_idle` is not used (with `refresh_after`
    /// or `stale_if_error`, the backend's own is turned off: see
    /// [`Backend::keep_deadlines_as_written`]).
    pub fn build_with_backend<K, V, B>(
        self,
        mut backend: impl FnMut() -> B,
    ) -> SyncCache<K, V, B, S, C>
    where
        S: Serializer<V> + Clone,
        B: Backend<K, S::Encoded>,
        C: Clone,
    {
        let options = self.options;
        let identifier = String::from(options.identifier_or_default());
        let window = options.stale_if_error;
        let as_written = options.reads_ttl_from_deadlines();
        let named = move || {
            let mut backend = backend();
            backend.use_identifier(&identifier);
            backend.keep_stale_for(window);
            if as_written {
                backend.keep_deadlines_as_written();
            }
            backend
        };
        SyncCache::from_options(options, named)
    }
}

impl<S, C, W, L> SyncCacheBuilder<S, C, W, L> {
    /// The options configured so far.
    pub fn options(&self) -> &Options<S, C> {
        &self.options
    }

    fn with_options<S2, C2>(
        self,
        f: impl FnOnce(Options<S, C>) -> Options<S2, C2>,
    ) -> SyncCacheBuilder<S2, C2, W, L> {
        SyncCacheBuilder {
            options: f(self.options),
            weigher: self.weigher,
            listener: self.listener,
        }
    }

    jwm_cache_core::option_setters!(
        SyncCacheBuilder[][, W, L]; all
    );

    /// Weighs each entry, so that [`capacity`](Self::capacity) bounds the total weight
    /// (bytes, say) instead of the count. Any `Fn(&K, &E) -> u32` (or another integer
    /// type) is a weigher, where `E` is what the store holds: the value itself with the
    /// default codec, its bytes with another. An entry heavier than the whole capacity
    /// is not stored; the call that computed it still returns it.
    ///
    /// ```
    /// use jwm_cache::SyncCache;
    ///
    /// let pages = SyncCache::builder()
    ///     .capacity(1_000)
    ///     .weigher(|_: &u32, page: &String| page.len() as u32)
    ///     .build::<u32, String>();
    /// pages.insert(1, "x".repeat(600)).unwrap();
    /// pages.insert(2, "x".repeat(600)).unwrap(); // over 1,000 bytes: one goes
    /// pages.insert(3, "x".repeat(2_000)).unwrap(); // never fits
    /// assert_eq!(pages.weighted_size(), 600);
    /// assert_eq!(pages.get(&3).unwrap(), None);
    /// ```
    pub fn weigher<W2>(self, weigher: W2) -> SyncCacheBuilder<S, C, W2, L> {
        SyncCacheBuilder {
            options: self.options,
            weigher,
            listener: self.listener,
        }
    }

    /// Tells `listener` about every entry that leaves the cache, with its key, its
    /// stored value and why it left: expired, evicted, removed, replaced, cleared, or
    /// rejected as heavier than the capacity.
    ///
    /// The listener runs after the call that removed the entry has released the
    /// cache's locks, so it may use the cache. One thread at a time tells it, in the
    /// order the removals happened: the removing thread, or, while another is telling,
    /// that one, which takes over what others recorded. So removals queue without bound
    /// behind a listener slower than they come (as behind Caffeine's removal listener):
    /// hand slow work to a bounded channel of your own. An expired entry is reported when
    /// the cache reclaims it, never before its deadline: when a write's bounded
    /// reclaiming reaches it, a read finds it, or [`info`](super::SyncCache::info)
    /// (which reclaims every due entry) runs. Call `info` on a timer to bound how late
    /// an idle cache reports an expiry.
    ///
    /// ```
    /// use std::sync::{Arc, Mutex};
    /// use jwm_cache::{SyncCache, memory::RemovalCause};
    ///
    /// let evicted = Arc::new(Mutex::new(Vec::new()));
    /// let log = Arc::clone(&evicted);
    /// let cache = SyncCache::builder()
    ///     .capacity(2)
    ///     .eviction_listener(move |key: u32, _value: String, cause| {
    ///         log.lock().unwrap().push((key, cause));
    ///     })
    ///     .build::<u32, String>();
    /// for key in 0..3 {
    ///     cache.insert(key, key.to_string()).unwrap();
    /// }
    /// // Which of the first two went is the policy's choice; the newest stays.
    /// let evicted = evicted.lock().unwrap();
    /// assert_eq!(evicted.len(), 1);
    /// assert!(evicted[0].0 < 2 && evicted[0].1 == RemovalCause::Evicted);
    /// ```
    pub fn eviction_listener<K, E, F>(self, listener: F) -> SyncCacheBuilder<S, C, W, Listener<F>>
    where
        F: Fn(K, E, RemovalCause) + Send + Sync + 'static,
    {
        SyncCacheBuilder {
            options: self.options,
            weigher: self.weigher,
            listener: Listener(listener),
        }
    }

    /// A cache over in-memory shards that share the capacity.
    pub fn build<K, V>(self) -> SyncCache<K, V, ShardStore<K, S::Encoded, W, L::Part>, S, C>
    where
        S: Serializer<V> + Clone,
        C: Clone,
        W: Weigher<K, S::Encoded> + Clone,
        L: ListenerSetting<K, S::Encoded>,
    {
        let (part, notify) = self.listener.into_part();
        // The stores hash with the router's hasher, so a lookup hashes its key once.
        let router = SharedHasher::default();
        let backends = shards::memory_backends(&self.options, router.hasher(), self.weigher, part);
        SyncCache::routed(self.options, router, backends).notifying(notify)
    }
}
