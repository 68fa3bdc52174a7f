//! The single-flight entry points of `SyncCache`: look up, compute on a miss once per
//! key across threads with no lock held, store, and hand the value to every waiter.

use std::borrow::Borrow;
use std::hash::Hash;

use jwm_cache_core::{Clock, Counts, Fallback, Found, Instant, Lookup, Serializer, Ttl};

use super::{Shard, SyncCache};
use crate::flight::{
    Caller, ErrorSharing, Flights, Joiner, Lead, Next, Role, Shared, Ticket, Unshared,
};
use crate::shard_lock::MutexGuard;

impl<K, V, B, S, C> SyncCache<K, V, B, S, C>
where
    K: Hash + Eq + Clone,
    V: Clone,
    S: Serializer<V>,
    B: Lookup<K, K, S::Encoded>,
    C: Clock,
{
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

    /// [`try_get_or_insert_with_ttl`](Self::try_get_or_insert_with_ttl) for a key held
    /// in a borrowed form (`&str` for a `String` key): a hit builds no owned key; a miss
    /// builds it with `ToOwned` to store under. What `#[ttl_cache]` calls for a function
    /// of one borrowed argument.
    ///
    /// ```
    /// use jwm_cache::SharedCache;
    ///
    /// let lengths: SharedCache<String, usize> = SharedCache::new();
    /// let ttl = lengths.ttl();
    /// let len = lengths.try_get_or_insert_with_ttl_by_ref("abc", ttl, || Ok::<_, ()>(3));
    /// assert_eq!(len, Ok(3));
    /// assert_eq!(lengths.get("abc").unwrap(), Some(3));
    /// ```
    pub fn try_get_or_insert_with_ttl_by_ref<Q, E>(
        &self,
        key: &Q,
        ttl: impl Into<Ttl>,
        f: impl FnOnce() -> Result<V, E>,
    ) -> Result<V, E>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ToOwned<Owned = K> + ?Sized,
        B: Lookup<K, Q, S::Encoded>,
        E: Clone + Send + 'static,
    {
        let now = self.clock.now();
        let ttl = ttl.into();
        match self.hit_or_shard(key, ttl, now) {
            Ok(value) => Ok(value),
            Err((shard, stale)) => {
                let key = key.to_owned();
                self.compute_after_miss::<E, Shared>(shard, key, now, ttl, stale, f)
            }
        }
    }

    fn try_get_or_insert_as<E, X: ErrorSharing<E>>(
        &self,
        key: K,
        ttl: Ttl,
        f: impl FnOnce() -> Result<V, E>,
    ) -> Result<V, E> {
        let now = self.clock.now();
        match self.hit_or_shard(&key, ttl, now) {
            Ok(value) => Ok(value),
            Err((shard, stale)) => self.compute_after_miss::<E, X>(shard, key, now, ttl, stale, f),
        }
    }

    /// The live value under `key` (written with `ttl`), or its shard, still locked, to
    /// join or lead the key's computation under the same lock, with the stale value the
    /// call falls back on if that fails (`stale_if_error`).
    #[allow(clippy::type_complexity)]
    fn hit_or_shard<Q>(
        &self,
        key: &Q,
        ttl: Ttl,
        now: Instant,
    ) -> Result<V, (MutexGuard<'_, Shard<K, V, B, S, C>>, Option<Fallback<V>>)>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
        B: Lookup<K, Q, S::Encoded>,
    {
        let (mut shard, hash) = self.lock_hashed(key);
        match shard.cache.find_at(key, hash, ttl, now) {
            Found::Hit(value) | Found::RefreshDue(value) => {
                // A read may have reclaimed entries (with an idle time): their listener.
                drop(shard);
                self.notify.deliver();
                Ok(value)
            }
            Found::Stale(fallback) => Err((shard, Some(fallback))),
            Found::Absent => Err((shard, None)),
        }
    }

    /// `result`, or, if it is an `Err` and the call found a `stale` value whose window
    /// is still open, that value, counted as served stale.
    pub(super) fn or_stale<E>(
        &self,
        result: Result<V, E>,
        stale: Option<Fallback<V>>,
        key: &K,
    ) -> Result<V, E> {
        let Err(e) = result else {
            return result;
        };
        match stale.and_then(|fallback| fallback.at(self.clock.now())) {
            Some(value) => {
                self.lock(key).cache.count(Counts::served_stale());
                Ok(value)
            }
            None => Err(e),
        }
    }

    /// After a miss on `shard`'s lock: joins or leads the computation for `key`, computes
    /// with `f` if leading, stores, and settles the waiters. If the computation fails,
    /// the call returns `stale` instead, if the lookup found one.
    pub(super) fn compute_after_miss<E, X: ErrorSharing<E>>(
        &self,
        mut shard: MutexGuard<'_, Shard<K, V, B, S, C>>,
        key: K,
        mut now: Instant,
        ttl: Ttl,
        stale: Option<Fallback<V>>,
        f: impl FnOnce() -> Result<V, E>,
    ) -> Result<V, E> {
        let role = self.join_or_lead(&mut shard, &key);
        if matches!(role, Role::Wait(_)) {
            // Under the lock that counted the miss, so `info` never sees it twice.
            shard.cache.coalesce_miss();
        }
        let mut next = Next::joined(role);
        drop(shard);
        // The lookups may have found the key expired: their removals are told once no
        // flight of this call's is left without its guard, so that a panicking listener
        // cannot leave one registered that nobody will settle.
        let lead = loop {
            next = match next {
                Next::Serve(result) => {
                    self.notify.deliver();
                    return self.or_stale(result, stale, &key);
                }
                Next::Compute(leading) => {
                    break leading.map(|(flight, key)| Lead::new(self, flight, key));
                }
                Next::Wait(flight) => {
                    self.notify.deliver();
                    Next::settled(flight.wait::<E, X>())
                }
                Next::LookAgain => {
                    now = self.clock.now();
                    // Looked up and joined under one lock: no value is stored between.
                    let mut shard = self.lock(&key);
                    let found = shard.cache.peek_at(&key, now).ok().flatten();
                    let next = Next::looked(found, || self.join_or_lead(&mut shard, &key));
                    drop(shard);
                    next
                }
            };
        };
        self.notify.deliver();
        // Alone, the computation's value is kept out by a write of the key meanwhile, as
        // a detached flight's is.
        let alone = lead.is_none().then(|| Alone::begin(self, &key));
        #[cfg(feature = "metrics")]
        let computing = std::time::Instant::now();
        let computed = f();
        #[cfg(feature = "metrics")]
        self.computation_took(&key, computing.elapsed());
        let value = match computed {
            Ok(value) => value,
            Err(e) => {
                if let Some(lead) = lead {
                    lead.fail::<E, X>(&e);
                }
                return self.or_stale(Err(e), stale, &key);
            }
        };
        let Some(mut lead) = lead else {
            self.store_alone(alone, key, &value, ttl, now);
            return Ok(value);
        };
        // Settled first, as in the async shell: waiters, and callers that join while
        // this call stores, get the value at once rather than wait for the store (a
        // round trip, over a server) and the listener. Withdrawn under the store's lock,
        // so that none of them misses meanwhile.
        lead.settle_registered(&value);
        // A computation slower than the TTL: its value, stored, would expire at once.
        let arrived = self.clock.now();
        {
            // Locked after `lead` exists, so a panic in here (a key's `Hash`, say)
            // releases the lock before the guard takes it to withdraw the flight.
            let mut shard = self.lock(&key);
            // A `clear` or `remove` during the computation withdrew the flight: the
            // value is still this call's (and its waiters') result, not the cache's.
            if shard.flights.withdraw(&lead.key, &lead.flight)
                && !shard.cache.expired_on_arrival(ttl, now, arrived)
            {
                let _counted = shard.cache.insert_ref_with_ttl_at(key, &value, ttl, now);
            }
        }
        lead.withdrawn();
        self.notify.deliver();
        Ok(value)
    }

    /// Computes `key`'s value with `f`, whatever is cached, and stores it with `ttl` as a
    /// miss's computation is stored: not if a write of the key (`insert`, `remove`,
    /// `clear`) came while it ran, whose value (or absence) is newer, nor if it would
    /// arrive expired. What a memoized function's `cache_prime` does.
    pub(crate) fn compute_and_store<E>(
        &self,
        key: K,
        ttl: Ttl,
        f: impl FnOnce() -> Result<V, E>,
    ) -> Result<V, E> {
        let alone = Alone::begin(self, &key);
        let now = self.clock.now();
        let value = f()?;
        self.store_alone(Some(alone), key, &value, ttl, now);
        Ok(value)
    }

    /// Stores `value`, computed alone from `now` on, unless a write of `key` came while
    /// it ran (`alone` says), or it would arrive expired.
    fn store_alone(
        &self,
        alone: Option<Alone<'_, K, V, B, S, C>>,
        key: K,
        value: &V,
        ttl: Ttl,
        now: Instant,
    ) {
        // A computation slower than the TTL: its value, stored, would expire at once.
        let arrived = self.clock.now();
        let mut shard = self.lock(&key);
        // Asked first, so that a value that would expire on arrival withdraws no
        // refresh (`solo_may_store`), as in the async shell.
        let fresh = !shard.cache.expired_on_arrival(ttl, now, arrived);
        let ours = alone.is_none_or(|alone| alone.end(&mut shard.flights, fresh));
        if ours && fresh {
            let _counted = shard.cache.insert_ref_with_ttl_at(key, value, ttl, now);
        }
        drop(shard);
        self.notify.deliver();
    }

    fn join_or_lead(&self, shard: &mut Shard<K, V, B, S, C>, key: &K) -> Role<K, V> {
        if !self.single_flight {
            return Role::Solo;
        }
        shard
            .flights
            .join_or_lead(key, Joiner::patient(Caller::thread()))
    }
}

/// A computation outside any flight, registered in its shard while it runs, however it
/// ends (see `Flights::begin_solo`).
struct Alone<'a, K: Hash + Eq + Clone, V: Clone, B, S, C> {
    cache: &'a SyncCache<K, V, B, S, C>,
    /// `None` once ended.
    key: Option<K>,
    ticket: Ticket<V>,
}

impl<'a, K: Hash + Eq + Clone, V: Clone, B, S, C> Alone<'a, K, V, B, S, C> {
    fn begin(cache: &'a SyncCache<K, V, B, S, C>, key: &K) -> Self {
        // Cloned first: a panicking `clone` leaves nothing registered.
        let key = key.clone();
        let ticket = cache.lock(&key).flights.begin_solo(&key);
        Alone {
            cache,
            key: Some(key),
            ticket,
        }
    }

    /// Ends it under the shard's lock, held for the store: whether it may store. A
    /// value that will not be stored (`storing` false) asks nothing, and so withdraws
    /// no refresh.
    fn end(mut self, flights: &mut Flights<K, V>, storing: bool) -> bool {
        let Some(key) = self.key.take() else {
            return false;
        };
        let ours = storing && flights.solo_may_store(&key, &self.ticket);
        flights.end_solo(&key);
        ours
    }
}

impl<K: Hash + Eq + Clone, V: Clone, B, S, C> Drop for Alone<'_, K, V, B, S, C> {
    fn drop(&mut self) {
        if let Some(key) = self.key.take() {
            self.cache.lock(&key).flights.end_solo(&key);
        }
    }
}
