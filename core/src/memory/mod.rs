//! The in-memory backend: a hash table over dense nodes, a timer wheel for expiry and
//! SIEVE for capacity.

mod node;
mod sieve;
mod wheel;

use alloc::vec::Vec;
use core::convert::Infallible;
use core::hash::{BuildHasher, Hash};

use foldhash::fast::RandomState;
use hashbrown::HashTable;

use crate::backend::{Backend, Entry, Reclaimed};
use crate::time::{Deadline, Instant};

use node::Node;
use sieve::{Sieve, SieveLink};
use wheel::{TimerWheel, WheelLink};

/// The null link of the intrusive lists.
const NIL: u32 = u32::MAX;
/// Positions are `u32`, with [`NIL`] reserved.
const MAX_ENTRIES: usize = (u32::MAX - 1) as usize;
/// Wheel work (expiries and cascades) an insert may do, so a backlog never stalls one.
const RECLAIM_BUDGET: usize = 8;

/// An in-memory store of `K -> E` with per-entry deadlines and an optional capacity.
///
/// - **Lookups compare keys**: the table holds positions and checks the stored key, so a
///   hash collision can never return another key's value. The default hasher is
///   foldhash with a per-table seed, measured faster than FNV on the hit path
///   (BENCHMARKS.md). With the core's `std` feature (on in `jwm-cache`) the seed draws
///   on OS entropy, so keys cannot be precomputed to collide as they can with FNV;
///   without it the seed comes from addresses only. Any `BuildHasher` can be given to
///   [`with_hasher`](MemoryBackend::with_hasher).
/// - **Expiry without reads**: deadlines are indexed by a hierarchical timer wheel (see
///   ARCHITECTURE.md); each insert reclaims a bounded number of due entries, amortized
///   O(1), so a stream of unique keys at rate r with TTL t holds about r·t entries.
///   [`len`](Backend::len) reclaims every due entry first, so it never counts one; it
///   is the one call whose cost grows with the backlog of expired entries.
/// - **Capacity**: when full, an insert evicts by SIEVE. An expired victim counts as an
///   expiration, a live one as an eviction. A capacity of 0 stores nothing. Without a
///   capacity, at most 2^32 − 2 entries are held; beyond that an arbitrary one is evicted.
///
/// ```
/// use jwm_cache_core::{Backend, Instant, MemoryBackend, Ttl};
///
/// let mut store = MemoryBackend::<u32, &str>::with_capacity(2);
/// let now = Instant::ZERO;
/// let forever = Ttl::NEVER.deadline_from(now);
/// store.set(1, "one", forever, now).unwrap();
/// store.set(2, "two", forever, now).unwrap();
/// store.get(&1, now).unwrap(); // visited: SIEVE keeps it
/// store.set(3, "three", forever, now).unwrap();
/// assert_eq!(store.get(&2, now).unwrap(), None);
/// assert_eq!(store.len(now).unwrap(), 2);
/// assert_eq!(store.reclaimed().evictions, 1);
/// ```
pub struct MemoryBackend<K, E, H = RandomState> {
    table: HashTable<u32>,
    nodes: Vec<Node<K, E>>,
    wheel: TimerWheel,
    sieve: Sieve,
    capacity: Option<usize>,
    hasher: H,
    reclaimed: Reclaimed,
}

impl<K, E> MemoryBackend<K, E> {
    /// An unbounded store.
    ///
    /// ```
    /// use jwm_cache_core::{Backend, Deadline, Instant, MemoryBackend};
    ///
    /// let mut store = MemoryBackend::<String, Vec<u8>>::new();
    /// store.set("k".into(), vec![1], Deadline::NEVER, Instant::ZERO).unwrap();
    /// assert_eq!(store.capacity(), None);
    /// ```
    pub fn new() -> Self {
        Self::with_hasher(None, RandomState::default())
    }

    /// A store holding at most `capacity` entries (0 stores nothing).
    ///
    /// ```
    /// use jwm_cache_core::{Backend, Deadline, Instant, MemoryBackend};
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

impl<K, E, H> MemoryBackend<K, E, H> {
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
            sieve: Sieve::new(),
            capacity,
            hasher,
            reclaimed: Reclaimed::default(),
        }
    }

    /// Entries held right now, including expired ones not reclaimed yet.
    ///
    /// Unlike [`len`](Backend::len) this does no work; it shows what memory holds.
    ///
    /// ```
    /// use jwm_cache_core::{Backend, Deadline, Instant, MemoryBackend};
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

    fn limit(&self) -> usize {
        self.capacity.map_or(MAX_ENTRIES, |c| c.min(MAX_ENTRIES))
    }

    /// Only a bounded store keeps the SIEVE queue.
    fn tracks_order(&self) -> bool {
        self.capacity.is_some()
    }
}

impl<K: Hash + Eq, E, H: BuildHasher> MemoryBackend<K, E, H> {
    fn find(&self, hash: u64, key: &K) -> Option<u32> {
        let nodes = &self.nodes;
        self.table
            .find(hash, |&i| nodes[i as usize].key == *key)
            .copied()
    }

    /// Removes the node at `index` from every index and the table, moving the last node
    /// into its place.
    fn remove_at(&mut self, index: u32, hash: u64) -> Node<K, E> {
        self.wheel.unlink(self.nodes.as_mut_slice(), index);
        if self.tracks_order() {
            self.sieve.unlink(self.nodes.as_mut_slice(), index);
        }
        if let Ok(entry) = self.table.find_entry(hash, |&i| i == index) {
            entry.remove();
        }
        let last = (self.nodes.len() - 1) as u32;
        let removed = self.nodes.swap_remove(index as usize);
        if index != last {
            self.wheel.relocate(self.nodes.as_mut_slice(), last, index);
            if self.tracks_order() {
                self.sieve.relocate(self.nodes.as_mut_slice(), last, index);
            }
            let moved = self.hasher.hash_one(&self.nodes[index as usize].key);
            if let Some(slot) = self.table.find_mut(moved, |&i| i == last) {
                *slot = index;
            }
        }
        removed
    }

    fn remove_index(&mut self, index: u32) -> Node<K, E> {
        let hash = self.hasher.hash_one(&self.nodes[index as usize].key);
        self.remove_at(index, hash)
    }

    /// Reclaims due entries, at most `budget` units of wheel work.
    fn reclaim(&mut self, now: Instant, mut budget: usize) {
        while let Some(index) = self
            .wheel
            .pop_expired(self.nodes.as_mut_slice(), now, &mut budget)
        {
            self.remove_index(index);
            self.reclaimed.expirations += 1;
        }
    }

    fn evict_one(&mut self, now: Instant) {
        let victim = if self.tracks_order() {
            self.sieve.victim(self.nodes.as_mut_slice())
        } else {
            (!self.nodes.is_empty()).then_some(0)
        };
        if let Some(victim) = victim {
            let node = self.remove_index(victim);
            if node.deadline.is_expired(now) {
                self.reclaimed.expirations += 1;
            } else {
                self.reclaimed.evictions += 1;
            }
        }
    }
}

impl<K: Hash + Eq, E, H: BuildHasher> Backend<K, E> for MemoryBackend<K, E, H> {
    type Error = Infallible;
    const NAME: &'static str = "memory";

    #[inline]
    fn get_entry(&mut self, key: &K, now: Instant) -> Result<Option<Entry<&E>>, Infallible> {
        let hash = self.hasher.hash_one(key);
        let Some(index) = self.find(hash, key) else {
            return Ok(None);
        };
        if self.nodes[index as usize].deadline.is_expired(now) {
            self.remove_at(index, hash);
            self.reclaimed.expirations += 1;
            return Ok(None);
        }
        let node = &mut self.nodes[index as usize];
        // Store only on a change: a hit on a visited entry must not dirty its cache line.
        if !node.sieve.visited {
            node.sieve.visited = true;
        }
        Ok(Some(Entry {
            value: &node.value,
            deadline: node.deadline,
        }))
    }

    fn set(
        &mut self,
        key: K,
        value: E,
        deadline: Deadline,
        now: Instant,
    ) -> Result<(), Infallible> {
        self.reclaim(now, RECLAIM_BUDGET);
        let hash = self.hasher.hash_one(&key);
        if let Some(index) = self.find(hash, &key) {
            let node = &mut self.nodes[index as usize];
            if !node.deadline.is_expired(now) {
                // A live entry is updated in place; SIEVE counts the write as a visit.
                node.value = value;
                node.sieve.visited = true;
                if node.deadline != deadline {
                    node.deadline = deadline;
                    self.wheel.unlink(self.nodes.as_mut_slice(), index);
                    if !deadline.is_never() {
                        self.wheel.insert(self.nodes.as_mut_slice(), index);
                    }
                }
                return Ok(());
            }
            self.remove_at(index, hash);
            self.reclaimed.expirations += 1;
        }
        let limit = self.limit();
        if limit == 0 {
            return Ok(());
        }
        if self.nodes.len() >= limit {
            self.evict_one(now);
        }
        let index = self.nodes.len() as u32;
        self.nodes.push(Node {
            key,
            value,
            deadline,
            wheel: WheelLink::UNLINKED,
            sieve: SieveLink::UNLINKED,
        });
        let (nodes, hasher) = (&self.nodes, &self.hasher);
        self.table
            .insert_unique(hash, index, |&i| hasher.hash_one(&nodes[i as usize].key));
        if !deadline.is_never() {
            self.wheel.insert(self.nodes.as_mut_slice(), index);
        }
        if self.tracks_order() {
            self.sieve.push_newest(self.nodes.as_mut_slice(), index);
        }
        Ok(())
    }

    fn remove(&mut self, key: &K, now: Instant) -> Result<bool, Infallible> {
        let hash = self.hasher.hash_one(key);
        let Some(index) = self.find(hash, key) else {
            return Ok(false);
        };
        let node = self.remove_at(index, hash);
        let live = !node.deadline.is_expired(now);
        if !live {
            self.reclaimed.expirations += 1;
        }
        Ok(live)
    }

    fn clear(&mut self) -> Result<(), Infallible> {
        self.table.clear();
        self.nodes.clear();
        self.wheel.clear();
        self.sieve = Sieve::new();
        self.reclaimed = Reclaimed::default();
        Ok(())
    }

    fn len(&mut self, now: Instant) -> Result<usize, Infallible> {
        self.reclaim(now, usize::MAX);
        for index in self.wheel.drain_current(self.nodes.as_mut_slice(), now) {
            self.remove_index(index);
            self.reclaimed.expirations += 1;
        }
        Ok(self.nodes.len())
    }

    fn capacity(&self) -> Option<usize> {
        self.capacity
    }

    fn reclaimed(&self) -> Reclaimed {
        self.reclaimed
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::hash::BuildHasherDefault;
    use core::hash::Hasher;

    /// Every key hashes to 0: the worst possible collisions.
    #[derive(Default)]
    struct Constant;

    impl Hasher for Constant {
        fn finish(&self) -> u64 {
            0
        }
        fn write(&mut self, _: &[u8]) {}
    }

    #[test]
    fn colliding_hashes_never_return_another_keys_value() {
        let mut store = MemoryBackend::<u32, u32, _>::with_hasher(
            None,
            BuildHasherDefault::<Constant>::default(),
        );
        let now = Instant::ZERO;
        for k in 0..200 {
            store.set(k, k * 10, Deadline::NEVER, now).unwrap();
        }
        for k in (0..200).step_by(3) {
            assert!(store.remove(&k, now).unwrap());
        }
        for k in 0..200 {
            let expected = (k % 3 != 0).then_some(k * 10);
            assert_eq!(store.get(&k, now).unwrap().copied(), expected);
        }
        assert_eq!(store.get(&999, now).unwrap(), None);
    }

    #[test]
    fn an_empty_store_is_small() {
        // Sharded caches hold one store per shard: the wheel's slot heads (2 KiB) are
        // only allocated by the first insert.
        let size = core::mem::size_of::<MemoryBackend<u64, u64>>();
        assert!(size <= 256, "{size} bytes");
    }

    #[test]
    fn capacity_zero_stores_nothing() {
        let mut store = MemoryBackend::<u32, u32>::with_capacity(0);
        store.set(1, 1, Deadline::NEVER, Instant::ZERO).unwrap();
        assert_eq!(store.len(Instant::ZERO).unwrap(), 0);
        assert_eq!(store.reclaimed(), Reclaimed::default());
    }

    #[test]
    fn an_expired_victim_counts_as_an_expiration() {
        let mut store = MemoryBackend::<u32, u32>::with_capacity(1);
        let t0 = Instant::ZERO;
        store
            .set(1, 1, Deadline::at(Instant::from_nanos(5)), t0)
            .unwrap();
        store
            .set(2, 2, Deadline::NEVER, Instant::from_nanos(10))
            .unwrap();
        assert_eq!(
            store.reclaimed(),
            Reclaimed {
                expirations: 1,
                evictions: 0
            }
        );
        store
            .set(3, 3, Deadline::NEVER, Instant::from_nanos(10))
            .unwrap();
        assert_eq!(
            store.reclaimed(),
            Reclaimed {
                expirations: 1,
                evictions: 1
            }
        );
    }
}
