//! Lookups of many keys at once: one round trip on a backend that batches them.

use std::hash::Hash;

use jwm_cache_core::{Clock, Counts, Error, Instant, Serializer};

use super::{AsyncCache, AsyncCacheError};
use crate::asynch::backend::AsyncLookup;

impl<K, V, B, S, C> AsyncCache<K, V, B, S, C>
where
    K: Hash + Eq + Clone + Send + Sync,
    V: Clone + Send + Sync,
    S: Serializer<V> + Sync,
    B: AsyncLookup<K, K, S::Encoded>,
    C: Clock + Sync,
{
    /// The values under `keys`, in order, each counted as a hit or a miss; one round
    /// trip on a backend that batches lookups (one Redis server's `MGET`; a cluster's
    /// takes one per 32 keys), except with
    /// `stale_if_error`, where each key is looked up with its deadline. An entry that does not
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
        if !self.policy.freshening().stale_if_error().is_zero() {
            return self.get_each(keys, now).await;
        }
        let entries = match AsyncLookup::<K, K, _>::get_many(&self.backend, keys, now).await {
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

    /// [`get_many`](Self::get_many) one key at a time, for a cache that keeps stale
    /// entries: only each entry's deadline tells them from live ones.
    async fn get_each(
        &self,
        keys: &[K],
        now: Instant,
    ) -> Result<Vec<Option<V>>, AsyncCacheError<K, V, B, S>> {
        let mut values = Vec::with_capacity(keys.len());
        for key in keys {
            let found = self.read(key, now).await;
            self.count_lookup(&found, false);
            match found {
                Ok(value) => values.push(value),
                // An entry that does not decode is a miss (and an error), as in `get_many`.
                Err(Error::Codec(_)) => values.push(None),
                Err(e) => return Err(e),
            }
        }
        Ok(values)
    }
}
