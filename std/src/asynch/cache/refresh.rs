//! Refresh-ahead and serve-stale for `AsyncCache`: lookups that read the entry's
//! deadline, and refreshes run on a task of the caller's runtime.

use std::future::Future;
use std::hash::Hash;
use std::sync::{Arc, TryLockError};
use std::time::Duration;

use jwm_cache_core::{Clock, Counts, Fallback, Found, Instant, Serializer, Ttl};

use super::held::Held;
use super::store::Origin;
use super::{AsyncCache, AsyncCacheError, Storing};
use crate::asynch::backend::AsyncLookup;
use crate::asynch::claim::{Lease, RefreshClaim};
use crate::flight::{Caller, Joiner, Lead, Role, Shared};

impl<K, V, B, S, C> AsyncCache<K, V, B, S, C>
where
    K: Hash + Eq + Clone + Send + Sync,
    V: Clone + Send + Sync,
    S: Serializer<V> + Sync,
    B: AsyncLookup<K, K, S::Encoded>,
    C: Clock + Sync,
{
    /// What a memoized call's lookup at `now` found under `key`, for an entry written
    /// with `ttl`, for a caller that computes or waits on a miss (the bridge's): counted
    /// as [`count_found`](Self::count_found) says.
    pub(crate) async fn find_before_flight(&self, key: &K, ttl: Ttl, now: Instant) -> Found<V> {
        let entry = AsyncLookup::<K, K, _>::get_entry(&self.backend, key, now).await;
        self.count_found(self.policy.sort_owned(entry, ttl, now))
    }

    /// [`find_before_flight`](Self::find_before_flight) if the backend answers without
    /// waiting (see [`AsyncLookup::get_entry_inline`]), else `None`, counting nothing.
    pub(crate) fn find_inline(&self, key: &K, ttl: Ttl, now: Instant) -> Option<Found<V>> {
        let entry = AsyncLookup::<K, K, _>::get_entry_inline(&self.backend, key, now)?;
        Some(self.count_found(self.policy.sort_owned(entry, ttl, now)))
    }

    /// Counts a memoized call's lookup: a hit with one add, a failure as an error; a
    /// miss is left to `compute_missing`, once it is known whether this caller computes
    /// or waits. A failed lookup is then nothing found.
    pub(super) fn count_found(
        &self,
        found: Result<Found<V>, AsyncCacheError<K, V, B, S>>,
    ) -> Found<V> {
        match &found {
            Ok(Found::Hit(_) | Found::RefreshDue(_)) => self.counts.hit(),
            _ => self.count_outcome(&found),
        }
        found.unwrap_or(Found::Absent)
    }

    /// `result`, or, if it is an `Err` and the call found a `stale` value whose window
    /// is still open, that value, counted as served stale.
    pub(crate) fn or_stale<E>(
        &self,
        result: Result<V, E>,
        stale: Option<Fallback<V>>,
    ) -> Result<V, E> {
        let Err(e) = result else {
            return result;
        };
        match stale.and_then(|fallback| fallback.at(self.clock.now())) {
            Some(value) => {
                self.counts.add(Counts::served_stale());
                Ok(value)
            }
            None => Err(e),
        }
    }
}

impl<K, V, B, S, C> AsyncCache<K, V, B, S, C>
where
    K: Hash + Eq + Clone + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
    S: Serializer<V> + Sync,
    B: AsyncLookup<K, K, S::Encoded>,
    C: Clock + Sync,
    S::Encoded: Send,
    S::Error: Send,
    Self: Send + Sync + 'static,
{
    /// [`try_get_or_insert_with_ttl`](Self::try_get_or_insert_with_ttl) with a function
    /// of the key that the cache may call again: a hit on an entry older than the
    /// cache's `refresh_after` returns the stored value at once and recomputes it on a
    /// task spawned on the caller's runtime (outside one, the refresh is dropped and
    /// counted as failed). One refresh runs per key at a time. Its value replaces the
    /// old one with a fresh TTL; if it fails (`Err` or panic) the old value stays until
    /// its TTL ends, `refresh_failures` counts it, and due hits start no refresh of the
    /// key for a quarter of `refresh_after` (at most a minute), so that a failing source
    /// is not asked on every due hit. A `clear`, `remove` or `insert`
    /// of the key while it runs keeps its value out of the cache, and so does a newer
    /// value a caller computed for the key meanwhile (the entry expired).
    ///
    /// ```
    /// use std::sync::{Arc, TryLockError};
    /// use std::time::Duration;
    /// use jwm_cache::{AsyncCache, ManualClock};
    ///
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// let clock = ManualClock::new();
    /// let cache = Arc::new(
    ///     AsyncCache::builder()
    ///         .ttl(Duration::from_secs(60))
    ///         .refresh_after(Duration::from_secs(45))
    ///         .clock(clock.clone())
    ///         .build::<u32, u32>(),
    /// );
    /// let square = Arc::new(|n: u32| async move { Ok::<_, ()>(n * n) });
    /// assert_eq!(cache.try_get_or_refresh(3, cache.ttl(), &square).await, Ok(9));
    /// clock.advance(Duration::from_secs(50));
    /// // Still a hit, at once; the refresh runs on a task of this runtime.
    /// assert_eq!(cache.try_get_or_refresh(3, cache.ttl(), &square).await, Ok(9));
    /// # });
    /// ```
    pub async fn try_get_or_refresh<F, E, Fut>(
        self: &Arc<Self>,
        key: K,
        ttl: impl Into<Ttl>,
        function: &Arc<F>,
    ) -> Result<V, E>
    where
        F: Fn(K) -> Fut + Send + Sync + ?Sized + 'static,
        Fut: Future<Output = Result<V, E>> + Send + 'static,
        E: Clone + Send + 'static,
    {
        let run = |f: &Arc<F>, key| f(key);
        let owner = || Arc::clone(self);
        self.try_get_or_refresh_by(key, ttl.into(), function, run, owner)
            .await
    }

    /// [`try_get_or_refresh`](Self::try_get_or_refresh) for a function that `run`
    /// calls, and a cache that `owner` hands over as an `Arc` only when a refresh
    /// starts: what memoized functions and `#[ttl_cache]` pass.
    #[doc(hidden)]
    pub async fn try_get_or_refresh_by<F, E, Fut, R>(
        &self,
        key: K,
        ttl: Ttl,
        function: &F,
        run: R,
        owner: impl FnOnce() -> Arc<Self>,
    ) -> Result<V, E>
    where
        F: Clone + Send + Sync + 'static,
        R: Fn(&F, K) -> Fut + Copy + Send + 'static,
        Fut: Future<Output = Result<V, E>> + Send + 'static,
        E: Clone + Send + 'static,
    {
        let compute_key = key.clone();
        let compute = || run(function, compute_key);
        let refresh = |key| refresh_in_background(&owner(), key, ttl, function, run);
        self.try_get_or_refresh_as::<E, Shared, _>(None, key, ttl, compute, refresh)
            .await
    }

    /// Registers a refresh of `key` and counts it, unless a computation of it is in
    /// flight, its mark says one is, another process refreshes it (see
    /// [`RefreshEnding::back_off`]), or the flights table is busy (a due hit then
    /// starts none: the next one will). The lead, dropped unsettled (in a panic, or
    /// unrun), withdraws the flight; the caller ends the mark (`RefreshEnding`).
    pub(crate) fn lead_refresh(self: &Arc<Self>, key: K) -> Option<(Lead<Arc<Self>, K, V>, u64)> {
        let mark = self.refreshing.mark(&key);
        let backing_off = || self.refresh_backoffs.holds(mark, || self.clock.now());
        if self.refreshing.contains(mark) || backing_off() {
            return None;
        }
        // Registered under the gate's read side: a `clear` or `remove` under way (which
        // holds the write side) gets no refresh started behind it, and one that starts
        // after this withdraws the flight.
        let _gate = self.writes.try_read().ok()?;
        // Every hit on a due key comes here until its refresh lands: one that finds the
        // table busy leaves the refresh to the next, rather than wait for the lock.
        let mut flights = match self.flights.try_lock() {
            Ok(flights) => flights,
            Err(TryLockError::Poisoned(poisoned)) => poisoned.into_inner(),
            Err(TryLockError::WouldBlock) => return None,
        };
        let role = flights.join_or_lead(&key, Joiner::patient(Caller::Refresh));
        drop(flights);
        let Role::Lead(flight, key) = role else {
            return None;
        };
        self.counts.add(Counts::refresh_started());
        self.refreshing.started(mark);
        Some((Lead::new(Arc::clone(self), flight, key), mark))
    }

    /// Counts a refresh that failed, or that never ran.
    pub(crate) fn refresh_failed(&self) {
        self.counts.add(Counts::refresh_failed());
    }

    /// Stores a refresh's value, unless a write withdrew its flight (under `fence`, the
    /// key's lease, only while it holds), and settles it.
    pub(crate) async fn store_refreshed(
        &self,
        mut lead: Lead<Arc<Self>, K, V>,
        value: V,
        ttl: Ttl,
        now: Instant,
        fence: Option<&Lease>,
    ) {
        // Settled first, as a miss is: callers waiting for the refresh get its value
        // without waiting for the gate or the store.
        lead.settle_registered(&value);
        let mut storing = Storing::new(&self.backend, ttl);
        {
            // Under the gate, as a miss stores, and waited for within the budget as a
            // miss waits. Past the budget (a `clear` walking a large keyspace) the value
            // is not stored.
            let gate = self.gate_within(&mut storing).await;
            let ours = gate.is_some() && self.flights().is_current(&lead.key, &lead.flight);
            let idle = self.backend.time_to_idle();
            if ours
                && !self
                    .policy
                    .expired_on_arrival(ttl, idle, now, self.clock.now())
            {
                let key = lead.key.clone();
                let stored = self
                    .store(key, storing, now, Origin::Computed(fence), |c| {
                        c.encode(&value)
                    })
                    .await;
                if stored.is_err() {
                    self.refresh_failed();
                }
            }
        }
        lead.withdraw();
    }
}

/// Starts the refresh of `key` on a task of the caller's runtime, unless one is in
/// flight for it.
pub(crate) fn refresh_in_background<K, V, B, S, C, F, E, Fut, R>(
    cache: &Arc<AsyncCache<K, V, B, S, C>>,
    key: K,
    ttl: Ttl,
    function: &F,
    run: R,
) where
    K: Hash + Eq + Clone + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
    S: Serializer<V> + Sync,
    B: AsyncLookup<K, K, S::Encoded>,
    C: Clock + Sync,
    S::Encoded: Send,
    S::Error: Send,
    AsyncCache<K, V, B, S, C>: Send + Sync + 'static,
    F: Clone + Send + Sync + 'static,
    R: Fn(&F, K) -> Fut + Copy + Send + 'static,
    Fut: Future<Output = Result<V, E>> + Send + 'static,
    E: Clone + Send + 'static,
{
    let Some((lead, mark)) = cache.lead_refresh(key) else {
        return;
    };
    // Made before the task, so that even a task dropped unpolled (its runtime shut
    // down) ends the refresh: its lead withdraws the flight, its mark clears the hint.
    let mut ending = RefreshEnding::new(Arc::clone(cache), mark);
    let Ok(runtime) = tokio::runtime::Handle::try_current() else {
        return;
    };
    let (function, key) = (function.clone(), lead.key.clone());
    let flight = Arc::clone(&lead.flight);
    // The whole function runs on the task, its synchronous part included, so that a
    // panic unwinds the task (which tokio catches), never a caller's.
    let task = runtime.spawn(async move {
        let cache = Arc::clone(&lead.table);
        let lease = match cache.backend.claim_refresh(&lead.key).await {
            RefreshClaim::Unleased => None,
            RefreshClaim::Leased(lease) => Some(lease),
            // Another process computes the key, and its store will land: due hits here
            // start no refresh of it, nor ask again, for a while.
            RefreshClaim::Busy(backoff) => {
                drop(lead);
                return ending.back_off(backoff);
            }
            // Counted as failed as `ending` drops, after the flight is withdrawn.
            RefreshClaim::Failed => return drop(lead),
        };
        let held = Held::new(&cache.backend, lease);
        // The new value's TTL counts from when its computation starts.
        let now = cache.clock.now();
        #[cfg(feature = "metrics")]
        let computing = std::time::Instant::now();
        let computed = held.keeping(run(&function, key)).await;
        #[cfg(feature = "metrics")]
        crate::metrics::computation_took(cache.policy.identifier(), computing.elapsed());
        match computed {
            Ok(value) => {
                // The lease kept until the value is stored, as a miss keeps it.
                let fence = held.lease.as_ref();
                let stored = cache.store_refreshed(lead, value, ttl, now, fence);
                held.keeping(stored).await;
                ending.succeeded();
            }
            Err(e) => lead.fail::<E, Shared>(&e),
        }
        held.give_back().await;
    });
    // From now on a caller that misses the key (its entry expired while the refresh
    // runs) waits for the refresh, rather than compute it again beside it; the
    // refresh's own task, asking for its key, still computes alone. Only on a
    // multi-thread runtime: a current-thread one runs its tasks only while someone
    // drives it (inside `block_on`), and a caller elsewhere could wait for nothing.
    if runtime.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread {
        flight.runs_on(Caller::Task(task.id()));
    }
}

/// The end of a refresh, however it comes (a value, an error, a panic, a task never
/// run): clears its mark in the hint, and counts it as failed unless it computed a
/// value. A store that failed counts as a failure of its own; one skipped (a write
/// withdrew the refresh, the value expired on arrival, or a `clear` held the gate past
/// the budget) counts as none.
pub(crate) struct RefreshEnding<K, V, B, S, C> {
    cache: Arc<AsyncCache<K, V, B, S, C>>,
    mark: u64,
    /// When the refresh was started, on the cache's clock read by the caller that
    /// started it (a busy lease's backoff counts from here).
    started: Instant,
    /// Reads the cache's clock (here, where `Drop` may not ask `C: Clock`).
    now: fn(&C) -> Instant,
    stored: bool,
}

impl<K, V, B, S, C> RefreshEnding<K, V, B, S, C> {
    /// The refresh computed its value.
    pub(crate) fn succeeded(&mut self) {
        self.stored = true;
    }
}

impl<K, V, B, S, C: Clock> RefreshEnding<K, V, B, S, C> {
    /// The end of the refresh marked `mark`, started now.
    pub(crate) fn new(cache: Arc<AsyncCache<K, V, B, S, C>>, mark: u64) -> Self {
        let started = cache.clock.now();
        RefreshEnding {
            cache,
            mark,
            started,
            now: C::now,
            stored: false,
        }
    }

    /// The refresh does not run: another process computes the key (see
    /// [`RefreshClaim::Busy`]), and this one starts no refresh of it for `backoff`
    /// from the refresh's start, on the cache's clock. Not a failure.
    pub(crate) fn back_off(mut self, backoff: Duration) {
        (self.cache.refresh_backoffs).wait(self.mark, self.started, backoff);
        self.stored = true;
    }
}

impl<K, V, B, S, C> Drop for RefreshEnding<K, V, B, S, C> {
    fn drop(&mut self) {
        // After the flight was settled or withdrawn, so that a caller told of the
        // failure finds the key free to refresh again.
        if !self.stored {
            // Before the key is free: due hits start no refresh of it for a while, so a
            // failing source (or backend) is asked once per wait, not on every due hit.
            // From the failure: a source that fails slowly gets its wait too.
            let wait = crate::backoffs::after_failure(self.cache.refresh_after());
            let now = (self.now)(&self.cache.clock);
            (self.cache.refresh_backoffs).wait(self.mark, now, wait);
        }
        self.cache.refreshing.ended(self.mark);
        if !self.stored {
            self.cache.counts.add(Counts::refresh_failed());
        }
    }
}
