//! The near tier as an async backend of decoded values: copies first, then Redis.

use std::borrow::Borrow;
use std::future::Future;
use std::hash::Hash;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use jwm_cache_core::{
    Deadline, Entry, Instant, PersistentHash, Reclaimed, Serializer, StampedBytes, Ttl,
};

use super::error::NearError;
use super::{Near, NearBackend};
use crate::asynch::{AsyncBackend, AsyncLookup, Claim, Lease};

/// Values are decoded: build the cache over this backend with the
/// [`Identity`](jwm_cache_core::Identity) codec (the builders' `build_with_near_redis`
/// does); the codec `S` stores them in Redis.
impl<K, V, S> AsyncBackend<K, V> for NearBackend<K, V, S>
where
    K: PersistentHash + Hash + Eq + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
    S: Serializer<V, Encoded = StampedBytes<K>> + Send + Sync,
    S::Error: Send,
{
    type Error = NearError<S::Error>;
    const NAME: &'static str = "redis+near";

    /// A new namespace has copies of its own.
    fn use_identifier(&mut self, identifier: &str) {
        AsyncBackend::<K, StampedBytes<K>>::use_identifier(&mut self.redis, identifier);
        self.near = Arc::new(Near::new(self.capacity));
    }

    fn keep_stale_for(&mut self, window: Ttl) {
        AsyncBackend::<K, StampedBytes<K>>::keep_stale_for(&mut self.redis, window);
    }

    fn use_lease(&mut self, lease: Ttl) {
        AsyncBackend::<K, StampedBytes<K>>::use_lease(&mut self.redis, lease);
    }

    /// Redis's lease (see [`RedisBackend`](crate::redis::RedisBackend)); a value another
    /// process stored meanwhile is decoded, not copied.
    async fn claim(&self, key: &K, now: Instant) -> Claim<V> {
        match self.redis.claim(key, now).await {
            Claim::Found(bytes) => match self.codec.decode_owned(bytes) {
                Ok(value) => Claim::Found(value),
                Err(_) => Claim::Compute(None),
            },
            Claim::Compute(lease) => Claim::Compute(lease),
        }
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
    /// that timed out may still land).
    async fn set_within(
        &self,
        key: K,
        value: V,
        deadline: Deadline,
        now: Instant,
        budget: Duration,
    ) -> Result<(), Self::Error> {
        let encoded = self.codec.encode_owned(value).map_err(NearError::Codec)?;
        let name = self.redis.name(&key)?;
        let stripe = self.stripe(&name);
        let stored = self
            .redis
            .set_named(name, &encoded, deadline, now, budget)
            .await;
        self.retire(&key, stripe);
        Ok(stored?)
    }

    /// Redis's `clear`, then every copy dropped.
    async fn clear(&self) -> Result<(), Self::Error> {
        let cleared = AsyncBackend::<K, StampedBytes<K>>::clear(&self.redis).await;
        self.near.epochs.invalidate_all();
        self.near.memory.clear();
        Ok(cleared?)
    }

    async fn len(&self, now: Instant) -> Result<usize, Self::Error> {
        Ok(AsyncBackend::<K, StampedBytes<K>>::len(&self.redis, now).await?)
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
impl<K, Q, V, S> AsyncLookup<K, Q, V> for NearBackend<K, V, S>
where
    K: Borrow<Q> + PersistentHash + Hash + Eq + Send + Sync + 'static,
    Q: ToOwned + PersistentHash + Hash + Eq + Sync + ?Sized,
    Q::Owned: Into<K>,
    V: Clone + Send + Sync + 'static,
    S: Serializer<V, Encoded = StampedBytes<K>> + Send + Sync,
    S::Error: Send,
{
    /// The copy, if one may be served; else Redis's entry, decoded, and copied if
    /// tracking was on when the read was sent.
    fn get_entry(
        &self,
        key: &Q,
        now: Instant,
    ) -> impl Future<Output = Result<Option<Entry<V>>, Self::Error>> + Send {
        match self.near.memory.get(key, now, &self.near.epochs) {
            Some(copy) => Lookup::Copied(Some(copy)),
            None => Lookup::Fetching(Box::pin(self.fetch(key, now))),
        }
    }

    /// The copy, if one may be served.
    fn get_entry_inline(
        &self,
        key: &Q,
        now: Instant,
    ) -> Option<Result<Option<Entry<V>>, Self::Error>> {
        let copy = self.near.memory.get(key, now, &self.near.epochs)?;
        Some(Ok(Some(copy)))
    }

    /// Redis's `UNLINK`, then this process's copy retired.
    async fn remove(&self, key: &Q, _now: Instant) -> Result<bool, Self::Error> {
        let name = self.redis.name(key)?;
        let stripe = self.stripe(&name);
        let removed = self.redis.remove_named(name).await;
        self.retire(key, stripe);
        Ok(removed?)
    }

    /// Copies where they may be served; the rest in one `MGET`, not copied (the reply
    /// carries no deadline to copy them until). A value that does not decode is a miss.
    async fn get_many(&self, keys: &[Q], now: Instant) -> Result<Vec<Option<V>>, Self::Error>
    where
        Q: Sized + Sync,
        V: Send,
    {
        let epochs = &self.near.epochs;
        let mut found: Vec<Option<V>> = keys
            .iter()
            .map(|key| self.near.memory.get(key, now, epochs).map(|e| e.value))
            .collect();
        let missing: Vec<&Q> = keys
            .iter()
            .zip(&found)
            .filter_map(|(key, found)| found.is_none().then_some(key))
            .collect();
        if missing.is_empty() {
            return Ok(found);
        }
        let mut fetched = self.redis.get_many(&missing).await?.into_iter();
        for slot in found.iter_mut().filter(|slot| slot.is_none()) {
            let bytes = fetched.next().flatten();
            *slot = bytes.and_then(|bytes| self.codec.decode_owned(bytes).ok());
        }
        Ok(found)
    }
}

impl<K, V, S> NearBackend<K, V, S>
where
    K: PersistentHash + Hash + Eq + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
    S: Serializer<V, Encoded = StampedBytes<K>> + Send + Sync,
    S::Error: Send,
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
        if let Some(tag) = tag {
            let copy = value.clone();
            let memory = &self.near.memory;
            let owned = key.to_owned().into();
            memory.insert(owned, copy, tag, entry.deadline, now, &self.near.epochs);
        }
        Ok(Some(Entry {
            value,
            deadline: entry.deadline,
        }))
    }
}

impl<K, V, S> NearBackend<K, V, S>
where
    K: Hash + Eq + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
{
    /// The stripe of the key named `name`.
    fn stripe(&self, name: &str) -> Option<u32> {
        self.near
            .epochs
            .stripe_of(name.as_bytes(), self.redis.head())
    }

    /// After a write or removal of `key`: its copy is dropped, and any read of it in
    /// flight will not copy what it fetches.
    fn retire<Q>(&self, key: &Q, stripe: Option<u32>)
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        if let Some(stripe) = stripe {
            self.near.epochs.invalidate(stripe);
        }
        self.near.memory.remove(key);
    }
}

/// A lookup's future: ready with the copy, or the boxed read of Redis. A hit's future
/// is this small: the read's, far larger, is only made for a miss.
enum Lookup<V, F> {
    Copied(Option<Entry<V>>),
    Fetching(Pin<Box<F>>),
}

// The copy is only ever moved out, never pinned: pinning is not structural.
impl<V, F> Unpin for Lookup<V, F> {}

impl<V, E, F> Future for Lookup<V, F>
where
    F: Future<Output = Result<Option<Entry<V>>, E>>,
{
    type Output = Result<Option<Entry<V>>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.get_mut() {
            Lookup::Copied(copy) => Poll::Ready(Ok(copy.take())),
            Lookup::Fetching(fetch) => fetch.as_mut().poll(cx),
        }
    }
}
