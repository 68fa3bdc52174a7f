//! The thread-safe cache: sharded locks over the core engine.

mod builder;
mod get_or_insert;
mod refresh;
mod route;
mod settings;

use std::borrow::Borrow;
use std::hash::Hash;
use std::sync::Arc;

use foldhash::fast::RandomState;
use jwm_cache_core::{
    Cache, CacheError, Clock, Identity, Lookup, MemoryBackend, Options, Serializer, SharedHasher,
    Ttl,
};

pub use builder::SyncCacheBuilder;

use crate::backoffs::Backoffs;
use crate::clock::SystemClock;
use crate::departures::Notify;
use crate::flight::{Flight, FlightTable, Flights};
use crate::shard_lock::ShardLock;
use crate::shards;

/// A thread-safe TTL cache: `&self` operations, `Send + Sync`, for many threads at once.
///
/// Keys are spread over shards, each a `Mutex` around one core [`Cache`], the same
/// engine as the single-threaded cache (never a copy of it). Counters live in the
/// shards, under their locks, so they stay exact under contention; [`info`] sums them.
/// The clock is read once per call, before any lock is taken, and once more after a
/// miss's computation: a value computed slower than its TTL (and stale window) would
/// expire on arrival, and is returned but not stored.
///
/// [`get_or_insert_with`](SyncCache::get_or_insert_with) is **single-flight** by
/// default: when several threads miss on the same key at once, the function runs once
/// and the others wait for its value (freshly computed during their call, so it is
/// handed over even if the TTL is shorter than the computation). If it returns `Err`,
/// the waiters get that error (one whose type cannot be shared makes one waiter take
/// over); if it panics, one waiter takes over. Nobody hangs, and errors are never
/// cached.
/// The function always runs without any lock held, so it may itself use the cache, recursion included (a computation
/// that asks for its own key runs that inner call alone). `clear` and `remove`
/// detach computations in flight, single-flight or not: their result still reaches
/// their callers but is not stored.
///
/// A `SyncCache` is cheap to clone, and clones share everything: keep one in
/// application state and clone it into each thread.
///
/// [`info`]: SyncCache::info
///
/// ```
/// use std::sync::Arc;
/// use std::thread;
/// use jwm_cache::SyncCache;
///
/// let cache: Arc<SyncCache<u64, u64>> = Arc::new(SyncCache::new());
/// let workers: Vec<_> = (0..4)
///     .map(|_| {
///         let cache = Arc::clone(&cache);
///         thread::spawn(move || cache.get_or_insert_with(7, || 49))
///     })
///     .collect();
/// for worker in workers {
///     assert_eq!(worker.join().unwrap(), 49);
/// }
/// let info = cache.info();
/// // One computation; the other calls hit, or waited for it.
/// assert_eq!(info.misses, 1);
/// assert_eq!(info.hits + info.coalesced, 3);
/// ```
pub struct SyncCache<K, V, B = MemoryBackend<K, V>, S = Identity, C = SystemClock> {
    shards: Arc<[ShardLock<Shard<K, V, B, S, C>>]>,
    router: SharedHasher<RandomState>,
    clock: C,
    ttl: Ttl,
    /// How old an entry must be for a memoized hit to refresh it, if ever.
    refresh_after: Option<Ttl>,
    single_flight: bool,
    /// Tells the eviction listener, if any, what the shards' stores recorded.
    notify: Notify,
}

/// One lock's worth of the cache: the engine, whose first lines a hit reads right
/// after the lock byte, and the computations in flight.
#[repr(C)]
struct Shard<K, V, B, S, C> {
    cache: Cache<K, V, B, S, C>,
    flights: Flights<K, V>,
    /// Keys whose last refresh failed, by their hash: no refresh starts until their time.
    refresh_backoffs: Backoffs,
}

impl<K, V> SyncCache<K, V> {
    /// An unbounded in-memory cache with the defaults of [`SyncCacheBuilder::new`].
    pub fn new() -> Self
    where
        V: Clone,
    {
        SyncCacheBuilder::new().build()
    }
}

/// `builder()` names no key or value type (`build()` picks them, often from a `let`'s
/// annotation), so it is defined once, on the unit types, for inference to find. Hence
/// `SyncCache::builder()`, never `SyncCache::<K, V>::builder()`.
impl SyncCache<(), ()> {
    /// A builder, for TTL, capacity, codec, clock and the rest. The key and value types
    /// come from `build()`, so `SyncCache::builder()` needs no annotation of its own:
    ///
    /// ```
    /// use std::time::Duration;
    /// use jwm_cache::SyncCache;
    ///
    /// let cache: SyncCache<String, u32> = SyncCache::builder().ttl(Duration::from_secs(5)).build();
    /// # let _ = cache;
    /// ```
    pub fn builder() -> SyncCacheBuilder {
        SyncCacheBuilder::new()
    }
}

impl<K, V, B, S, C> SyncCache<K, V, B, S, C> {
    /// The cache `options` describe, one shard per [`shards`](Options::shards) (see
    /// [`SyncCacheBuilder::new`] for the default), each over a backend from `backend` as
    /// it is: unlike [`SyncCacheBuilder::build_with_backend`], the backends are not told
    /// the identifier, the stale window (see `Backend::keep_stale_for`) or to keep
    /// their deadlines as written (`Backend::keep_deadlines_as_written`). Each
    /// backend bounds itself; the options' capacity only caps the shard count (at least
    /// 1024 entries each).
    ///
    /// ```
    /// use jwm_cache::{SyncCache, SystemClock, backend::Options, memory::MemoryBackend};
    ///
    /// let options = Options::new(SystemClock).identifier("squares").shards(4);
    /// let cache = SyncCache::from_options(options, || MemoryBackend::with_capacity(100));
    /// cache.insert(3u64, 9u64).unwrap();
    /// assert_eq!(cache.parameters().capacity, Some(400));
    /// ```
    pub fn from_options(options: Options<S, C>, backend: impl FnMut() -> B) -> Self
    where
        S: Clone,
        C: Clone,
    {
        Self::routed(options, SharedHasher::default(), backend)
    }

    /// [`from_options`](Self::from_options), picking shards by `router`: stores that
    /// hash with its hasher take a key's hash from the router rather than hash again.
    pub(crate) fn routed(
        options: Options<S, C>,
        router: SharedHasher<RandomState>,
        mut backend: impl FnMut() -> B,
    ) -> Self
    where
        S: Clone,
        C: Clone,
    {
        let (ttl, refresh_after, single_flight, clock) = (
            options.ttl,
            options.refresh_after,
            options.single_flight,
            options.clock.clone(),
        );
        let shards = (0..shards::shard_count(&options))
            .map(|_| {
                let cache = Cache::from_options(options.clone(), backend());
                ShardLock::new(Shard {
                    cache,
                    flights: Default::default(),
                    refresh_backoffs: Backoffs::default(),
                })
            })
            .collect();
        SyncCache {
            shards,
            router,
            clock,
            ttl,
            refresh_after,
            single_flight,
            notify: Notify::default(),
        }
    }

    /// The same cache, delivering its stores' removals through `notify` after each
    /// release of a shard's lock.
    pub(crate) fn notifying(mut self, notify: Notify) -> Self {
        self.notify = notify;
        self
    }
}

impl<K, V, B, S, C: Clone> Clone for SyncCache<K, V, B, S, C> {
    /// Another handle on the same cache: the clones share every entry, counter and
    /// computation in flight, as `Arc<SyncCache>` would.
    fn clone(&self) -> Self {
        SyncCache {
            shards: Arc::clone(&self.shards),
            router: self.router.clone(),
            clock: self.clock.clone(),
            ttl: self.ttl,
            refresh_after: self.refresh_after,
            single_flight: self.single_flight,
            notify: self.notify.clone(),
        }
    }
}

impl<K, V: Clone> Default for SyncCache<K, V> {
    fn default() -> Self {
        Self::new()
    }
}

impl<K, V, B, S, C> SyncCache<K, V, B, S, C>
where
    K: Hash + Eq + Clone,
    V: Clone,
    S: Serializer<V>,
    B: Lookup<K, K, S::Encoded>,
    C: Clock,
{
    /// The value under `key`, if a live one is stored.
    ///
    /// `key` may be any borrowed form of the key type, as with `HashMap::get`: a
    /// `String`-keyed cache is read with a `&str`, and a hit builds no `String`.
    ///
    /// ```
    /// use jwm_cache::SharedCache;
    ///
    /// let cache: SharedCache<String, u32> = SharedCache::new();
    /// cache.insert("alice".to_string(), 1).unwrap();
    /// assert_eq!(cache.get("alice").unwrap(), Some(1));
    /// ```
    // Always: called from two places in one binary, it was kept out of line, which
    // took a hit from 104 to 134 instructions (BENCHMARKS.md, "A sixth pass").
    #[inline(always)]
    pub fn get<Q>(&self, key: &Q) -> Result<Option<V>, CacheError<K, V, B, S>>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
        B: Lookup<K, Q, S::Encoded>,
    {
        let now = self.clock.now();
        let (mut shard, hash) = self.lock_hashed(key);
        let value = shard.cache.get_hashed_at(key, Some(hash), now);
        drop(shard);
        self.notify.deliver();
        value
    }

    /// Stores `value` under `key` with the cache's TTL.
    ///
    /// ```
    /// use jwm_cache::SharedCache;
    ///
    /// let cache: SharedCache<u32, &str> = SharedCache::new();
    /// cache.insert(1, "one").unwrap();
    /// assert_eq!(cache.get(&1), Ok(Some("one")));
    /// ```
    pub fn insert(&self, key: K, value: V) -> Result<(), CacheError<K, V, B, S>> {
        self.insert_with_ttl(key, value, self.ttl)
    }

    /// Stores `value` under `key` with its own TTL; [`Ttl::ZERO`] stores nothing. A
    /// computation in flight for `key` still answers its callers, but its value, older
    /// than this one, is not stored.
    ///
    /// ```
    /// use std::time::Duration;
    /// use jwm_cache::{ManualClock, SyncCache};
    ///
    /// let clock = ManualClock::new();
    /// let cache = SyncCache::builder().clock(clock.clone()).build::<u32, u32>();
    /// cache.insert_with_ttl(1, 10, Duration::from_secs(5)).unwrap();
    /// clock.advance(Duration::from_secs(5));
    /// assert_eq!(cache.get(&1), Ok(None), "expired at its own TTL");
    /// ```
    pub fn insert_with_ttl(
        &self,
        key: K,
        value: V,
        ttl: impl Into<Ttl>,
    ) -> Result<(), CacheError<K, V, B, S>> {
        let now = self.clock.now();
        let mut shard = self.lock(&key);
        // A computation in flight for this key began before this write: its value now
        // goes to its own callers only, and never overwrites this one.
        shard.flights.detach(&key);
        let stored = shard.cache.insert_with_ttl_at(key, value, ttl.into(), now);
        drop(shard);
        self.notify.deliver();
        stored
    }

    /// Removes the entry under `key`, which may be any borrowed form of the key type as
    /// for [`get`](Self::get); returns whether a live one was there.
    ///
    /// ```
    /// use jwm_cache::SharedCache;
    ///
    /// let cache: SharedCache<String, u32> = SharedCache::new();
    /// cache.insert("alice".to_string(), 1).unwrap();
    /// assert_eq!(cache.remove("alice"), Ok(true));
    /// ```
    pub fn remove<Q>(&self, key: &Q) -> Result<bool, CacheError<K, V, B, S>>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
        B: Lookup<K, Q, S::Encoded>,
    {
        let now = self.clock.now();
        let mut shard = self.lock(key);
        // A computation in flight for this key now yields only to its own callers.
        shard.flights.detach(key);
        let removed = shard.cache.remove_at(key, now);
        drop(shard);
        self.notify.deliver();
        removed
    }

    /// Empties every shard and resets every counter. All shards are cleared even if
    /// one fails; the first failure is returned.
    ///
    /// ```
    /// use jwm_cache::SharedCache;
    ///
    /// let cache: SharedCache<u32, u32> = SharedCache::new();
    /// cache.insert(1, 1).unwrap();
    /// cache.clear().unwrap();
    /// assert_eq!(cache.info().current_size, 0);
    /// ```
    pub fn clear(&self) -> Result<(), CacheError<K, V, B, S>> {
        let mut clearing = &self.shards[..];
        if B::SEES_WHOLE_NAMESPACE {
            // Shards that share one namespace (a server's) clear it once, through the
            // first; every other shard's computations in flight are detached before,
            // so that none begun before the clear stores after the namespace is.
            for shard in &self.shards[1..] {
                let mut shard = shard.lock();
                shard.flights.detach_all();
                shard.cache.restart_counts();
            }
            clearing = &self.shards[..1];
        }
        let mut first_failure = Ok(());
        for shard in clearing {
            let mut shard = shard.lock();
            // Computations in flight now yield only to their own callers.
            shard.flights.detach_all();
            let cleared = shard.cache.clear();
            if first_failure.is_ok() {
                first_failure = cleared;
            }
        }
        // After every shard: a listener that panics cannot stop the clear.
        self.notify.deliver();
        first_failure
    }
}

impl<K: Hash + Eq + Clone, V: Clone, B, S, C> FlightTable<K, V> for SyncCache<K, V, B, S, C> {
    fn withdraw(&self, key: &K, flight: &Arc<Flight<V>>) {
        self.shard_of(key).lock().flights.withdraw(key, flight);
    }
}
