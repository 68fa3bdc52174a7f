//! The near copies: decoded values in sharded memory, each with the tag it was fetched
//! under, bounded by a capacity: a count, or a total weight.

use std::hash::{BuildHasher, Hash};

use foldhash::fast::RandomState;
use jwm_cache_core::{Backend, Deadline, Entry, Instant, Lookup, NoListener, Options, Weigher};

use super::epochs::{Epochs, Tag};
use crate::shard_lock::{MutexGuard, ShardLock};
use crate::shards::{ShardStore, memory_backends, shard_count};

/// A decoded value, and what it was fetched under.
#[derive(Clone)]
pub(crate) struct NearCopy<V> {
    value: V,
    tag: Tag,
}

/// A weigher of values, weighing copies.
#[derive(Clone)]
pub(crate) struct ByValue<W>(pub(crate) W);

impl<K, V, W: Weigher<K, V>> Weigher<K, NearCopy<V>> for ByValue<W> {
    #[inline]
    fn weigh(&self, key: &K, copy: &NearCopy<V>) -> usize {
        self.0.weigh(key, &copy.value)
    }
}

/// One lock's share of the copies, and the hits it served.
struct Shard<K, V, W> {
    copies: ShardStore<K, NearCopy<V>, ByValue<W>>,
    hits: u64,
}

/// The near tier's memory.
pub(crate) struct NearMemory<K, V, W> {
    shards: Box<[ShardLock<Shard<K, V, W>>]>,
    router: RandomState,
}

impl<K, V, W: Weigher<K, V> + Clone> NearMemory<K, V, W> {
    /// Copies of at most `capacity` in total weight (their count, with `UnitWeight`),
    /// over as many locks as an in-memory cache of that capacity has, evicting as it
    /// does.
    pub(crate) fn new(capacity: usize, weigher: W) -> Self {
        let mut options = Options::new(());
        options.capacity = Some(capacity);
        // A hasher of their own: the router picks shards by low bits, which a shared
        // one would leave the same for every key of a shard's table.
        let hasher = RandomState::default();
        let mut make = memory_backends(&options, &hasher, ByValue(weigher), NoListener);
        let shards = (0..shard_count(&options))
            .map(|_| {
                ShardLock::new(Shard {
                    copies: make(),
                    hits: 0,
                })
            })
            .collect();
        NearMemory {
            shards,
            router: RandomState::default(),
        }
    }
}

impl<K, V, W> NearMemory<K, V, W> {
    fn shard<Q: Hash + ?Sized>(&self, key: &Q) -> MutexGuard<'_, Shard<K, V, W>> {
        let index = self.router.hash_one(key) as usize & (self.shards.len() - 1);
        self.shards[index].lock()
    }

    /// The hits served since the last `clear`.
    pub(crate) fn hits(&self) -> u64 {
        self.shards.iter().map(|shard| shard.lock().hits).sum()
    }
}

impl<K: Hash + Eq, V: Clone, W: Weigher<K, V>> NearMemory<K, V, W> {
    /// The copy of `key` live at `now` (the cache's clock), if tracking has not retired
    /// it since its fetch and, at `system_now`, has confirmed within the bound that no
    /// invalidation waits. A retired copy is dropped.
    #[inline]
    pub(crate) fn get<Q>(
        &self,
        key: &Q,
        now: Instant,
        system_now: Instant,
        epochs: &Epochs,
    ) -> Option<Entry<V>>
    where
        K: std::borrow::Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        // First: a confirmation seen here makes the invalidations before it visible to
        // the tag check below.
        if !epochs.is_confirmed(system_now) {
            return None;
        }
        let mut shard = self.shard(key);
        let found = match Lookup::<K, Q, NearCopy<V>>::get_entry(&mut shard.copies, key, now) {
            Ok(Some(entry)) if epochs.is_current(entry.value.tag) => Some(Entry {
                value: entry.value.value.clone(),
                deadline: entry.deadline,
            }),
            Ok(Some(_)) => {
                let _ = Lookup::<K, Q, NearCopy<V>>::remove(&mut shard.copies, key, now);
                None
            }
            _ => None,
        };
        shard.hits += u64::from(found.is_some());
        found
    }

    /// Takes back the hit [`get`](Self::get) counted for `key`'s copy: a many-key call
    /// whose other keys failed served none of its copies (it is counted a miss each).
    pub(crate) fn uncount_hit<Q>(&self, key: &Q)
    where
        K: std::borrow::Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let mut shard = self.shard(key);
        shard.hits = shard.hits.saturating_sub(1);
    }

    /// Keeps `value`, fetched under `tag`, until `deadline`, unless tracking retired
    /// it already.
    pub(crate) fn insert(
        &self,
        key: K,
        value: V,
        tag: Tag,
        deadline: Deadline,
        now: Instant,
        epochs: &Epochs,
    ) {
        let mut shard = self.shard(&key);
        if epochs.is_current(tag) {
            let _ = shard
                .copies
                .set(key, NearCopy { value, tag }, deadline, now);
        }
    }

    /// Drops the copy of `key`, if any.
    pub(crate) fn remove<Q>(&self, key: &Q)
    where
        K: std::borrow::Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let mut shard = self.shard(key);
        let _ = Lookup::<K, Q, NearCopy<V>>::remove(&mut shard.copies, key, Instant::ZERO);
    }

    /// Drops every copy; the hit count stays.
    pub(crate) fn forget(&self) {
        for shard in self.shards.iter() {
            let _ = shard.lock().copies.clear();
        }
    }

    /// Restarts the hit count, after a clear; the hits it counted until then.
    pub(crate) fn take_hits(&self) -> u64 {
        self.shards
            .iter()
            .map(|shard| core::mem::take(&mut shard.lock().hits))
            .sum()
    }
}
