//! The near copies: decoded values in sharded memory, each with the tag it was fetched
//! under, bounded by a capacity.

use std::hash::{BuildHasher, Hash};
use std::sync::{Mutex, MutexGuard, PoisonError};

use foldhash::fast::RandomState;
use jwm_cache_core::{Backend, Deadline, Entry, Instant, Lookup, NoListener, Options, UnitWeight};

use super::epochs::{Epochs, Tag};
use crate::shards::{ShardStore, memory_backends, shard_count};

/// A decoded value, and what it was fetched under.
#[derive(Clone)]
pub(crate) struct NearCopy<V> {
    value: V,
    tag: Tag,
}

/// One lock's share of the copies, and the hits it served.
struct Shard<K, V> {
    copies: ShardStore<K, NearCopy<V>>,
    hits: u64,
}

/// The near tier's memory.
pub(crate) struct NearMemory<K, V> {
    shards: Box<[Mutex<Shard<K, V>>]>,
    router: RandomState,
}

impl<K, V> NearMemory<K, V> {
    /// At most `capacity` copies, over as many locks as an in-memory cache of that
    /// capacity has, evicting as it does.
    pub(crate) fn new(capacity: usize) -> Self {
        let mut options = Options::new(());
        options.capacity = Some(capacity);
        let mut make = memory_backends(&options, UnitWeight, NoListener);
        let shards = (0..shard_count(&options))
            .map(|_| {
                Mutex::new(Shard {
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

    fn shard<Q: Hash + ?Sized>(&self, key: &Q) -> MutexGuard<'_, Shard<K, V>> {
        let index = self.router.hash_one(key) as usize & (self.shards.len() - 1);
        lock(&self.shards[index])
    }

    /// The hits served since the last `clear`.
    pub(crate) fn hits(&self) -> u64 {
        self.shards.iter().map(|shard| lock(shard).hits).sum()
    }
}

impl<K: Hash + Eq, V: Clone> NearMemory<K, V> {
    /// The copy of `key` live at `now`, if tracking has not retired it since its fetch.
    /// A retired copy is dropped.
    #[inline]
    pub(crate) fn get<Q>(&self, key: &Q, now: Instant, epochs: &Epochs) -> Option<Entry<V>>
    where
        K: std::borrow::Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
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

    /// Drops every copy, and restarts the hit count.
    pub(crate) fn clear(&self) {
        for shard in self.shards.iter() {
            let mut shard = lock(shard);
            let _ = shard.copies.clear();
            shard.hits = 0;
        }
    }

    /// Drops every copy; the hit count stays.
    pub(crate) fn forget(&self) {
        for shard in self.shards.iter() {
            let _ = lock(shard).copies.clear();
        }
    }
}

/// A panic under a lock can only come from a key's `Hash`/`Eq` or a value's `Clone`;
/// the copies stay usable, so poisoning is ignored.
fn lock<T>(shard: &Mutex<T>) -> MutexGuard<'_, T> {
    shard.lock().unwrap_or_else(PoisonError::into_inner)
}
