//! `AsyncCache`: the async shell over the core's policy.

mod backoffs;
mod controls;
mod counters;
mod get_or_insert;
mod held;
mod in_flight;
mod many;
mod miss;
mod refresh;
mod store;

use std::borrow::Borrow;
use std::hash::Hash;
use std::sync::{Mutex, MutexGuard, PoisonError};

use jwm_cache_core::{
    Clock, Error, Found, Identity, Instant, MemoryBackend, Options, Policy, Serializer, Ttl,
};

pub(crate) use held::{Held, polled_beside};
pub(crate) use miss::Storing;
pub(crate) use refresh::{RefreshEnding, refresh_in_background};
use store::Origin;

use crate::asynch::backend::{AsyncBackend, AsyncLookup};
use crate::asynch::builder::AsyncCacheBuilder;
use crate::asynch::counts::AtomicCounts;
use crate::asynch::sharded::Sharded;
use crate::clock::SystemClock;
use crate::flight::Flights;

/// The error of an [`AsyncCache`] over backend `B` and codec `S` storing `V`.
pub type AsyncCacheError<K, V, B, S> = Error<
    <B as AsyncBackend<K, <S as Serializer<V>>::Encoded>>::Error,
    <S as Serializer<V>>::Error,
>;

/// An async TTL cache: the operations of [`SyncCache`](crate::sync::SyncCache), awaited, over
/// an [`AsyncBackend`].
///
/// It is a thin shell: it reads the clock once per call (and once more after a miss's
/// computation, which is not stored if it outlasted its TTL), awaits the backend, and applies
/// the core's [`Policy`] (TTL, codec) and [`Counts`](jwm_cache_core::Counts) (counting rules) around that I/O,
/// exactly as the sync [`Cache`](jwm_cache_core::Cache) does around its own. Its futures are
/// `Send`, so calls can be spawned.
///
/// [`get_or_insert_with`](AsyncCache::get_or_insert_with) is **single-flight** across
/// tasks (and across threads using the [`BlockingCache`](crate::asynch::BlockingCache) bridge
/// over the same cache): concurrent misses on a key run the computation once. If it
/// returns `Err`, every waiting task gets that error (cloned), and it is not cached: the
/// next call computes again. If the leading task is cancelled (its future dropped) or
/// panics, one waiter takes over and the others still get a value; nobody hangs. `clear` and `remove` detach computations in flight: their results reach
/// their callers but are not stored, and so does an `insert` of the key. A computation
/// that runs alone (single-flight off, a caller that may not wait) is kept out too.
///
/// ```
/// use std::sync::Arc;
/// use jwm_cache::AsyncCache;
///
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// let cache: Arc<AsyncCache<u64, String>> = Arc::new(AsyncCache::new());
/// let tasks: Vec<_> = (0..8)
///     .map(|_| {
///         let cache = Arc::clone(&cache);
///         tokio::spawn(async move {
///             cache.get_or_insert_with(7, || async { "seven".to_string() }).await
///         })
///     })
///     .collect();
/// for task in tasks {
///     assert_eq!(task.await.unwrap(), "seven");
/// }
/// assert_eq!(cache.info().await.current_size, 1);
/// # });
/// ```
pub struct AsyncCache<K, V, B = Sharded<MemoryBackend<K, V>>, S = Identity, C = SystemClock> {
    backend: B,
    policy: Policy<S>,
    clock: C,
    counts: AtomicCounts,
    flights: Mutex<Flights<K, V>>,
    /// Which keys' refreshes run: what a hit on a due key asks first.
    refreshing: in_flight::RefreshesInFlight,
    /// Keys another process refreshes, which this one leaves alone for a while.
    refresh_backoffs: backoffs::RefreshBackoffs,
    /// Read by a computation's check-and-store, written by `clear`, `remove` and an
    /// `insert` that finds the key in flight, around detaching flights and their backend
    /// call: the two never interleave.
    writes: tokio::sync::RwLock<()>,
    single_flight: bool,
    /// The lease the backend was given, for functions sharing the cache to agree on.
    lease: Option<Ttl>,
}

impl<K, V> AsyncCache<K, V> {
    /// An unbounded in-memory cache with the defaults of [`AsyncCacheBuilder::new`].
    pub fn new() -> Self
    where
        V: Clone,
    {
        AsyncCacheBuilder::new().build()
    }
}

/// `builder()` names no key or value type (`build()` picks them, often from a `let`'s
/// annotation), so it is defined once, on the unit types, for inference to find. Hence
/// `AsyncCache::builder()`, never `AsyncCache::<K, V>::builder()`.
impl AsyncCache<(), ()> {
    /// A builder, for TTL, capacity, codec, clock and the rest. The key and value types
    /// come from `build()`, so `AsyncCache::builder()` needs no annotation of its own:
    ///
    /// ```
    /// use std::time::Duration;
    /// use jwm_cache::AsyncCache;
    ///
    /// let cache: AsyncCache<String, u32> = AsyncCache::builder().ttl(Duration::from_secs(5)).build();
    /// # let _ = cache;
    /// ```
    pub fn builder() -> AsyncCacheBuilder {
        AsyncCacheBuilder::new()
    }
}

impl<K, V, B, S, C> AsyncCache<K, V, B, S, C> {
    /// The cache `options` describe, over `backend` as it is: unlike
    /// [`AsyncCacheBuilder::build_with_backend`], the backend is not told the identifier,
    /// the stale window or the lease (call [`AsyncBackend::use_identifier`],
    /// [`keep_stale_for`](AsyncBackend::keep_stale_for) and
    /// [`use_lease`](AsyncBackend::use_lease) first on a backend that other processes
    /// share), nor to keep its deadlines as written with `refresh_after` or
    /// `stale_if_error` ([`keep_deadlines_as_written`](AsyncBackend::keep_deadlines_as_written),
    /// which a store with time-to-idle needs then). The options' capacity and shards
    /// are the backend's business.
    ///
    /// ```
    /// use jwm_cache::backend::Sharded;
    /// use jwm_cache::{AsyncCache, SystemClock, backend::Options, memory::MemoryBackend};
    ///
    /// let options = Options::new(SystemClock).identifier("squares");
    /// let shards = Sharded::new(4, || MemoryBackend::with_capacity(100));
    /// let cache = AsyncCache::from_options(options, shards);
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// cache.insert(3u64, 9u64).await.unwrap();
    /// assert_eq!(cache.parameters().capacity, Some(400));
    /// # });
    /// ```
    pub fn from_options(options: Options<S, C>, backend: B) -> Self {
        let (single_flight, lease) = (options.single_flight, options.lease);
        let (policy, clock) = Policy::from_options(options);
        AsyncCache {
            backend,
            policy,
            clock,
            counts: Default::default(),
            flights: Default::default(),
            refreshing: Default::default(),
            refresh_backoffs: Default::default(),
            writes: Default::default(),
            single_flight,
            lease,
        }
    }

    /// How its misses are computed (whether single-flight, under what lease), and
    /// where they are kept.
    pub(crate) fn computing<E>(&self) -> crate::memoize::Computing
    where
        B: AsyncBackend<K, E>,
    {
        crate::memoize::Computing {
            single_flight: self.single_flight,
            lease: self.lease,
            backend: self.backend.settings(),
            shared: B::SHARED,
        }
    }
}

impl<K, V: Clone> Default for AsyncCache<K, V> {
    fn default() -> Self {
        Self::new()
    }
}

impl<K, V, B, S, C> AsyncCache<K, V, B, S, C>
where
    K: Hash + Eq + Clone + Send + Sync,
    V: Clone + Send + Sync,
    S: Serializer<V> + Sync,
    B: AsyncLookup<K, K, S::Encoded>,
    C: Clock + Sync,
{
    /// The value under `key`, if a live one is stored.
    ///
    /// `key` may be any borrowed form of the key type, as with `HashMap::get`: a
    /// `String`-keyed cache is read with a `&str`, and a hit builds no `String`.
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// let cache: jwm_cache::AsyncCache<String, u32> = jwm_cache::AsyncCache::new();
    /// cache.insert("alice".to_string(), 1).await.unwrap();
    /// assert_eq!(cache.get("alice").await.unwrap(), Some(1));
    /// # });
    /// ```
    pub async fn get<Q>(&self, key: &Q) -> Result<Option<V>, AsyncCacheError<K, V, B, S>>
    where
        K: Borrow<Q>,
        Q: Sync + ?Sized,
        B: AsyncLookup<K, Q, S::Encoded>,
    {
        self.lookup(key, self.clock.now()).await
    }

    /// Stores `value` under `key` with the cache's TTL.
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// let cache: jwm_cache::AsyncCache<u32, &str> = jwm_cache::AsyncCache::new();
    /// cache.insert(1, "one").await.unwrap();
    /// assert_eq!(cache.get(&1).await.unwrap(), Some("one"));
    /// # });
    /// ```
    pub async fn insert(&self, key: K, value: V) -> Result<(), AsyncCacheError<K, V, B, S>> {
        self.insert_with_ttl(key, value, self.policy.ttl()).await
    }

    /// Stores `value` under `key` with its own TTL; [`Ttl::ZERO`] stores nothing and
    /// removes a previous value. A computation in flight for `key` still answers its
    /// callers, but its value, older than this one, is not stored.
    ///
    /// ```
    /// use std::time::Duration;
    /// use jwm_cache::{AsyncCache, ManualClock};
    ///
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// let clock = ManualClock::new();
    /// let cache = AsyncCache::builder().clock(clock.clone()).build::<u32, u32>();
    /// cache.insert_with_ttl(1, 10, Duration::from_secs(5)).await.unwrap();
    /// clock.advance(Duration::from_secs(5));
    /// assert_eq!(cache.get(&1).await.unwrap(), None, "expired at its own TTL");
    /// # });
    /// ```
    pub async fn insert_with_ttl(
        &self,
        key: K,
        value: V,
        ttl: impl Into<Ttl>,
    ) -> Result<(), AsyncCacheError<K, V, B, S>> {
        let now = self.clock.now();
        let storing = Storing::new(&self.backend, ttl.into());
        // A computation in flight for this key began before this write: detached under
        // the gate, its value goes to its own callers only and never overwrites this one.
        // One that starts after this check is newer than this write, and may store.
        let in_flight = self.flights().contains(&key);
        let _gate = if in_flight {
            Some(self.writes.write().await)
        } else {
            None
        };
        if in_flight {
            self.flights().detach(&key);
        }
        self.store(key, storing, now, Origin::Write, |c| c.encode_owned(value))
            .await
    }

    /// Removes the entry under `key`, which may be any borrowed form of the key type as
    /// for [`get`](Self::get); returns whether a live one was there.
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// let cache: jwm_cache::AsyncCache<String, u32> = jwm_cache::AsyncCache::new();
    /// cache.insert("alice".to_string(), 1).await.unwrap();
    /// assert_eq!(cache.remove("alice").await.unwrap(), true);
    /// assert_eq!(cache.get("alice").await.unwrap(), None);
    /// # });
    /// ```
    pub async fn remove<Q>(&self, key: &Q) -> Result<bool, AsyncCacheError<K, V, B, S>>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + Sync + ?Sized,
        B: AsyncLookup<K, Q, S::Encoded>,
    {
        let now = self.clock.now();
        let _gate = self.writes.write().await;
        self.flights().detach(key);
        let removed = AsyncLookup::<K, Q, _>::remove(&self.backend, key, now)
            .await
            .map_err(Error::Backend);
        self.count_outcome(&removed);
        removed
    }

    /// Empties the cache's namespace and resets every counter.
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// let cache: jwm_cache::AsyncCache<u32, u32> = jwm_cache::AsyncCache::new();
    /// cache.insert(1, 1).await.unwrap();
    /// cache.clear().await.unwrap();
    /// assert_eq!(cache.info().await.current_size, 0);
    /// # });
    /// ```
    pub async fn clear(&self) -> Result<(), AsyncCacheError<K, V, B, S>> {
        let _gate = self.writes.write().await;
        self.flights().detach_all();
        let (restarted, cleared) = self.backend.clear_counted().await;
        let cleared = cleared.map_err(Error::Backend);
        self.counts.cleared(restarted);
        self.count_outcome(&cleared);
        cleared
    }

    /// Whether the write gate is free, or frees, within `bound`: no write or store
    /// holds it then (it is let go at once).
    pub(crate) async fn write_gate_frees_within(&self, bound: std::time::Duration) -> bool {
        tokio::time::timeout(bound, self.writes.write())
            .await
            .is_ok()
    }

    /// Looks up `key` at `now`, counted as a lookup.
    pub(crate) async fn lookup<Q>(
        &self,
        key: &Q,
        now: Instant,
    ) -> Result<Option<V>, AsyncCacheError<K, V, B, S>>
    where
        Q: Sync + ?Sized,
        B: AsyncLookup<K, Q, S::Encoded>,
    {
        let found = self.read(key, now).await;
        self.count_lookup(&found, false);
        found
    }

    /// Looks up `key` at `now` for a caller that computes or waits on a miss: a hit and
    /// an error are counted here, a miss by `compute_missing` once it is known whether
    /// this caller computes or waits.
    pub(crate) async fn lookup_before_flight(
        &self,
        key: &K,
        now: Instant,
    ) -> Result<Option<V>, AsyncCacheError<K, V, B, S>> {
        let found = self.read(key, now).await;
        self.count_lookup(&found, true);
        found
    }

    /// Looks up `key`; the caller counts it, as a lookup or as a second look.
    pub(super) async fn read<Q>(
        &self,
        key: &Q,
        now: Instant,
    ) -> Result<Option<V>, AsyncCacheError<K, V, B, S>>
    where
        Q: Sync + ?Sized,
        B: AsyncLookup<K, Q, S::Encoded>,
    {
        let entry = AsyncLookup::<K, Q, _>::get_entry(&self.backend, key, now).await;
        // Sorted by the entry's deadline: a stale one is no live value.
        let found = self.policy.sort_owned(entry, self.policy.ttl(), now);
        found.map(Found::live)
    }
}

impl<K, V, B, S, C> AsyncCache<K, V, B, S, C> {
    pub(super) fn flights(&self) -> MutexGuard<'_, Flights<K, V>> {
        // A panic under this lock (a key's `Hash` or `Clone`) leaves the table whole.
        self.flights.lock().unwrap_or_else(PoisonError::into_inner)
    }
}
