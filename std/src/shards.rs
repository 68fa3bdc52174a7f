//! How many locks a thread-safe cache spreads its keys over, and how its shards share
//! its capacity: the sync cache's shards and the async cache's [`Sharded`] memory
//! follow these rules.
//!
//! [`Sharded`]: crate::asynch::Sharded

use std::sync::OnceLock;
use std::thread;

use foldhash::fast::RandomState;
use jwm_cache_core::{
    DefaultEviction, MemoryBackend, NoListener, Options, RemovalListener, UnitWeight, Weigher,
    WeightPool, WindowChoice,
};

/// Shards hold at least this many entries each when a capacity is set, so per-shard
/// eviction stays close to whole-cache eviction.
const MIN_ENTRIES_PER_SHARD: usize = 1024;

/// The shards `options` ask for: as given, else 16 per available core (a power of two,
/// at most 256), since with fewer, two threads collide on a lock often enough to show
/// (BENCHMARKS.md). A capacity caps the count so each shard holds at least
/// [`MIN_ENTRIES_PER_SHARD`].
pub(crate) fn shard_count<S, C>(options: &Options<S, C>) -> usize {
    // Read once per process: a cache's builder asks twice (for the capacity's shares
    // and for the shards), and a changed CPU quota in between would split it unevenly.
    static DEFAULT: OnceLock<usize> = OnceLock::new();
    let default = || {
        *DEFAULT.get_or_init(|| {
            let cores = thread::available_parallelism().map_or(1, usize::from);
            (cores * 16).next_power_of_two().min(256)
        })
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

/// The memory store of each shard of a cache a builder's `build()` makes, with its
/// weigher `W` and listener part `L`: what to name in the cache's type, as in
/// `SyncCache<K, V, ShardStore<K, V, UnitWeight, Queued<K, V>>>` for a cache with an
/// eviction listener. With neither part it is `MemoryBackend<K, E>`.
pub type ShardStore<K, E, W = UnitWeight, L = NoListener> =
    MemoryBackend<K, E, RandomState, DefaultEviction, W, L>;

/// One in-memory backend per shard. With a capacity, the shards share it through one
/// [`WeightPool`], so it bounds the whole cache and none of it is lost to keys that
/// spread unevenly; each shard reports an exact split of it as its own. Their policies
/// choose their window size together through one [`WindowChoice`]: a shard alone sees
/// too few requests to tell sizes apart.
///
/// Every store hashes with a clone of `hasher`: a router that shares it (and picks
/// shards by bits the tables do not use) hashes each key once.
pub(crate) fn memory_backends<K, E, S, C, W, L>(
    options: &Options<S, C>,
    hasher: &RandomState,
    weigher: W,
    listener: L,
) -> impl FnMut() -> ShardStore<K, E, W, L> + use<K, E, S, C, W, L>
where
    W: Weigher<K, E> + Clone,
    L: RemovalListener<K, E> + Clone,
{
    let shards = shard_count(options);
    let capacity = options.capacity;
    let time_to_idle = options.idle_limit();
    // One shard needs no pool: its own capacity is the whole bound.
    let pool = capacity.filter(|_| shards > 1).map(WeightPool::new);
    // Likewise their policies' window size.
    let choice = pool.as_ref().map(|_| WindowChoice::new(shards));
    let hasher = hasher.clone();
    let mut index = 0;
    move || {
        let store = MemoryBackend::with_hasher(capacity, hasher.clone());
        let store = match (capacity, &pool, &choice) {
            (Some(c), Some(pool), Some(choice)) => store
                .with_window_choice(choice)
                .in_pool(pool, c / shards + usize::from(index < c % shards)),
            _ => store,
        };
        index += 1;
        store
            .with_time_to_idle(time_to_idle)
            .with_weigher(weigher.clone())
            .with_listener(listener.clone())
    }
}

/// The shards' weights added up, at most `usize::MAX`: a plain sum overflows on entries
/// that weigh that much.
pub(crate) fn total_weight(weights: impl Iterator<Item = usize>) -> usize {
    weights.fold(0, usize::saturating_add)
}

/// The shards' capacities added up, at most `usize::MAX`; unbounded if any one is.
pub(crate) fn total_capacity(mut capacities: impl Iterator<Item = Option<usize>>) -> Option<usize> {
    capacities.try_fold(0usize, |sum, share| Some(sum.saturating_add(share?)))
}
