//! Lookups on Redis by any borrowed form of the key that has the key's digest.

use std::borrow::Borrow;

use jwm_cache_core::{Entry, Instant, PersistentHash, StampedBytes};

use super::backend::RedisBackend;
use super::error::RedisBackendError;
use super::record;
use crate::asynch::AsyncLookup;

/// An entry is found by its key's [`PersistentHash`] digest, so `Q` may be any borrowed
/// form of `K` whose encoding is the key's: `str` for `String`, `[T]` for `Vec<T>`, `T`
/// for `Box<T>`, `Rc<T>` or `Arc<T>` (see the encoding rules on [`PersistentHash`]). A
/// type whose `Borrow` changes its encoding would name another entry, and miss.
impl<K, Q> AsyncLookup<K, Q, StampedBytes<K>> for RedisBackend<K>
where
    K: Borrow<Q> + PersistentHash + Send + Sync,
    Q: PersistentHash + Sync + ?Sized,
{
    /// `GET`, or a place in an `MGET` with the lookups of other tasks in flight, and
    /// nothing else: the deadline comes from the record (see the type docs), put on the
    /// cache's timeline at `now`. The server's expiry decides what is live.
    async fn get_entry(
        &self,
        key: &Q,
        now: Instant,
    ) -> Result<Option<Entry<StampedBytes<K>>>, RedisBackendError> {
        self.entry_named(self.name(key)?, now).await
    }

    /// `GET`, and the record's deadline checked against the wall clock (see the type
    /// docs): nothing else.
    async fn get(
        &self,
        key: &Q,
        now: Instant,
    ) -> Result<Option<StampedBytes<K>>, RedisBackendError> {
        let name = self.name(key)?;
        let wall_now = record::wall_now();
        let Some(bytes) = self.lookups.get(&self.link, name).await? else {
            return Ok(None);
        };
        let entry = record::read(bytes, self.stale_window, now, wall_now);
        match entry {
            Ok(entry) => Ok(entry.map(|entry| entry.value)),
            Err(len) => Err(RedisBackendError::Truncated { len }),
        }
    }

    /// `UNLINK`, once no store of the key that timed out may still land (see the type
    /// docs): within the timeout, or [`RedisBackendError::Timeout`] (at once
    /// [`RedisBackendError::Unavailable`] while the backend is paused).
    async fn remove(&self, key: &Q, _now: Instant) -> Result<bool, RedisBackendError> {
        self.remove_named(self.name(key)?).await
    }

    async fn get_many(
        &self,
        keys: &[Q],
        _now: Instant,
    ) -> Result<Vec<Option<StampedBytes<K>>>, RedisBackendError>
    where
        Q: Sized + Sync,
        StampedBytes<K>: Send,
    {
        RedisBackend::get_many(self, keys).await
    }
}

impl<K> RedisBackend<K> {
    /// `get_entry` of the key named `name`.
    pub(super) async fn entry_named(
        &self,
        name: String,
        now: Instant,
    ) -> Result<Option<Entry<StampedBytes<K>>>, RedisBackendError> {
        // Read with `now`, before the round trip, so both describe one moment.
        let wall_now = record::wall_now();
        let Some(bytes) = self.lookups.get(&self.link, name).await? else {
            return Ok(None);
        };
        record::read(bytes, self.stale_window, now, wall_now)
            .map_err(|len| RedisBackendError::Truncated { len })
    }

    /// `remove` of the key named `name`.
    pub(super) async fn remove_named(&self, name: String) -> Result<bool, RedisBackendError> {
        let left = self.revoke_first(&name, self.options.timeout).await?;
        let removed = self
            .link
            .remove(&name, self.remove_command(&name), left)
            .await?;
        Ok(removed > 0)
    }
}
