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

/// Locks a shard.
#[inline]
pub(crate) fn lock<T>(shard: &Mutex<T>) -> MutexGuard<'_, T> {
    #[cfg(not(all(target_family = "wasm", target_feature = "atomics")))]
    return shard.lock();
    #[cfg(all(target_family = "wasm", target_feature = "atomics"))]
    return shard
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
}
