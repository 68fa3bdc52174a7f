//! Priming: a key's value computed whatever is cached, and stored as a miss stores.

use std::hash::Hash;

use jwm_cache_core::{Clock, Lookup, Serializer, Ttl};

use super::SyncCache;
use super::get_or_insert::Alone;

impl<K, V, B, S, C> SyncCache<K, V, B, S, C>
where
    K: Hash + Eq + Clone,
    V: Clone,
    S: Serializer<V>,
    B: Lookup<K, K, S::Encoded>,
    C: Clock,
{
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
}
