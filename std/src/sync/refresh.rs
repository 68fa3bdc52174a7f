//! Refresh-ahead for `SyncCache`: a hit on an entry past `refresh_after` returns the
//! value at once and recomputes it on the library's refresh threads.

use std::hash::Hash;
use std::panic::{self, AssertUnwindSafe};
use std::sync::Arc;

use jwm_cache_core::{Clock, Counts, Fallback, Found, Instant, Lookup, Serializer, Ttl};

use super::{Shard, SyncCache};
use crate::flight::{Caller, Flight, Joiner, Lead, Role, Shared};
use crate::refresh_threads;
use crate::shard_lock::MutexGuard;

impl<K, V, B, S, C> SyncCache<K, V, B, S, C>
where
    K: Hash + Eq + Clone + Send + 'static,
    V: Clone + Send + 'static,
    S: Serializer<V>,
    B: Lookup<K, K, S::Encoded>,
    C: Clock,
    Self: Clone + Send + 'static,
{
    /// [`try_get_or_insert_with_ttl`](Self::try_get_or_insert_with_ttl) with a function
    /// of the key that the cache may call again: a hit on an entry older than the
    /// cache's `refresh_after` returns the stored value at once and recomputes it on
    /// one of the library's refresh threads (two per process, with a queue of 1024),
    /// never on the caller's. One refresh runs per key at a time, and a caller that
    /// misses the key while it runs (its entry expired meanwhile) waits for it, as for
    /// any computation in flight; while it is still queued, such a caller computes
    /// alone. Its value replaces
    /// the old one with a fresh TTL; if it fails (`Err` or panic) the old value stays
    /// until its TTL ends, and `refresh_failures` counts it, as it counts a refresh
    /// dropped because the queue was full; due hits then start no refresh of the key for
    /// a quarter of `refresh_after` (at most a minute), so that a failing source is not
    /// asked on every due hit. A `clear`, `remove` or `insert` of the key while it runs
    /// keeps its value out of the cache.
    ///
    /// ```
    /// use std::sync::{Arc, MutexGuard};
    /// use std::time::Duration;
    /// use jwm_cache::{ManualClock, SyncCache};
    ///
    /// let clock = ManualClock::new();
    /// let cache = SyncCache::builder()
    ///     .ttl(Duration::from_secs(60))
    ///     .refresh_after(Duration::from_secs(45))
    ///     .clock(clock.clone())
    ///     .build::<u32, u32>();
    /// let square = Arc::new(|n: u32| Ok::<_, ()>(n * n));
    /// assert_eq!(cache.try_get_or_refresh(3, cache.ttl(), &square), Ok(9));
    /// clock.advance(Duration::from_secs(50));
    /// // Still a hit, at once; the refresh runs in the background.
    /// assert_eq!(cache.try_get_or_refresh(3, cache.ttl(), &square), Ok(9));
    /// ```
    pub fn try_get_or_refresh<F, E>(
        &self,
        key: K,
        ttl: impl Into<Ttl>,
        function: &Arc<F>,
    ) -> Result<V, E>
    where
        F: Fn(K) -> Result<V, E> + Send + Sync + ?Sized + 'static,
        E: Clone + Send + 'static,
    {
        self.try_get_or_refresh_by(key, ttl.into(), function, |f: &Arc<F>, key| f(key))
    }

    /// [`try_get_or_refresh`](Self::try_get_or_refresh) for a function that `run`
    /// calls: what memoized functions of either kind (`Fn(K) -> V` and
    /// `Fn(K) -> Result<V, E>`) pass.
    #[doc(hidden)]
    pub fn try_get_or_refresh_by<F, E>(
        &self,
        key: K,
        ttl: Ttl,
        function: &F,
        run: fn(&F, K) -> Result<V, E>,
    ) -> Result<V, E>
    where
        F: Clone + Send + Sync + 'static,
        E: Clone + Send + 'static,
    {
        let now = self.clock.now();
        let (mut shard, hash) = self.lock_hashed(&key);
        let stale = match shard.cache.find_at(&key, hash, ttl, now) {
            Found::Hit(value) => {
                // A read may have reclaimed entries (with an idle time): their listener.
                drop(shard);
                self.notify.deliver();
                return Ok(value);
            }
            Found::RefreshDue(value) => {
                self.start_refresh(shard, (key, hash.value()), now, ttl, function, run);
                self.notify.deliver();
                return Ok(value);
            }
            Found::Stale(fallback) => Some(fallback),
            Found::Absent => None,
        };
        self.compute_missing_with(shard, key, now, ttl, stale, function, run)
    }

    /// Registers the refresh of `key` (hashing to `hash`) under its shard's lock, unless
    /// a computation of it is in flight or its last refresh failed too recently (see
    /// `backoffs::after_failure`), and queues it. Out of line: a hit that is not due
    /// never pays for it.
    #[cold]
    #[inline(never)]
    fn start_refresh<F, E>(
        &self,
        mut shard: MutexGuard<'_, Shard<K, V, B, S, C>>,
        (key, hash): (K, u64),
        now: Instant,
        ttl: Ttl,
        function: &F,
        run: fn(&F, K) -> Result<V, E>,
    ) where
        F: Clone + Send + Sync + 'static,
        E: Clone + Send + 'static,
    {
        if shard.refresh_backoffs.holds(hash, now) {
            return;
        }
        let caller = Joiner::patient(Caller::Refresh);
        let Role::Lead(flight, key) = shard.flights.join_or_lead(&key, caller) else {
            // Already refreshing, or computing after a miss.
            return;
        };
        shard.cache.count(Counts::refresh_started());
        drop(shard);
        self.refresh_in_background(flight, (key, hash), ttl, function.clone(), run);
    }

    /// Starts the wait of `key` (hashing to `hash`), whose refresh failed or never ran:
    /// due hits start no refresh of it for a while from now (a source that fails slowly
    /// gets its wait too), so that a failing source is asked once per wait, not on
    /// every due hit. Before the refresh's flight goes, so that no hit finds the key
    /// free in between.
    fn refresh_waits(&self, key: &K, hash: u64) {
        let wait = crate::backoffs::after_failure(self.refresh_after);
        let now = self.clock.now();
        self.lock(key).refresh_backoffs.wait(hash, now, wait);
    }

    /// The miss half, computing with `function`. Out of line, as `start_refresh`.
    #[allow(clippy::too_many_arguments)]
    #[inline(never)]
    fn compute_missing_with<F, E>(
        &self,
        shard: MutexGuard<'_, Shard<K, V, B, S, C>>,
        key: K,
        now: Instant,
        ttl: Ttl,
        stale: Option<Fallback<V>>,
        function: &F,
        run: fn(&F, K) -> Result<V, E>,
    ) -> Result<V, E>
    where
        F: Clone + Send + Sync + 'static,
        E: Clone + Send + 'static,
    {
        let computed_key = key.clone();
        let compute = || run(function, computed_key);
        self.compute_after_miss::<E, Shared>(shard, key, now, ttl, stale, compute)
    }

    /// Queues the refresh of `key`, whose flight this call registered.
    fn refresh_in_background<F, E>(
        &self,
        flight: Arc<Flight<V>>,
        (key, hash): (K, u64),
        ttl: Ttl,
        function: F,
        run: fn(&F, K) -> Result<V, E>,
    ) where
        F: Clone + Send + Sync + 'static,
        E: Clone + Send + 'static,
    {
        let kept = key.clone();
        // Owned by the job: dropped unrun (the queue was full) or in a panic, it
        // withdraws the flight, so that the key is never left refreshing.
        let lead = Lead::new(self.clone(), flight, key);
        let job = move || {
            // Taken from the queue: from now on a caller that misses the key (its entry
            // expired meanwhile) waits for this refresh rather than compute beside it;
            // the refresh's own function, asking for its key here, still computes alone.
            lead.flight.runs_on(Caller::thread());
            let key = lead.key.clone();
            let cache = lead.table.clone();
            // The new value's TTL counts from when its computation starts.
            let now = cache.clock.now();
            #[cfg(feature = "metrics")]
            let computing = std::time::Instant::now();
            let computed = panic::catch_unwind(AssertUnwindSafe(|| run(&function, key)));
            #[cfg(feature = "metrics")]
            cache.computation_took(&lead.key, computing.elapsed());
            match computed {
                Ok(Ok(value)) => {
                    let arrived = cache.clock.now();
                    let mut shard = cache.lock(&lead.key);
                    // Withdrawn by a `clear`, `remove` or `insert`: not ours to store.
                    if shard.flights.withdraw(&lead.key, &lead.flight)
                        && !shard.cache.expired_on_arrival(ttl, now, arrived)
                    {
                        let key = lead.key.clone();
                        let stored = shard.cache.insert_ref_with_ttl_at(key, &value, ttl, now);
                        if stored.is_err() {
                            shard.cache.count(Counts::refresh_failed());
                        }
                    }
                    drop(shard);
                    lead.settle(&value);
                }
                // Counted once the flight is settled or withdrawn, so that a caller told
                // of the failure finds the key free to refresh again.
                Ok(Err(e)) => {
                    let key = lead.key.clone();
                    cache.refresh_waits(&key, hash);
                    lead.fail::<E, Shared>(&e);
                    cache.lock(&key).cache.count(Counts::refresh_failed());
                }
                Err(_panicked) => {
                    let key = lead.key.clone();
                    cache.refresh_waits(&key, hash);
                    // Dropped unsettled: the flight is abandoned.
                    drop(lead);
                    cache.lock(&key).cache.count(Counts::refresh_failed());
                }
            }
            cache.notify.deliver();
        };
        if let Err(dropped) = refresh_threads::submit(Box::new(job)) {
            self.refresh_waits(&kept, hash);
            // Its lead withdraws the flight as it goes.
            drop(dropped);
            self.lock(&kept).cache.count(Counts::refresh_failed());
        }
    }
}
