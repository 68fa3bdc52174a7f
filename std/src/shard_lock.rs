//! The lock around each shard of a thread-safe cache.
//!
//! parking_lot's `Mutex`: it has no poisoning to check on every lock and unlock of a
//! hit, and a panic under a shard's lock can only come from a key's `Hash`/`Eq` or a
//! value's `Clone`, which leave the shard usable, so poisoning would be ignored anyway.
//! On wasm with threads, parking_lot cannot park a thread without its nightly feature
//! (it panics on contention), so there the shards keep std's `Mutex`.

#[cfg(not(all(target_family = "wasm", target_feature = "atomics")))]
pub(crate) use parking_lot::{Mutex, MutexGuard};
#[cfg(all(target_family = "wasm", target_feature = "atomics"))]
pub(crate) use std::sync::{Mutex, MutexGuard};

/// A shard and its lock, starting a cache line: a hit reads the lock byte and the
/// shard's first lines (see the core `Cache`'s layout), which then hold nothing of
/// another shard's, so a cache of many small shards touches as few lines as it can,
/// and two threads on neighbouring shards never write to one line.
#[repr(align(64))]
pub(crate) struct ShardLock<T>(Mutex<T>);

impl<T> ShardLock<T> {
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
