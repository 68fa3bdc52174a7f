//! Which shard holds a key, and taking its lock.

use std::hash::Hash;

use jwm_cache_core::KeyHash;

use super::{Shard, SyncCache};
use crate::shard_lock::{MutexGuard, ShardLock};

impl<K, V, B, S, C> SyncCache<K, V, B, S, C> {
    pub(super) fn lock<Q: Hash + ?Sized>(&self, key: &Q) -> MutexGuard<'_, Shard<K, V, B, S, C>> {
        self.shard_of(key).lock()
    }

    /// `key`'s shard, locked, and its hash: a lookup passes the hash on, for the shard's
    /// store not to hash the key again.
    pub(super) fn lock_hashed<Q: Hash + ?Sized>(
        &self,
        key: &Q,
    ) -> (MutexGuard<'_, Shard<K, V, B, S, C>>, KeyHash) {
        let hash = self.router.hash(key);
        (self.shard_at(hash).lock(), hash)
    }

    pub(super) fn shard_of<Q: Hash + ?Sized>(&self, key: &Q) -> &ShardLock<Shard<K, V, B, S, C>> {
        // A borrowed form of a key hashes as the key does (the `Borrow` contract), so
        // it finds the same shard.
        self.shard_at(self.router.hash(key))
    }

    pub(super) fn shard_at(&self, hash: KeyHash) -> &ShardLock<Shard<K, V, B, S, C>> {
        // Shard counts are powers of two. The stores may hash as the router does: their
        // tables use a hash's low bits (bucket) and top 7 (tag), TinyLfu bit 63 and a
        // remix for its sketch, so picking by bits 32 and up leaves those as varied
        // within a shard as across the cache.
        let bits = (hash.value() >> 32) as usize;
        &self.shards[bits & (self.shards.len() - 1)]
    }
}

#[cfg(test)]
mod tests {
    use jwm_cache_core::Clock;

    use crate::sync::SyncCache;

    #[test]
    fn the_builders_stores_take_the_routers_hash() {
        let cache: SyncCache<u64, u64> = SyncCache::builder().shards(4).build();
        for k in 0..200 {
            cache.insert(k, k).unwrap();
        }
        let now = cache.clock().now();
        let found = |k: u64, hashed: u64| {
            let hash = cache.router.hash(&hashed);
            let mut shard = cache.shard_of(&k).lock();
            shard.cache.get_hashed_at(&k, Some(hash), now).unwrap()
        };
        assert!((0..200).all(|k| found(k, k) == Some(k)));
        // Given another key's hash, a store that takes the router's looks in the wrong
        // place; one that hashed for itself would still find every key.
        let misses = (0..200).filter(|&k| found(k, k + 1_000).is_none()).count();
        assert!(misses > 150, "{misses} of 200 missed");
    }
}
