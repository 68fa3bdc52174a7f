//! `AsyncCache`: the async shell over the core's policy.

use std::future::Future;
use std::hash::Hash;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use jwm_cache_core::{
    CacheInfo, Clock, Counts, Error, Identity, Instant, MemoryBackend, Parameters, Policy,
    Serializer, Ttl, Write,
};

use super::counts::AtomicCounts;
use super::{AsyncBackend, Sharded};
use crate::SystemClock;
use crate::flight::{Caller, Failure, Flight, FlightTable, Flights, Joiner, Lead, Role};

/// A miss's value, and how storing it went (`Ok` when another caller computed it).
pub(crate) struct Computed<V, Err> {
    pub(crate) value: V,
    pub(crate) stored: Result<(), Err>,
}

impl<V, Err> Computed<V, Err> {
    fn elsewhere(value: V) -> Self {
        Computed {
            value,
            stored: Ok(()),
        }
    }
}

/// How a miss's value is stored: with which TTL, and within what the call's lookups
/// left of its time on a bounded backend (see [`AsyncBackend::call_budget`]). The
/// computation's own time is not the backend's, so only lookups are charged.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Storing {
    pub(crate) ttl: Ttl,
    /// What is left for the store; `None` on an unbounded backend, which then reads no
    /// clock at all.
    left: Option<std::time::Duration>,
    /// When the lookup being charged began.
    lookup_began: Option<std::time::Instant>,
}

impl Storing {
    /// A call over `backend` storing with `ttl`, nothing spent yet.
    pub(crate) fn new<K, E, B: AsyncBackend<K, E>>(backend: &B, ttl: Ttl) -> Self {
        Storing {
            ttl,
            left: backend.call_budget(),
            lookup_began: None,
        }
    }

    /// A lookup begins: it will be charged to the budget.
    pub(crate) fn lookup_begins(&mut self) {
        if self.left.is_some() {
            self.lookup_began = Some(std::time::Instant::now());
        }
    }

    /// The lookup ended: what it took comes off the budget.
    pub(crate) fn lookup_ended(&mut self) {
        if let (Some(left), Some(began)) = (self.left, self.lookup_began.take()) {
            self.left = Some(left.saturating_sub(began.elapsed()));
        }
    }
}

/// The error of an [`AsyncCache`] over backend `B` and codec `S` storing `V`.
pub type AsyncCacheError<K, V, B, S> = Error<
    <B as AsyncBackend<K, <S as Serializer<V>>::Encoded>>::Error,
    <S as Serializer<V>>::Error,
>;

/// An async TTL cache: the operations of [`SyncCache`](crate::SyncCache), awaited, over
/// an [`AsyncBackend`].
///
/// It is a thin shell: it reads the clock once per call, awaits the backend, and applies
/// the core's [`Policy`] (TTL, codec) and [`Counts`] (counting rules) around that I/O,
/// exactly as the sync [`Cache`](crate::Cache) does around its own. Its futures are
/// `Send`, so calls can be spawned.
///
/// [`get_or_insert_with`](AsyncCache::get_or_insert_with) is **single-flight** across
/// tasks (and across threads using the [`BlockingCache`](crate::BlockingCache) bridge
/// over the same cache): concurrent misses on a key run the computation once. If the
/// leading task is cancelled (its future dropped), panics, or returns `Err`, one waiter
/// takes over and the others still get a value; nobody hangs, and errors are never
/// cached. `clear` and `remove` detach computations in flight: their results reach
/// their callers but are not stored.
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
    pub(crate) backend: B,
    pub(crate) policy: Policy<S>,
    pub(crate) clock: C,
    pub(crate) counts: AtomicCounts,
    pub(crate) flights: Mutex<Flights<K, V>>,
    /// Read by a computation's check-and-store, written by `clear` and `remove` around
    /// detaching flights and their backend call: the two never interleave.
    pub(crate) writes: tokio::sync::RwLock<()>,
    pub(crate) single_flight: bool,
}

impl<K, V> AsyncCache<K, V> {
    /// An unbounded in-memory cache with the defaults of
    /// [`SyncCacheBuilder::new`](crate::SyncCacheBuilder::new).
    pub fn new() -> Self
    where
        V: Clone,
    {
        crate::SyncCacheBuilder::new().build_async()
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
    B: AsyncBackend<K, S::Encoded>,
    C: Clock + Sync,
{
    /// The value under `key`, if a live one is stored.
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// let cache = jwm_cache::AsyncCache::new();
    /// cache.insert("k", 1).await.unwrap();
    /// assert_eq!(cache.get(&"k").await.unwrap(), Some(1));
    /// # });
    /// ```
    pub async fn get(&self, key: &K) -> Result<Option<V>, AsyncCacheError<K, V, B, S>> {
        self.lookup(key, self.clock.now()).await
    }

    /// The values under `keys`, in order, each counted as a hit or a miss; one round
    /// trip on a backend that batches lookups (Redis's `MGET`). An entry that does not
    /// decode is a miss and an error; a failed round trip fails the whole call.
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// let cache = jwm_cache::AsyncCache::new();
    /// cache.insert(1, "one").await.unwrap();
    /// assert_eq!(cache.get_many(&[1, 2]).await.unwrap(), vec![Some("one"), None]);
    /// # });
    /// ```
    pub async fn get_many(&self, keys: &[K]) -> Result<Vec<Option<V>>, AsyncCacheError<K, V, B, S>>
    where
        S::Encoded: Send,
    {
        let now = self.clock.now();
        let entries = match self.backend.get_many(keys, now).await {
            Ok(entries) => entries,
            Err(e) => {
                // One failure, and every key a miss.
                self.counts.add(Counts {
                    misses: keys.len() as u64,
                    errors: 1,
                    ..Counts::default()
                });
                return Err(Error::Backend(e));
            }
        };
        let mut values = Vec::with_capacity(entries.len());
        for entry in entries {
            let found: Result<Option<V>, AsyncCacheError<K, V, B, S>> =
                self.policy.read_owned(Ok(entry));
            self.counts.add(Counts::lookup(&found));
            // An entry that does not decode is a miss (and an error), like in `get`.
            values.push(found.ok().flatten());
        }
        Ok(values)
    }

    /// Stores `value` under `key` with the cache's TTL.
    pub async fn insert(&self, key: K, value: V) -> Result<(), AsyncCacheError<K, V, B, S>> {
        self.insert_with_ttl(key, value, self.policy.ttl()).await
    }

    /// Stores `value` under `key` with its own TTL; [`Ttl::ZERO`] stores nothing and
    /// removes a previous value.
    pub async fn insert_with_ttl(
        &self,
        key: K,
        value: V,
        ttl: impl Into<Ttl>,
    ) -> Result<(), AsyncCacheError<K, V, B, S>> {
        let now = self.clock.now();
        let storing = Storing::new(&self.backend, ttl.into());
        self.store(key, storing, now, |codec| codec.encode_owned(value))
            .await
    }

    /// Removes the entry under `key`; returns whether a live one was there.
    pub async fn remove(&self, key: &K) -> Result<bool, AsyncCacheError<K, V, B, S>> {
        let now = self.clock.now();
        let _gate = self.writes.write().await;
        self.flights().detach(key);
        let removed = self.backend.remove(key, now).await.map_err(Error::Backend);
        self.counts.add(Counts::outcome(&removed));
        removed
    }

    /// Empties the cache's namespace and resets every counter.
    pub async fn clear(&self) -> Result<(), AsyncCacheError<K, V, B, S>> {
        let _gate = self.writes.write().await;
        self.flights().detach_all();
        let cleared = self.backend.clear().await.map_err(Error::Backend);
        self.counts.reset(Counts::outcome(&cleared));
        cleared
    }

    /// Hits, misses, live size and the backend's reclaim counts.
    pub async fn info(&self) -> CacheInfo {
        let now = self.clock.now();
        let size = self.backend.len(now).await;
        self.counts.add(Counts::outcome(&size));
        self.counts.get().info(size.ok(), self.backend.reclaimed())
    }

    /// TTL, identifier, capacity, and the names of the backend, codec and clock.
    pub fn parameters(&self) -> Parameters {
        self.policy
            .parameters::<V>(self.backend.capacity(), B::NAME, C::NAME)
    }

    /// The stored value under `key`, or the value of `f()`'s future, stored and returned
    /// on a miss, single-flight across tasks (see the type docs).
    ///
    /// Never fails: a broken backend or corrupt bytes count as a miss and an error, and
    /// the computed value is still returned.
    pub async fn get_or_insert_with<F>(&self, key: K, f: impl FnOnce() -> F) -> V
    where
        F: Future<Output = V>,
    {
        let computed = || async { Ok::<_, std::convert::Infallible>(f().await) };
        let Ok(value) = self
            .try_get_or_insert_as(None, key, self.policy.ttl(), computed)
            .await;
        value
    }

    /// Like [`get_or_insert_with`](Self::get_or_insert_with) for a fallible computation:
    /// an `Err` is returned to this caller and to every task waiting on this computation
    /// (a clone each), and never cached: the first call after it computes again. Wrap
    /// an error type that is not `Clone` in an `Arc`.
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// let cache = jwm_cache::AsyncCache::new();
    /// let failed = cache.try_get_or_insert_with(1, || async { Err::<u8, _>("down") });
    /// assert_eq!(failed.await, Err("down"));
    /// assert_eq!(cache.try_get_or_insert_with(1, || async { Ok::<_, &str>(5) }).await, Ok(5));
    /// # });
    /// ```
    pub fn try_get_or_insert_with<E, F>(
        &self,
        key: K,
        f: impl FnOnce() -> F,
    ) -> impl Future<Output = Result<V, E>>
    where
        E: Clone + Send + 'static,
        F: Future<Output = Result<V, E>>,
    {
        // Not an `async fn` of its own: one state machine fewer on the hit path.
        self.try_get_or_insert_as(None, key, self.policy.ttl(), f)
    }

    /// [`try_get_or_insert_with`](Self::try_get_or_insert_with), storing the value with
    /// `ttl` instead of the cache's: for functions that share a cache but not a TTL.
    pub fn try_get_or_insert_with_ttl<E, F>(
        &self,
        key: K,
        ttl: impl Into<Ttl>,
        f: impl FnOnce() -> F,
    ) -> impl Future<Output = Result<V, E>>
    where
        E: Clone + Send + 'static,
        F: Future<Output = Result<V, E>>,
    {
        self.try_get_or_insert_as(None, key, ttl.into(), f)
    }

    /// The single-flight protocol, for `joiner`: a caller behind the bridge, or else
    /// the current task (looked up only on a miss: it costs a thread-local access).
    pub(crate) async fn try_get_or_insert_as<E, F>(
        &self,
        joiner: Option<Joiner>,
        key: K,
        ttl: Ttl,
        f: impl FnOnce() -> F,
    ) -> Result<V, E>
    where
        E: Clone + Send + 'static,
        F: Future<Output = Result<V, E>>,
    {
        let now = self.clock.now();
        let mut storing = Storing::new(&self.backend, ttl);
        storing.lookup_begins();
        // The lookup is written out rather than a call to `read`: one state machine
        // fewer on the hit path.
        let found = self.policy.read_owned(self.backend.get(&key, now).await);
        storing.lookup_ended();
        self.counts.add(Counts::lookup(&found));
        if let Ok(Some(value)) = found {
            return Ok(value);
        }
        // Not held across the await below: a codec's error need not be `Send`.
        drop(found);
        let f = || async { f().await.map_err(Failure::Error) };
        // Boxed so that the future of a hit stays small: a miss computes anyway.
        match Box::pin(self.compute_missing(joiner, key, storing, now, f)).await {
            Ok(computed) => Ok(computed.value),
            Err(Failure::Error(e)) => Err(e),
            Err(Failure::Abandoned) => unreachable!("only the bridge abandons a computation"),
        }
    }

    /// Like [`get_or_insert_with`](Self::get_or_insert_with), for callers that want the
    /// backend's failures rather than a bypass: a failed lookup is returned without
    /// computing, and a failed store is returned instead of the computed value. The
    /// failures are counted as usual.
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// let cache = jwm_cache::AsyncCache::new();
    /// assert_eq!(cache.get_or_insert_strict(1, || async { 10 }).await, Ok(10));
    /// # });
    /// ```
    pub async fn get_or_insert_strict<F>(
        &self,
        key: K,
        f: impl FnOnce() -> F,
    ) -> Result<V, AsyncCacheError<K, V, B, S>>
    where
        F: Future<Output = V>,
    {
        let now = self.clock.now();
        let mut storing = Storing::new(&self.backend, self.policy.ttl());
        storing.lookup_begins();
        let found = self.lookup(&key, now).await;
        storing.lookup_ended();
        if let Some(value) = found? {
            return Ok(value);
        }
        let computed = || async { Ok::<_, Failure<std::convert::Infallible>>(f().await) };
        let Ok(computed) = Box::pin(self.compute_missing(None, key, storing, now, computed)).await
        else {
            unreachable!("an infallible computation that is not abandoned gives a value");
        };
        computed.stored.map(|()| computed.value)
    }

    /// The miss half of the protocol, for a caller that looked `key` up at `now`
    /// (and counted it) already. A waiter gets the leader's value or its error; a
    /// leader that was cancelled, panicked or abandoned its computation hands over.
    pub(crate) async fn compute_missing<E, F>(
        &self,
        joiner: Option<Joiner>,
        key: K,
        mut storing: Storing,
        mut now: Instant,
        f: impl FnOnce() -> F,
    ) -> Result<Computed<V, AsyncCacheError<K, V, B, S>>, Failure<E>>
    where
        E: Clone + Send + 'static,
        F: Future<Output = Result<V, Failure<E>>>,
    {
        let joiner = joiner.unwrap_or_else(|| Joiner::patient(Caller::task()));
        let mut role = self.join_or_lead(&key, joiner);
        let lead = loop {
            match role {
                Role::Solo => break None,
                Role::Lead(flight, key) => break Some(Lead::new(self, flight, key)),
                Role::Wait(flight) => {
                    if let Some(outcome) = flight.settled::<E>().await {
                        return outcome.map(Computed::elsewhere).map_err(Failure::Error);
                    }
                    // The leader gave up: look again at a fresh time (another caller may
                    // have stored a value, already counted as this call's miss), then
                    // join again, leading if nobody else does.
                    now = self.clock.now();
                    storing.lookup_begins();
                    let found = self.read(&key, now).await;
                    storing.lookup_ended();
                    self.counts.add(Counts::outcome(&found));
                    if let Ok(Some(value)) = found {
                        return Ok(Computed::elsewhere(value));
                    }
                    role = self.join_or_lead(&key, joiner);
                }
            }
        };
        let value = match f().await {
            Ok(value) => value,
            Err(Failure::Error(e)) => {
                if let Some(lead) = lead {
                    lead.fail(&e);
                }
                return Err(Failure::Error(e));
            }
            // Dropping the lead hands the computation over to a waiter.
            Err(Failure::Abandoned) => return Err(Failure::Abandoned),
        };
        let mut stored = Ok(());
        {
            // Checked and stored under the gate, so a `clear` or `remove` that withdraws
            // the flight cannot land between the check and the store.
            let _gate = self.writes.read().await;
            let ours = lead
                .as_ref()
                .is_none_or(|lead| self.flights().is_current(&lead.key, &lead.flight));
            if ours {
                stored = self.store(key, storing, now, |c| c.encode(&value)).await;
            }
        }
        if let Some(lead) = lead {
            // Withdrawn only now, so callers arriving during the store waited for it.
            FlightTable::withdraw(self, &lead.key, &lead.flight);
            lead.settle(&value);
        }
        Ok(Computed { value, stored })
    }

    /// Looks up `key` at `now`, counted as a lookup.
    pub(crate) async fn lookup(
        &self,
        key: &K,
        now: Instant,
    ) -> Result<Option<V>, AsyncCacheError<K, V, B, S>> {
        let found = self.read(key, now).await;
        self.counts.add(Counts::lookup(&found));
        found
    }

    /// Looks up `key`; the caller counts it, as a lookup or as a second look.
    async fn read(&self, key: &K, now: Instant) -> Result<Option<V>, AsyncCacheError<K, V, B, S>> {
        self.policy.read_owned(self.backend.get(key, now).await)
    }

    async fn store(
        &self,
        key: K,
        storing: Storing,
        now: Instant,
        encode: impl FnOnce(&S) -> Result<S::Encoded, S::Error>,
    ) -> Result<(), AsyncCacheError<K, V, B, S>> {
        let stored = match self.policy.write::<V>(storing.ttl, now, encode) {
            Ok(Write::Set { value, deadline }) => match storing.left {
                Some(budget) => {
                    let set = self.backend.set_within(key, value, deadline, now, budget);
                    set.await
                }
                None => self.backend.set(key, value, deadline, now).await,
            },
            Ok(Write::Remove) => self.backend.remove(&key, now).await.map(drop),
            Err(e) => return self.counted(Err(Error::Codec(e))),
        };
        self.counted(stored.map_err(Error::Backend))
    }

    fn counted<T>(
        &self,
        result: Result<T, AsyncCacheError<K, V, B, S>>,
    ) -> Result<T, AsyncCacheError<K, V, B, S>> {
        self.counts.add(Counts::outcome(&result));
        result
    }

    fn join_or_lead(&self, key: &K, joiner: Joiner) -> Role<K, V> {
        if !self.single_flight {
            return Role::Solo;
        }
        self.flights().join_or_lead(key, joiner)
    }
}

impl<K, V, B, S, C> AsyncCache<K, V, B, S, C> {
    /// The TTL of entries stored without one.
    pub fn ttl(&self) -> Ttl {
        self.policy.ttl()
    }

    /// The clock.
    pub fn clock(&self) -> &C {
        &self.clock
    }

    /// The backend.
    pub fn backend(&self) -> &B {
        &self.backend
    }

    fn flights(&self) -> MutexGuard<'_, Flights<K, V>> {
        // A panic under this lock (a key's `Hash` or `Clone`) leaves the table whole.
        self.flights.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl<K: Hash + Eq + Clone, V: Clone, B, S, C> FlightTable<K, V> for AsyncCache<K, V, B, S, C> {
    fn withdraw(&self, key: &K, flight: &Arc<Flight<V>>) {
        self.flights().withdraw(key, flight);
    }
}
