//! The in-memory backend: a hash table over dense nodes, a timer wheel for expiry, and
//! parts for eviction, weight and listening.

mod eviction;
mod idle;
mod listener;
mod node;
mod parts;
mod pool;
mod sieve;
mod store;
mod tinylfu;
mod weigher;
mod weight;
mod wheel;

use alloc::boxed::Box;
use alloc::vec::Vec;

use core::hash::BuildHasher;

use foldhash::fast::RandomState;
use hashbrown::HashTable;

use crate::time::Ttl;

pub use eviction::{DefaultEviction, Eviction, Unbounded};
pub use listener::{NoListener, RemovalCause, RemovalListener};
#[cfg(target_has_atomic = "ptr")]
pub use pool::WeightPool;
pub use sieve::Sieve;
pub use tinylfu::TinyLfu;
#[cfg(target_has_atomic = "ptr")]
pub use tinylfu::WindowChoice;
pub use weigher::{UnitWeight, Weigher};

use idle::Idle;
use node::Node;
use pool::Membership;
use wheel::TimerWheel;

/// The null link of the intrusive lists.
const NIL: u32 = u32::MAX;
/// Positions are `u32`, below the 512 values the wheel reserves to mark a slot's first
/// entry, and [`NIL`].
const MAX_ENTRIES: usize = wheel::FIRST_IN_SLOT as usize;
/// Wheel work (expiries and cascades) an insert may do, so a backlog never stalls one.
const RECLAIM_BUDGET: usize = 8;
/// The wheel work a read of a store with an idle time does, when something is due: at
/// least the one relink that each read can cause (see `entry_hashed`).
const READ_RECLAIM_BUDGET: usize = 2;
/// Wheel work a full store may do more, per victim, looking for an expired entry to
/// take the victim's place.
const VICTIM_RECLAIM_BUDGET: usize = 64;

/// An in-memory store of `K -> E` with per-entry deadlines and an optional capacity.
///
/// - **Lookups compare keys**: the table holds positions and checks the stored key, so a
///   hash collision can never return another key's value. The default hasher is
///   foldhash with a per-table seed, measured faster than FNV on the hit path
///   (BENCHMARKS.md). The seed is foldhash's: addresses (so address-space
///   randomisation) and, with the core's `std` feature, the time, not OS entropy; on a
///   target without address randomisation (wasm, a microcontroller) every run of a
///   build may hash alike. Collisions cost time, never a wrong value. A service that
///   caches keys an attacker chooses can give
///   [`with_hasher`](MemoryBackend::with_hasher) std's `RandomState`, which is seeded
///   from the OS.
/// - **Expiry without reads**: deadlines are indexed by a hierarchical timer wheel (see
///   ARCHITECTURE.md); each insert reclaims a bounded number of due entries, amortized
///   O(1), so a stream of unique keys at rate r with TTL t holds about r·t entries.
///   [`len`](crate::backend::Backend::len) reclaims every due entry first, so it never
///   counts one; it is the one call whose cost grows with the backlog of expired entries.
/// - **Capacity**: when full, an insert evicts by the policy, W-TinyLFU by default. An
///   expired victim counts as an expiration, a live one as an eviction. A capacity of 0
///   stores nothing; with a weigher the capacity bounds the total weight, and an entry
///   heavier than all of it is not stored. Without a capacity, at most 2^32 − 513 entries
///   are held; beyond that an arbitrary one is evicted.
///
/// # Parts
/// Three type parameters after the hasher `H` pick the parts, each with a default that
/// costs nothing, so `MemoryBackend<K, E>` is what most code writes:
///
/// - `P: `[`Eviction`], the policy, which owns the capacity and its per-entry state.
///   The default, [`DefaultEviction`], is `Option<Box<TinyLfu>>`: [`new`](Self::new)
///   leaves it `None` (no per-entry bytes), [`with_capacity`](Self::with_capacity) makes
///   it [`TinyLfu`], so both return the same type. Name [`TinyLfu`], [`Sieve`] (cheaper
///   inserts, not scan-resistant) or [`Unbounded`] with
///   [`with_eviction`](Self::with_eviction) to fix the choice at compile time.
/// - `W: `[`Weigher`], what an entry costs against the capacity; [`UnitWeight`] (1 per
///   entry) by default. Set with [`with_weigher`](Self::with_weigher).
/// - `L: `[`RemovalListener`], handed every entry that leaves (key and value, owned)
///   with its [`RemovalCause`]; [`NoListener`] by default. Set with
///   [`with_listener`](Self::with_listener). Dropping the store tells it nothing.
///
/// ```
/// use jwm_cache_core::{Backend, Lookup, Instant, MemoryBackend, Ttl};
///
/// let mut store = MemoryBackend::<u32, &str>::with_capacity(2);
/// let now = Instant::ZERO;
/// let forever = Ttl::NEVER.deadline_from(now);
/// store.set(1, "one", forever, now).unwrap();
/// store.set(2, "two", forever, now).unwrap();
/// store.set(3, "three", forever, now).unwrap();
/// assert_eq!(store.len(now).unwrap(), 2);
/// assert_eq!(store.reclaimed().evictions, 1);
/// assert_eq!(store.get(&3, now).unwrap(), Some(&"three")); // the newest stays
/// ```
///
/// With every part named:
///
/// ```
/// use jwm_cache_core::{Backend, Lookup, Deadline, Instant, MemoryBackend, RemovalCause, Sieve};
///
/// let mut evicted = 0;
/// let mut store = MemoryBackend::<&str, String>::new()
///     .with_eviction(Sieve::new(8))
///     .with_weigher(|_: &&str, value: &String| value.len())
///     .with_listener(|_, _, cause| evicted += usize::from(cause == RemovalCause::Evicted));
/// let now = Instant::ZERO;
/// store.set("a", "12345".into(), Deadline::NEVER, now).unwrap();
/// store.set("b", "12345".into(), Deadline::NEVER, now).unwrap();
/// assert_eq!((store.stored(), store.weight()), (1, 5));
/// drop(store);
/// assert_eq!(evicted, 1);
/// ```
// A hit with a `KeyHash` reads the fields from `eviction` to the table's mask and
// control pointer: with a boxed policy, 64 bytes, if hashbrown keeps those two first
// in its table header, as it does today (its layout is its own). `weight`, which only
// writes read, comes before them, so that behind a shard's lock byte and a `Cache`'s
// first 112 bytes (with a zero-sized codec) they start a cache line (a test in
// `cache` checks it).
#[repr(C)]
pub struct MemoryBackend<K, E, H = RandomState, P = DefaultEviction, W = UnitWeight, L = NoListener>
{
    /// The weight of every node held, by `weigher`.
    weight: usize,
    eviction: P,
    /// Time-to-idle, if set.
    idle: Option<Box<Idle>>,
    /// `hasher`'s fingerprint: a [`KeyHash`] with the same one was hashed alike.
    hasher_fingerprint: u64,
    nodes: Vec<Node<K, E>>,
    table: HashTable<u32>,
    hasher: H,
    wheel: TimerWheel,
    /// The budget this store shares with others, if any. Boxed, as `idle` is, so a
    /// store without these parts stays small (a sharded cache holds one per shard).
    pool: Option<Box<Membership>>,
    weigher: W,
    listener: L,
    /// Entries removed at their deadline and for capacity, since the last clear: what
    /// [`Backend::reclaimed`](crate::backend::Backend::reclaimed) reports.
    expired: u64,
    evicted: u64,
}

impl<K, E> MemoryBackend<K, E> {
    /// An unbounded store.
    ///
    /// ```
    /// use jwm_cache_core::{Backend, Lookup, Deadline, Instant, MemoryBackend};
    ///
    /// let mut store = MemoryBackend::<String, Vec<u8>>::new();
    /// store.set("k".into(), vec![1], Deadline::NEVER, Instant::ZERO).unwrap();
    /// assert_eq!(store.capacity(), None);
    /// ```
    pub fn new() -> Self {
        Self::with_hasher(None, RandomState::default())
    }

    /// A store holding at most `capacity` entries (0 stores nothing), evicting by
    /// W-TinyLFU ([`TinyLfu`]).
    ///
    /// ```
    /// use jwm_cache_core::{Backend, Lookup, Deadline, Instant, MemoryBackend};
    ///
    /// let mut store = MemoryBackend::<u32, u32>::with_capacity(2);
    /// for k in 0..5 {
    ///     store.set(k, k, Deadline::NEVER, Instant::ZERO).unwrap();
    /// }
    /// assert_eq!(store.len(Instant::ZERO).unwrap(), 2);
    /// assert_eq!(store.reclaimed().evictions, 3);
    /// ```
    pub fn with_capacity(capacity: usize) -> Self {
        Self::with_hasher(Some(capacity), RandomState::default())
    }
}

impl<K, E> Default for MemoryBackend<K, E> {
    fn default() -> Self {
        Self::new()
    }
}

impl<K, E, H: BuildHasher> MemoryBackend<K, E, H> {
    /// A store with an optional capacity and the given hasher.
    ///
    /// ```
    /// use core::hash::BuildHasherDefault;
    /// use jwm_cache_core::MemoryBackend;
    ///
    /// # #[derive(Default)] struct MyHasher(u64);
    /// # impl core::hash::Hasher for MyHasher {
    /// #     fn finish(&self) -> u64 { self.0 }
    /// #     fn write(&mut self, b: &[u8]) { for &x in b { self.0 = self.0.rotate_left(5) ^ u64::from(x); } }
    /// # }
    /// let store = MemoryBackend::<u64, u64, _>::with_hasher(
    ///     Some(1_000),
    ///     BuildHasherDefault::<MyHasher>::default(),
    /// );
    /// assert_eq!(store.stored(), 0);
    /// ```
    pub fn with_hasher(capacity: Option<usize>, hasher: H) -> Self {
        MemoryBackend {
            table: HashTable::new(),
            nodes: Vec::new(),
            wheel: TimerWheel::new(),
            eviction: capacity.map(|capacity| Box::new(TinyLfu::new(capacity))),
            weight: 0,
            pool: None,
            idle: None,
            weigher: UnitWeight,
            listener: NoListener,
            hasher_fingerprint: crate::key_hash::fingerprint(&hasher),
            hasher,
            expired: 0,
            evicted: 0,
        }
    }
}

impl<K, E, H, P, W, L> MemoryBackend<K, E, H, P, W, L> {
    /// The time-to-idle, if set.
    pub fn time_to_idle(&self) -> Option<Ttl> {
        self.idle.as_deref().map(Idle::limit)
    }

    /// The removal listener.
    pub fn listener(&self) -> &L {
        &self.listener
    }

    /// The removal listener, to read or reset what it gathered.
    pub fn listener_mut(&mut self) -> &mut L {
        &mut self.listener
    }

    /// Entries held right now, including expired ones not reclaimed yet.
    ///
    /// Unlike [`len`](crate::backend::Backend::len) this does no work; it shows what memory holds.
    ///
    /// ```
    /// use jwm_cache_core::{Backend, Lookup, Deadline, Instant, MemoryBackend};
    ///
    /// let mut store = MemoryBackend::<u32, u32>::new();
    /// store.set(1, 1, Deadline::at(Instant::from_nanos(10)), Instant::ZERO).unwrap();
    /// let later = Instant::from_nanos(20);
    /// assert_eq!(store.stored(), 1); // expired, not reclaimed yet
    /// assert_eq!(store.len(later).unwrap(), 0);
    /// assert_eq!(store.stored(), 0);
    /// ```
    pub fn stored(&self) -> usize {
        self.nodes.len()
    }

    /// The total weight of the entries held right now (a weight of 0 counting as 1),
    /// including expired ones not reclaimed yet; with the default [`UnitWeight`],
    /// [`stored`](Self::stored).
    ///
    /// ```
    /// use jwm_cache_core::{Backend, Lookup, Deadline, Instant, MemoryBackend};
    ///
    /// let mut store = MemoryBackend::<u32, &str>::new().with_weigher(|_: &u32, v: &&str| v.len());
    /// store.set(1, "four", Deadline::NEVER, Instant::ZERO).unwrap();
    /// assert_eq!(store.weight(), 4);
    /// ```
    pub fn weight(&self) -> usize {
        self.weight
    }
}

/// The bytes of a default store that a hit with a [`KeyHash`] reads: from `eviction`
/// to the end of the table's control pointer and mask (for the layout test in `cache`).
#[cfg(all(test, target_pointer_width = "64"))]
pub(crate) fn read_on_hit() -> core::ops::Range<usize> {
    use core::mem::offset_of;
    type Store = MemoryBackend<u64, u64>;
    offset_of!(Store, eviction)..offset_of!(Store, table) + 16
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::Backend;

    #[test]
    fn an_empty_store_is_small() {
        // Sharded caches hold one store per shard: the wheel's slot heads (2 KiB) are
        // only allocated by the first insert. 16 of these bytes save time on hot
        // paths: the hasher's fingerprint (a sharded cache hashes a key once) and the
        // wheel's first due tick (an insert need not scan the wheel).
        let size = core::mem::size_of::<MemoryBackend<u64, u64>>();
        assert!(size <= 280, "{size} bytes");
    }

    #[test]
    fn new_and_with_capacity_are_one_type() {
        let stores: [MemoryBackend<u8, u8>; 2] =
            [MemoryBackend::new(), MemoryBackend::with_capacity(3)];
        assert_eq!(stores.map(|s| s.capacity()), [None, Some(3)]);
    }
}
