//! How many locks a thread-safe cache spreads its keys over, and how its capacity is
//! split among them: the sync cache's shards and the async cache's [`Sharded`] memory
//! share these rules.
//!
//! [`Sharded`]: crate::asynch::Sharded

use std::thread;

use jwm_cache_core::{MemoryBackend, Options};

/// Shards hold at least this many entries each when a capacity is set, so per-shard
/// eviction stays close to whole-cache eviction.
const MIN_ENTRIES_PER_SHARD: usize = 1024;

/// The shards `options` ask for: as given, else 32 per available core (a power of two,
/// at most 256), since with fewer, two threads collide on a lock often enough to show
/// (BENCHMARKS.md). A capacity caps the count so each shard holds at least
/// [`MIN_ENTRIES_PER_SHARD`].
pub(crate) fn shard_count<S, C>(options: &Options<S, C>) -> usize {
    let default = || {
        let cores = thread::available_parallelism().map_or(1, usize::from);
        (cores * 32).next_power_of_two().min(256)
    };
    // The field is public: normalise what the setter would have.
    let wanted = options
        .shards
        .map_or_else(default, |n| n.clamp(1, 4096).next_power_of_two());
    match options.capacity {
        Some(capacity) => {
            let most = (capacity / MIN_ENTRIES_PER_SHARD).max(1);
            // Largest power of two within both limits.
            let most = 1 << (usize::BITS - 1 - most.leading_zeros());
            wanted.min(most)
        }
        None => wanted,
    }
}

/// One in-memory backend per shard, splitting the capacity exactly: the first
/// `capacity % shards` shards take one more entry.
pub(crate) fn memory_backends<K, E, S, C>(
    options: &Options<S, C>,
) -> impl FnMut() -> MemoryBackend<K, E> + use<K, E, S, C> {
    let (shards, capacity) = (shard_count(options), options.capacity);
    let mut index = 0;
    move || {
        let backend = match capacity {
            Some(c) => MemoryBackend::with_capacity(c / shards + usize::from(index < c % shards)),
            None => MemoryBackend::new(),
        };
        index += 1;
        backend
    }
}
