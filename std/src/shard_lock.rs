//! The lock around each shard of a thread-safe cache.
//!
//! parking_lot's `Mutex`: it has no poisoning to check on every lock and unlock of a
//! hit, and a panic under a shard's lock can only come from a key's `Hash`/`Eq` or a
//! value's `Clone`, which leave the shard usable, so poisoning would be ignored anyway.
//! On wasm with threads, parking_lot cannot park a thread without its nightly feature
//! (it panics on contention), so there the shards keep std's `Mutex`.

#[cfg(not(all(target_family = "wasm", target_feature = "atomics")))]
use parking_lot::Mutex;
#[cfg(not(all(target_family = "wasm", target_feature = "atomics")))]
pub(crate) use parking_lot::MutexGuard;
#[cfg(all(target_family = "wasm", target_feature = "atomics"))]
use std::sync::Mutex;
#[cfg(all(target_family = "wasm", target_feature = "atomics"))]
pub(crate) use std::sync::MutexGuard;

/// A shard and its lock, starting a 64-byte cache line: a hit reads the lock byte and
/// the shard's first lines (see the core `Cache`'s layout), which then hold nothing
/// of another shard's. So a cache of many small shards touches as few lines as it can,
/// and two threads on neighbouring shards do not write to one 64-byte line (a CPU that
/// fetches lines in pairs may still pair two shards' lines).
#[repr(align(64))]
pub(crate) struct ShardLock<T>(Mutex<T>);

impl<T> ShardLock<T> {
    /// `shard`, unlocked.
    pub(crate) fn new(shard: T) -> Self {
        ShardLock(Mutex::new(shard))
    }

    /// Locks the shard. The caches never run a computation under it.
    #[inline]
    pub(crate) fn lock(&self) -> MutexGuard<'_, T> {
        #[cfg(not(all(target_family = "wasm", target_feature = "atomics")))]
        return self.0.lock();
        #[cfg(all(target_family = "wasm", target_feature = "atomics"))]
        return self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
    }
}

#[cfg(all(test, target_pointer_width = "64"))]
mod tests {
    use super::ShardLock;

    /// What `core/src/cache/layout.rs` takes for granted on a 64-bit target: a shard
    /// starts a line, and its data 8 bytes in, after the lock byte.
    #[test]
    fn a_shard_starts_a_line_and_its_data_follows_the_lock_byte() {
        let shards: Vec<ShardLock<u64>> = (0..3).map(ShardLock::new).collect();
        for shard in &shards {
            let at = shard as *const ShardLock<u64> as usize;
            assert_eq!(at % 64, 0);
            let data = &*shard.lock() as *const u64 as usize;
            assert_eq!(data - at, 8);
        }
    }
}
