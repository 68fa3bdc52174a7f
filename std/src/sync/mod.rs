//! The thread-safe cache: sharded locks over the core engine.

mod builder;

use std::hash::{BuildHasher, Hash};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use foldhash::fast::RandomState;
use jwm_cache_core::{
    Backend, Cache, CacheError, CacheInfo, Clock, Identity, MemoryBackend, Options, Parameters,
    Serializer, Ttl,
};

pub use builder::SyncCacheBuilder;

use crate::clock::SystemClock;
use crate::controls::CacheControls;
use crate::flight::{
    Caller, ErrorSharing, Flight, FlightTable, Flights, Joiner, Lead, Next, Role, Shared, Unshared,
};
use crate::shards;

/// A thread-safe TTL cache: `&self` operations, `Send + Sync`, for many threads at once.
///
/// Keys are spread over shards, each a `Mutex` around one core [`Cache`], the same
/// engine as the single-threaded cache (never a copy of it). Counters live in the
/// shards, under their locks, so they stay exact under contention; [`info`] sums them.
/// The clock is read once per call, before any lock is taken.
///
/// [`get_or_insert_with`](SyncCache::get_or_insert_with) is **single-flight** by
/// default: when several threads miss on the same key at once, the function runs once
/// and the others wait for its value (freshly computed during their call, so it is
/// handed over even if the TTL is shorter than the computation). If it panics or
/// returns `Err`, one waiter takes over; nobody hangs and errors are never cached.
/// The function always runs without any lock held, so it may itself use the cache, recursion included (a computation
/// that asks for its own key runs that inner call alone). `clear` and `remove`
/// detach computations in flight: their result still reaches their callers but is
/// not stored.
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
/// assert_eq!(info.hits + info.misses, 4);
/// ```
pub struct SyncCache<K, V, B = MemoryBackend<K, V>, S = Identity, C = SystemClock> {
    shards: Box<[Mutex<Shard<K, V, B, S, C>>]>,
    router: RandomState,
    clock: C,
    ttl: Ttl,
    single_flight: bool,
}

/// One lock's worth of the cache: the engine and the computations in flight.
struct Shard<K, V, B, S, C> {
    cache: Cache<K, V, B, S, C>,
    flights: Flights<K, V>,
}

impl<K, V> SyncCache<K, V> {
    /// An unbounded in-memory cache with the defaults of [`SyncCacheBuilder::new`].
    pub fn new() -> Self
    where
        V: Clone,
    {
        SyncCacheBuilder::new().build()
    }

    /// A builder, for TTL, capacity, codec, clock and the rest.
    pub fn builder() -> SyncCacheBuilder {
        SyncCacheBuilder::new()
    }
}

impl<K, V, B, S, C> SyncCache<K, V, B, S, C> {
    /// The cache `options` describe, one shard per [`shards`](Options::shards) (see
    /// [`SyncCacheBuilder::new`] for the default), each over a backend from `backend` as
    /// it is: unlike [`SyncCacheBuilder::build_with_backend`], the backends are not told
    /// the identifier. The options' capacity is the backends' business.
    ///
    /// ```
    /// use jwm_cache::{MemoryBackend, Options, SyncCache, SystemClock};
    ///
    /// let options = Options::new(SystemClock).identifier("squares").shards(4);
    /// let cache = SyncCache::from_options(options, || MemoryBackend::with_capacity(100));
    /// cache.insert(3u64, 9u64).unwrap();
    /// assert_eq!(cache.parameters().capacity, Some(400));
    /// ```
    pub fn from_options(options: Options<S, C>, mut backend: impl FnMut() -> B) -> Self
    where
        S: Clone,
        C: Clone,
    {
        let (ttl, single_flight, clock) =
            (options.ttl, options.single_flight, options.clock.clone());
        let shards = (0..shards::shard_count(&options))
            .map(|_| {
                let cache = Cache::from_options(options.clone(), backend());
                Mutex::new(Shard {
                    cache,
                    flights: Default::default(),
                })
            })
            .collect();
        SyncCache {
            shards,
            router: Default::default(),
            clock,
            ttl,
            single_flight,
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
    B: Backend<K, S::Encoded>,
    C: Clock,
{
    /// The value under `key`, if a live one is stored.
    ///
    /// ```
    /// use jwm_cache::SyncCache;
    ///
    /// let cache = SyncCache::new();
    /// cache.insert("k", 1).unwrap();
    /// assert_eq!(cache.get(&"k").unwrap(), Some(1));
    /// ```
    pub fn get(&self, key: &K) -> Result<Option<V>, CacheError<K, V, B, S>> {
        let now = self.clock.now();
        self.lock(key).cache.get_at(key, now)
    }

    /// Stores `value` under `key` with the cache's TTL.
    pub fn insert(&self, key: K, value: V) -> Result<(), CacheError<K, V, B, S>> {
        self.insert_with_ttl(key, value, self.ttl)
    }

    /// Stores `value` under `key` with its own TTL; [`Ttl::ZERO`] stores nothing.
    pub fn insert_with_ttl(
        &self,
        key: K,
        value: V,
        ttl: impl Into<Ttl>,
    ) -> Result<(), CacheError<K, V, B, S>> {
        let now = self.clock.now();
        let mut shard = self.lock(&key);
        shard.cache.insert_with_ttl_at(key, value, ttl.into(), now)
    }

    /// Removes the entry under `key`; returns whether a live one was there.
    pub fn remove(&self, key: &K) -> Result<bool, CacheError<K, V, B, S>> {
        let now = self.clock.now();
        let mut shard = self.lock(key);
        // A computation in flight for this key now yields only to its own callers.
        shard.flights.detach(key);
        shard.cache.remove_at(key, now)
    }

    /// Empties every shard and resets every counter. All shards are cleared even if
    /// one fails; the first failure is returned.
    pub fn clear(&self) -> Result<(), CacheError<K, V, B, S>> {
        let mut first_failure = Ok(());
        for shard in self.shards.iter() {
            let mut shard = lock_shard(shard);
            // Computations in flight now yield only to their own callers.
            shard.flights.detach_all();
            let cleared = shard.cache.clear();
            if first_failure.is_ok() {
                first_failure = cleared;
            }
        }
        first_failure
    }

    /// Hits, misses, live size and reclaim counts, summed over the shards.
    ///
    /// Each counter is exact; the shards are read one after another, so a snapshot
    /// taken while other threads run is not atomic across shards.
    pub fn info(&self) -> CacheInfo {
        let now = self.clock.now();
        self.shards
            .iter()
            .map(|shard| lock_shard(shard).cache.info_at(now))
            .fold(CacheInfo::default(), |sum, shard| sum + shard)
    }

    /// TTL, identifier, total capacity, and the names of the backend, codec and clock.
    pub fn parameters(&self) -> Parameters {
        let mut parameters = lock_shard(&self.shards[0]).cache.parameters();
        parameters.capacity = self
            .shards
            .iter()
            .map(|shard| lock_shard(shard).cache.parameters().capacity)
            .sum();
        parameters
    }

    /// The stored value under `key`, or `f()`, stored and returned on a miss, with
    /// single-flight across threads (see the type docs).
    ///
    /// Never fails: a broken backend or corrupt bytes count as a miss and an error, and
    /// `f`'s value is still returned.
    pub fn get_or_insert_with(&self, key: K, f: impl FnOnce() -> V) -> V {
        let Ok::<_, std::convert::Infallible>(value) = self.try_get_or_insert_with(key, || Ok(f()));
        value
    }

    /// Like [`get_or_insert_with`](Self::get_or_insert_with) for a fallible `f`: an
    /// `Err` is returned to this caller and to every caller waiting on this computation
    /// (a clone each), and never cached: the first call after it computes again. Wrap an
    /// error type that is not `Clone` in an `Arc`.
    ///
    /// ```
    /// use jwm_cache::SyncCache;
    ///
    /// let cache = SyncCache::new();
    /// assert_eq!(cache.try_get_or_insert_with(1, || Err::<u8, _>("down")), Err("down"));
    /// assert_eq!(cache.try_get_or_insert_with(1, || Ok::<_, &str>(5)), Ok(5));
    /// ```
    pub fn try_get_or_insert_with<E: Clone + Send + 'static>(
        &self,
        key: K,
        f: impl FnOnce() -> Result<V, E>,
    ) -> Result<V, E> {
        self.try_get_or_insert_with_ttl(key, self.ttl, f)
    }

    /// [`try_get_or_insert_with`](Self::try_get_or_insert_with), storing the value with
    /// `ttl` instead of the cache's: for functions that share a cache but not a TTL.
    ///
    /// ```
    /// use std::time::Duration;
    /// use jwm_cache::{ManualClock, SyncCacheBuilder};
    ///
    /// let clock = ManualClock::new();
    /// let cache = SyncCacheBuilder::new().clock(clock.clone()).build::<u8, &str>();
    /// let one_second = Duration::from_secs(1);
    /// cache.try_get_or_insert_with_ttl(1, one_second, || Ok::<_, ()>("short")).unwrap();
    /// clock.advance(one_second);
    /// assert_eq!(cache.get(&1).unwrap(), None);
    /// ```
    pub fn try_get_or_insert_with_ttl<E: Clone + Send + 'static>(
        &self,
        key: K,
        ttl: impl Into<Ttl>,
        f: impl FnOnce() -> Result<V, E>,
    ) -> Result<V, E> {
        self.try_get_or_insert_as::<E, Shared>(key, ttl.into(), f)
    }

    /// [`try_get_or_insert_with_ttl`](Self::try_get_or_insert_with_ttl) for an error type
    /// that is not `Clone` (`anyhow::Error`, `io::Error`): the error is not shared, and a
    /// caller waiting on this computation computes again when it fails, one after another.
    ///
    /// ```
    /// use jwm_cache::SyncCache;
    ///
    /// #[derive(Debug)]
    /// struct NotClone;
    ///
    /// let cache = SyncCache::new();
    /// let ttl = cache.ttl();
    /// assert!(cache.try_get_or_insert_unshared(1, ttl, || Err::<u8, _>(NotClone)).is_err());
    /// assert_eq!(cache.try_get_or_insert_unshared(1, ttl, || Ok::<_, NotClone>(5)).unwrap(), 5);
    /// ```
    pub fn try_get_or_insert_unshared<E>(
        &self,
        key: K,
        ttl: impl Into<Ttl>,
        f: impl FnOnce() -> Result<V, E>,
    ) -> Result<V, E> {
        self.try_get_or_insert_as::<E, Unshared>(key, ttl.into(), f)
    }

    fn try_get_or_insert_as<E, X: ErrorSharing<E>>(
        &self,
        key: K,
        ttl: Ttl,
        f: impl FnOnce() -> Result<V, E>,
    ) -> Result<V, E> {
        let mut now = self.clock.now();
        let mut next = {
            let mut shard = self.lock(&key);
            if let Ok(Some(value)) = shard.cache.get_at(&key, now) {
                return Ok(value);
            }
            Next::joined(self.join_or_lead(&mut shard, &key))
        };
        let lead = loop {
            next = match next {
                Next::Serve(result) => return result,
                Next::Compute(leading) => {
                    break leading.map(|(flight, key)| Lead::new(self, flight, key));
                }
                Next::Wait(flight) => Next::settled(flight.wait::<E, X>()),
                Next::LookAgain => {
                    now = self.clock.now();
                    // Looked up and joined under one lock: no value is stored between.
                    let mut shard = self.lock(&key);
                    let found = shard.cache.peek_at(&key, now).ok().flatten();
                    Next::looked(found, || self.join_or_lead(&mut shard, &key))
                }
            };
        };
        let value = match f() {
            Ok(value) => value,
            Err(e) => {
                if let Some(lead) = lead {
                    lead.fail::<E, X>(&e);
                }
                return Err(e);
            }
        };
        let Some(lead) = lead else {
            let _counted = self
                .lock(&key)
                .cache
                .insert_ref_with_ttl_at(key, &value, ttl, now);
            return Ok(value);
        };
        {
            // Locked after `lead` exists, so a panic in here (a value's `Clone`, say)
            // releases the lock before the guard takes it to withdraw the flight.
            let mut shard = self.lock(&key);
            // A `clear` or `remove` during the computation withdrew the flight: the
            // value is still this call's (and its waiters') result, not the cache's.
            if shard.flights.withdraw(&lead.key, &lead.flight) {
                let _counted = shard.cache.insert_ref_with_ttl_at(key, &value, ttl, now);
            }
        }
        lead.settle(&value);
        Ok(value)
    }

    fn join_or_lead(&self, shard: &mut Shard<K, V, B, S, C>, key: &K) -> Role<K, V> {
        if !self.single_flight {
            return Role::Solo;
        }
        shard
            .flights
            .join_or_lead(key, Joiner::patient(Caller::thread()))
    }

    fn lock(&self, key: &K) -> MutexGuard<'_, Shard<K, V, B, S, C>> {
        lock_shard(self.shard_of(key))
    }
}

impl<K, V, B, S, C> SyncCache<K, V, B, S, C> {
    /// The TTL of entries stored without one.
    pub fn ttl(&self) -> Ttl {
        self.ttl
    }

    /// The clock.
    pub fn clock(&self) -> &C {
        &self.clock
    }

    /// The number of shards.
    pub fn shard_count(&self) -> usize {
        self.shards.len()
    }

    fn shard_of(&self, key: &K) -> &Mutex<Shard<K, V, B, S, C>>
    where
        K: Hash,
    {
        // Shard counts are powers of two.
        &self.shards[self.router.hash_one(key) as usize & (self.shards.len() - 1)]
    }
}

/// Locks a shard. A panic while a shard was locked can only come from user code
/// (a key's `Hash`/`Eq` or a value's `Clone`), never from a computation, which runs
/// unlocked; the cache's state stays usable, so poisoning is ignored.
fn lock_shard<T>(shard: &Mutex<T>) -> MutexGuard<'_, T> {
    shard.lock().unwrap_or_else(PoisonError::into_inner)
}

impl<K: Hash + Eq + Clone, V: Clone, B, S, C> FlightTable<K, V> for SyncCache<K, V, B, S, C> {
    fn withdraw(&self, key: &K, flight: &Arc<Flight<V>>) {
        lock_shard(self.shard_of(key)).flights.withdraw(key, flight);
    }
}

impl<K, V, B, S, C> CacheControls for SyncCache<K, V, B, S, C>
where
    K: Hash + Eq + Clone,
    V: Clone,
    S: Serializer<V>,
    B: Backend<K, S::Encoded>,
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
