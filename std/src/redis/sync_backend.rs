//! `SyncRedisBackend`: the Redis backend behind the core's synchronous `Backend` trait.

use std::borrow::Borrow;
use std::sync::Arc;

use jwm_cache_core::{
    Backend, Deadline, Entry, Instant, Lookup, PersistentHash, StampedBytes, Ttl,
};

use super::backend::RedisBackend;
use super::error::RedisBackendError;
use crate::asynch::{AsyncBackend, AsyncLookup, Bridge};

/// The sync flavour of [`RedisBackend`]: the same keys, commands, timeouts and pause,
/// behind the core's synchronous [`Backend`] trait, with each operation run on a
/// [`Bridge`]. It plugs Redis into the sync engine ([`Cache`](jwm_cache_core::Cache)), into a
/// [`SyncCache`](crate::sync::SyncCache) (every shard sees the whole namespace, so the
/// cache counts and clears it through its first shard: see
/// [`Backend::SEES_WHOLE_NAMESPACE`]), and into async code through
/// [`Offloaded`](crate::asynch::Offloaded).
///
/// For memoized sync functions, [`Memoized::builder`](crate::memoize::Memoized::builder)'s
/// `build_with_async_backend` over a plain `RedisBackend` needs no lock around the I/O
/// and is the better choice. It also shares one timeout between a call's lookup and its
/// store: here each operation has its own, so with the pause after a failure disabled, a
/// miss on a stalled server may take twice the timeout, and callers queue behind the
/// shard's lock meanwhile (with the pause, the failed lookup pauses the backend and the
/// store fails at once). Likewise a `SyncCache`'s `info` (which counts the namespace)
/// and `clear` walk the whole namespace under its first shard's lock, a round trip per
/// `SCAN` page: calls on that shard's keys wait for the walk.
///
/// ```no_run
/// use jwm_cache::{Bridge, CacheBuilder, RedisBackend, SystemClock, backend::SyncRedisBackend, codec::{Postcard, Stamped}};
///
/// let bridge = Bridge::shared().unwrap();
/// let redis = bridge.run(async { RedisBackend::<u64>::open("redis://127.0.0.1:6379") }).unwrap().unwrap();
/// let mut cache = CacheBuilder::new(SystemClock)
///     .serializer(Stamped::new(Postcard))
///     .build_with_backend::<u64, String, _>(SyncRedisBackend::new(redis, bridge));
/// cache.insert(1, "one".to_string()).unwrap();
/// ```
pub struct SyncRedisBackend<K> {
    /// Shared with each operation's future: a clone of the backend would copy its
    /// namespace and options on every operation.
    redis: Arc<RedisBackend<K>>,
    bridge: Bridge,
    /// What the last lookup found: the sync trait lends its result.
    found: Option<StampedBytes<K>>,
}

impl<K> SyncRedisBackend<K> {
    /// Runs `redis`'s operations on `bridge`. The cache builders name its namespace
    /// after the cache's identifier.
    pub fn new(redis: RedisBackend<K>, bridge: Bridge) -> Self {
        SyncRedisBackend {
            redis: Arc::new(redis),
            bridge,
            found: None,
        }
    }

    fn run<T: Send + 'static, F>(
        &self,
        op: impl FnOnce(Arc<RedisBackend<K>>) -> F,
    ) -> Result<T, RedisBackendError>
    where
        F: Future<Output = Result<T, RedisBackendError>> + Send + 'static,
    {
        self.bridge
            .run(op(Arc::clone(&self.redis)))
            .unwrap_or(Err(RedisBackendError::Unavailable))
    }
}

impl<K> Backend<K, StampedBytes<K>> for SyncRedisBackend<K>
where
    K: PersistentHash + Clone + Send + Sync + 'static,
{
    type Error = RedisBackendError;
    const NAME: &'static str = "redis";
    const SEES_WHOLE_NAMESPACE: bool = true;

    fn set(
        &mut self,
        key: K,
        value: StampedBytes<K>,
        deadline: Deadline,
        now: Instant,
    ) -> Result<(), RedisBackendError> {
        self.run(|redis| async move { redis.set(key, value, deadline, now).await })
    }

    fn settings(&self) -> String {
        self.redis.settings_text()
    }

    /// Names the namespace, as the async backend's builders do: without it, every
    /// cache over this backend would share the default namespace.
    fn use_identifier(&mut self, identifier: &str) {
        let named = (*self.redis).clone().with_identifier(identifier);
        self.redis = Arc::new(named);
    }

    /// Tells the async backend, which stores the TTL's deadline in the record.
    fn keep_stale_for(&mut self, window: Ttl) {
        let mut kept = (*self.redis).clone();
        AsyncBackend::<K, StampedBytes<K>>::keep_stale_for(&mut kept, window);
        self.redis = Arc::new(kept);
    }

    fn clear(&mut self) -> Result<(), RedisBackendError> {
        self.run(|redis| async move { AsyncBackend::<K, StampedBytes<K>>::clear(&*redis).await })
    }

    fn len(&mut self, now: Instant) -> Result<usize, RedisBackendError> {
        self.run(|redis| async move { AsyncBackend::<K, StampedBytes<K>>::len(&*redis, now).await })
    }
}

/// The key crosses to the bridge's runtime in its owned form (`Q::to_owned`); the
/// borrowed forms taken are [`RedisBackend`]'s.
impl<K, Q> Lookup<K, Q, StampedBytes<K>> for SyncRedisBackend<K>
where
    K: Borrow<Q> + PersistentHash + Clone + Send + Sync + 'static,
    Q: PersistentHash + ToOwned + Sync + ?Sized + 'static,
    Q::Owned: Send + 'static,
{
    /// [`RedisBackend`]'s lookup, run on the bridge: one `GET`, and the deadline stored
    /// with the value, on this cache's timeline.
    fn get_entry(
        &mut self,
        key: &Q,
        now: Instant,
    ) -> Result<Option<Entry<&StampedBytes<K>>>, RedisBackendError> {
        let key = key.to_owned();
        let found = self.run(|redis| async move {
            AsyncLookup::<K, Q, _>::get_entry(&*redis, key.borrow(), now).await
        })?;
        let deadline = found.as_ref().map(|entry| entry.deadline);
        self.found = found.map(|entry| entry.value);
        Ok(self
            .found
            .as_ref()
            .zip(deadline)
            .map(|(value, deadline)| Entry { value, deadline }))
    }

    /// A lookup that wants no deadline: one `GET`, its record's deadline checked.
    fn get(
        &mut self,
        key: &Q,
        now: Instant,
    ) -> Result<Option<&StampedBytes<K>>, RedisBackendError> {
        let key = key.to_owned();
        self.found = self.run(|redis| async move {
            AsyncLookup::<K, Q, _>::get(&*redis, key.borrow(), now).await
        })?;
        Ok(self.found.as_ref())
    }

    fn remove(&mut self, key: &Q, now: Instant) -> Result<bool, RedisBackendError> {
        let key = key.to_owned();
        self.run(
            |redis| async move { AsyncLookup::<K, Q, _>::remove(&*redis, key.borrow(), now).await },
        )
    }
}
