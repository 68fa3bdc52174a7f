//! The in-memory store every cache here uses by default, and its parts.
//!
//! [`MemoryBackend`] keeps entries in a hash table, with a timer wheel that reclaims
//! expired ones as it goes. A capacity (`.capacity(..)` on a builder) bounds it with
//! [`TinyLfu`] (W-TinyLFU) eviction, scan-resistant; [`Sieve`] is the alternative with
//! cheaper inserts, chosen with `MemoryBackend::new().with_eviction(Sieve::new(n))`
//! (BENCHMARKS.md compares their hit ratios); a [`Weigher`] makes the capacity a total weight instead of a
//! count; a [`RemovalListener`] hears every entry that leaves, with its
//! [`RemovalCause`]. Hand a store built this way to a builder's `build_with_backend`.

pub use jwm_cache_core::{
    DefaultEviction, Eviction, MemoryBackend, NoListener, RemovalCause, RemovalListener, Sieve,
    TinyLfu, Unbounded, UnitWeight, Weigher, WeightPool, WindowChoice,
};

pub use crate::departures::{Listener, ListenerSetting, Queued};
pub use crate::shards::ShardStore;
