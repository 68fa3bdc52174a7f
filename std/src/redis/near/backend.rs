//! The near tier as an async backend of decoded values: copies first, then Redis.

use std::borrow::Borrow;
use std::future::Future;
use std::hash::Hash;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use jwm_cache_core::{
    Clock, Deadline, Entry, Instant, PersistentHash, Reclaimed, Serializer, StampedBytes, Ttl,
    Weigher,
};

use super::copies::{Retire, ttl_end};
use super::error::NearError;
use super::{Near, NearBackend};
use crate::asynch::{AsyncBackend, AsyncLookup, Claim, Lease, RefreshClaim};
use crate::clock::SystemClock;
use crate::redis::writes::Writer;

/// Values are decoded: build the cache over this backend with the
/// [`Identity`](jwm_cache_core::Identity) codec (the builders' `build_with_near_redis`
/// does); the codec `S` stores them in Redis.
impl<K, V, S, W> AsyncBackend<K, V> for NearBackend<K, V, S, W>
where
    K: PersistentHash + Hash + Eq + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
    S: Serializer<V, Encoded = StampedBytes<K>> + Send + Sync,
    S::Error: Send,
    W: Weigher<K, V> + Clone + Send + Sync + 'static,
{
    type Error = NearError<S::Error>;
    const NAME: &'static str = "redis+near";
    const SHARED: bool = true;

    /// The tier encodes and decodes itself: its codec's failures are the cache's codec
    /// errors.
    fn is_codec_error(error: &Self::Error) -> bool {
        matches!(error, NearError::Codec(_))
    }

    /// A new namespace has copies of its own: this handle's, if no copy was made yet
    /// (the builders name a backend before its first lookup) and no clone shares them.
    fn use_identifier(&mut self, identifier: &str) {
        AsyncBackend::<K, StampedBytes<K>>::use_identifier(&mut self.redis, identifier);
        let unused = Arc::get_mut(&mut self.near).is_some_and(|near| near.tracker.get().is_none());
        if !unused {
            self.near = Arc::new(Near::new(self.capacity, self.weigher.clone(), self.copies));
        }
    }

    fn keep_stale_for(&mut self, window: Ttl) {
        AsyncBackend::<K, StampedBytes<K>>::keep_stale_for(&mut self.redis, window);
    }

    fn now_is_system_time(&mut self, is: bool) {
        self.now_is_system_time = is;
    }

    fn use_lease(&mut self, lease: Ttl) {
        AsyncBackend::<K, StampedBytes<K>>::use_lease(&mut self.redis, lease);
    }

    /// Redis's lease (see [`RedisBackend`](crate::redis::RedisBackend)); a value another
    /// process stored meanwhile is decoded, not copied.
    async fn claim(&self, key: &K, _now: Instant, budget: Option<Duration>) -> Claim<V> {
        let (claimed, waited) = self.redis.claim_waiting(key, budget).await;
        claimed.map_found(waited, |bytes| self.codec.decode_owned(bytes).ok())
    }

    async fn claim_refresh(&self, key: &K) -> RefreshClaim {
        AsyncBackend::<K, StampedBytes<K>>::claim_refresh(&self.redis, key).await
    }

    async fn release(&self, lease: Lease) {
        AsyncBackend::<K, StampedBytes<K>>::release(&self.redis, lease).await;
    }

    fn release_in_background(&self, lease: Lease) {
        AsyncBackend::<K, StampedBytes<K>>::release_in_background(&self.redis, lease);
    }

    async fn set(
        &self,
        key: K,
        value: V,
        deadline: Deadline,
        now: Instant,
    ) -> Result<(), Self::Error> {
        let budget = self.redis.options.timeout;
        self.set_within(key, value, deadline, now, budget).await
    }

    fn call_budget(&self) -> Option<Duration> {
        Some(self.redis.options.timeout)
    }

    /// Redis's `SET`, then this process's copy retired, whether it landed or not (one
    /// that timed out may still land), and also if the caller gives the write up.
    async fn set_within(
        &self,
        key: K,
        value: V,
        deadline: Deadline,
        now: Instant,
        budget: Duration,
    ) -> Result<(), Self::Error> {
        self.store(key, value, deadline, now, budget, Writer::User)
            .await
    }

    /// Redis's store of a computed value (under `lease`, only while it is held), then
    /// the copy retired as by `set_within`.
    async fn set_computed(
        &self,
        key: K,
        value: V,
        deadline: Deadline,
        now: Instant,
        budget: Duration,
        lease: Option<&Lease>,
    ) -> Result<(), Self::Error> {
        let writer = Writer::computed(lease);
        self.store(key, value, deadline, now, budget, writer).await
    }

    async fn keep_lease(&self, lease: &Lease) {
        AsyncBackend::<K, StampedBytes<K>>::keep_lease(&self.redis, lease).await;
    }

    async fn clear(&self) -> Result<(), Self::Error> {
        self.clear_counted().await.1
    }

    /// Redis's `clear`, then every copy dropped and the near hits restarted, as the
    /// cache restarts its other counts, even if Redis's clear failed (else near hits
    /// could outnumber the hits); those served during Redis's clear count before it.
    async fn clear_counted(&self) -> (Reclaimed, Result<(), Self::Error>) {
        let cleared = AsyncBackend::<K, StampedBytes<K>>::clear(&self.redis).await;
        self.near.epochs.invalidate_all();
        self.near.memory.forget();
        let restarted = Reclaimed {
            near_hits: self.near.memory.take_hits(),
            ..Reclaimed::default()
        };
        (restarted, cleared.map_err(NearError::from))
    }

    async fn len(&self, now: Instant) -> Result<usize, Self::Error> {
        Ok(AsyncBackend::<K, StampedBytes<K>>::len(&self.redis, now).await?)
    }

    /// The copies' capacity: it names the near tier in `cache_parameters()`, and
    /// functions sharing an identifier must agree on it.
    fn capacity(&self) -> Option<usize> {
        Some(self.capacity)
    }

    /// Redis's, with the copies' bound and how often the server is asked to confirm
    /// it (the heartbeat, at most a quarter of the bound).
    fn settings(&self) -> String {
        format!(
            "{}, near staleness bound {:?}, confirmed every {:?}",
            self.redis.settings_text(),
            self.staleness_bound,
            self.heartbeat.min(self.staleness_bound / 4)
        )
    }

    /// The near hits since the last clear.
    fn reclaimed(&self) -> Reclaimed {
        Reclaimed {
            near_hits: self.near.memory.hits(),
            ..Reclaimed::default()
        }
    }
}

/// Lookups by any borrowed form of the key that has the key's digest, as on
/// [`RedisBackend`](crate::redis::RedisBackend); a copy is kept under its owned form.
impl<K, Q, V, S, W> AsyncLookup<K, Q, V> for NearBackend<K, V, S, W>
where
    K: Borrow<Q> + PersistentHash + Hash + Eq + Send + Sync + 'static,
    Q: ToOwned + PersistentHash + Hash + Eq + Sync + ?Sized,
    Q::Owned: Into<K>,
    V: Clone + Send + Sync + 'static,
    S: Serializer<V, Encoded = StampedBytes<K>> + Send + Sync,
    S::Error: Send,
    W: Weigher<K, V> + Clone + Send + Sync + 'static,
{
    /// The copy, if one may be served; else Redis's entry, decoded, and copied if
    /// tracking was on when the read was sent.
    fn get_entry(
        &self,
        key: &Q,
        now: Instant,
    ) -> impl Future<Output = Result<Option<Entry<V>>, Self::Error>> + Send {
        // The bound is checked against the system time read here, not `now`, even where
        // `now` is system time: a caller may have read it before awaiting other lookups
        // (`get_many` with a stale window goes key by key), and the bound is in real time.
        match self.copy_at(key, now, SystemClock.now()) {
            Some(copy) => NearLookup::Copied(Some(copy)),
            None => NearLookup::Fetching(Box::pin(self.fetch(key, now))),
        }
    }

    /// The copy, if one may be served.
    fn get_entry_inline(
        &self,
        key: &Q,
        now: Instant,
    ) -> Option<Result<Option<Entry<V>>, Self::Error>> {
        Some(Ok(Some(self.copy(key, now)?)))
    }

    /// Redis's `UNLINK`, then this process's copy retired (also if the caller gives the
    /// removal up).
    async fn remove(&self, key: &Q, _now: Instant) -> Result<bool, Self::Error> {
        let name = self.redis.name(key)?;
        let stripe = self.stripe(&name);
        let _retired = Retire(|| self.retire(key, stripe));
        let removed = self.redis.remove_named(name).await;
        Ok(removed?)
    }

    /// Copies where they may be served; the rest by the backend's `get_many` (one `MGET`
    /// on a server, batches of 32 keys on a cluster), not copied (this path
    /// reads no deadline to copy them until). A value that does not decode is a miss,
    /// not counted as an error here (a lookup of its key alone counts it).
    async fn get_many(&self, keys: &[Q], now: Instant) -> Result<Vec<Option<V>>, Self::Error>
    where
        Q: Sized + Sync,
        V: Send,
    {
        // Read here, as in `get_entry`: `now` may have been read before an await.
        let (epochs, system_now) = (&self.near.epochs, SystemClock.now());
        let mut found: Vec<Option<V>> = keys
            .iter()
            .map(|key| {
                self.near
                    .memory
                    .get(key, now, system_now, epochs)
                    .map(|copy| copy.value)
            })
            .collect();
        let missing: Vec<&Q> = keys
            .iter()
            .zip(&found)
            .filter_map(|(key, found)| found.is_none().then_some(key))
            .collect();
        if missing.is_empty() {
            return Ok(found);
        }
        let fetched = match self.redis.get_many(&missing).await {
            Ok(fetched) => fetched,
            Err(e) => {
                let copies = keys.iter().zip(&found).filter(|(_, found)| found.is_some());
                copies.for_each(|(key, _)| self.near.memory.uncount_hit(key));
                return Err(e.into());
            }
        };
        let mut fetched = fetched.into_iter();
        for slot in found.iter_mut().filter(|slot| slot.is_none()) {
            let bytes = fetched.next().flatten();
            *slot = bytes.and_then(|bytes| self.codec.decode_owned(bytes).ok());
        }
        Ok(found)
    }
}

impl<K, V, S, W> NearBackend<K, V, S, W>
where
    K: PersistentHash + Hash + Eq + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
    S: Serializer<V, Encoded = StampedBytes<K>> + Send + Sync,
    S::Error: Send,
    W: Weigher<K, V> + Clone + Send + Sync + 'static,
{
    /// Redis's entry for `key`, decoded, and copied if tracking was on when the read
    /// was sent.
    async fn fetch<Q>(&self, key: &Q, now: Instant) -> Result<Option<Entry<V>>, NearError<S::Error>>
    where
        K: Borrow<Q>,
        Q: ToOwned + PersistentHash + Hash + Eq + Sync + ?Sized,
        Q::Owned: Into<K>,
    {
        self.track();
        let name = self.redis.name(key)?;
        // Before the read is sent: an invalidation sent after it is answered retires
        // the copy, whenever it arrives.
        let tag = self.stripe(&name).and_then(|s| self.near.epochs.tag(s));
        let Some(entry) = self.redis.entry_named(name, now).await? else {
            return Ok(None);
        };
        let value = self
            .codec
            .decode_owned(entry.value)
            .map_err(NearError::Codec)?;
        // Until the TTL's end: a stale fallback is Redis's to serve, and never takes a
        // live copy's room.
        let until = ttl_end(entry.deadline, self.redis.stale_window);
        if let Some(tag) = tag.filter(|_| !until.is_expired(now)) {
            let (memory, owned) = (&self.near.memory, key.to_owned().into());
            memory.insert(owned, value.clone(), tag, until, now, &self.near.epochs);
        }
        Ok(Some(Entry {
            value,
            deadline: entry.deadline,
        }))
    }

    /// Redis's store of `key` as `writer` stores it, then this process's copy retired,
    /// whether it landed or not (one that timed out may still land), and also if the
    /// caller gives the write up.
    async fn store(
        &self,
        key: K,
        value: V,
        deadline: Deadline,
        now: Instant,
        budget: Duration,
        writer: Writer<'_>,
    ) -> Result<(), NearError<S::Error>> {
        let encoded = self.codec.encode_owned(value).map_err(NearError::Codec)?;
        let name = self.redis.name(&key)?;
        let stripe = self.stripe(&name);
        let _retired = Retire(|| self.retire(&key, stripe));
        let stored = self
            .redis
            .set_named(name, &encoded, deadline, now, budget, writer)
            .await;
        Ok(stored?)
    }
}

/// A lookup's future: ready with the copy, or the boxed read of Redis. A hit's future
/// is this small: the read's, far larger, is only made for a miss.
enum NearLookup<V, F> {
    Copied(Option<Entry<V>>),
    Fetching(Pin<Box<F>>),
}

// The copy is only ever moved out, never pinned: pinning is not structural.
impl<V, F> Unpin for NearLookup<V, F> {}

impl<V, E, F> Future for NearLookup<V, F>
where
    F: Future<Output = Result<Option<Entry<V>>, E>>,
{
    type Output = Result<Option<Entry<V>>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.get_mut() {
            NearLookup::Copied(copy) => Poll::Ready(Ok(copy.take())),
            NearLookup::Fetching(fetch) => fetch.as_mut().poll(cx),
        }
    }
}
