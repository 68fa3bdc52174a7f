//! Choosing a memory store's parts: each `with_*` returns the same store under another
//! part, taking over the entries it already holds.

use alloc::boxed::Box;
use core::hash::{BuildHasher, Hash};

use crate::time::Ttl;

use super::idle::Idle;
#[cfg(target_has_atomic = "ptr")]
use super::pool::{Membership, WeightPool};
use super::weigher::counted;
#[cfg(target_has_atomic = "ptr")]
use super::{DefaultEviction, WindowChoice};
use super::{Eviction, MemoryBackend, RemovalListener, Weigher};

impl<K, E, H, P, W, L> MemoryBackend<K, E, H, P, W, L> {
    /// The same store under another eviction policy, which takes over the capacity.
    ///
    /// Entries already held join the policy in position order; if they exceed its
    /// capacity, the next insert evicts down to it.
    ///
    /// ```
    /// use jwm_cache_core::{Backend, Lookup, MemoryBackend, Sieve};
    ///
    /// let store = MemoryBackend::<u32, u32>::new().with_eviction(Sieve::new(100));
    /// assert_eq!(store.capacity(), Some(100));
    /// ```
    pub fn with_eviction<Q: Eviction>(self, mut eviction: Q) -> MemoryBackend<K, E, H, Q, W, L>
    where
        K: Hash,
        H: BuildHasher,
    {
        eviction.cleared();
        for (index, node) in self.nodes.iter().enumerate() {
            eviction.inserted(index as u32, self.hasher.hash_one(&node.key));
        }
        MemoryBackend {
            table: self.table,
            nodes: self.nodes,
            wheel: self.wheel,
            eviction,
            weight: self.weight,
            pool: self.pool,
            idle: self.idle,
            weigher: self.weigher,
            listener: self.listener,
            hasher: self.hasher,
            hasher_fingerprint: self.hasher_fingerprint,
            expired: self.expired,
            evicted: self.evicted,
        }
    }

    /// The same store weighing entries by `weigher`: the capacity then bounds their total
    /// weight. Entries already held are weighed again.
    ///
    /// ```
    /// use jwm_cache_core::{Backend, Lookup, Deadline, Instant, MemoryBackend};
    ///
    /// let mut store = MemoryBackend::<u32, u64>::with_capacity(100)
    ///     .with_weigher(|_: &u32, value: &u64| *value as usize);
    /// store.set(1, 60, Deadline::NEVER, Instant::ZERO).unwrap();
    /// store.set(2, 60, Deadline::NEVER, Instant::ZERO).unwrap();
    /// assert_eq!(store.weight(), 60);
    /// ```
    pub fn with_weigher<G: Weigher<K, E>>(self, weigher: G) -> MemoryBackend<K, E, H, P, G, L> {
        let weight = self.nodes.iter().fold(0usize, |total, node| {
            total.saturating_add(counted(&weigher, &node.key, &node.value))
        });
        if let Some(pool) = &self.pool {
            pool.sub(self.weight);
            pool.add(weight);
        }
        MemoryBackend {
            table: self.table,
            nodes: self.nodes,
            wheel: self.wheel,
            eviction: self.eviction,
            weight,
            pool: self.pool,
            idle: self.idle,
            weigher,
            listener: self.listener,
            hasher: self.hasher,
            hasher_fingerprint: self.hasher_fingerprint,
            expired: self.expired,
            evicted: self.evicted,
        }
    }

    /// The same store telling `listener` about every entry that leaves it from now on.
    ///
    /// ```
    /// use jwm_cache_core::{Backend, Lookup, Deadline, Instant, MemoryBackend, RemovalCause};
    ///
    /// let mut causes = Vec::new();
    /// let mut store = MemoryBackend::<u32, u32>::new()
    ///     .with_listener(|_, _, cause| causes.push(cause));
    /// store.set(1, 1, Deadline::at(Instant::from_nanos(5)), Instant::ZERO).unwrap();
    /// store.set(2, 2, Deadline::NEVER, Instant::ZERO).unwrap();
    /// assert_eq!(store.get(&1, Instant::from_nanos(5)).unwrap(), None);
    /// store.remove(&2, Instant::from_nanos(5)).unwrap();
    /// drop(store);
    /// assert_eq!(causes, [RemovalCause::Expired, RemovalCause::Removed]);
    /// ```
    pub fn with_listener<M: RemovalListener<K, E>>(
        self,
        listener: M,
    ) -> MemoryBackend<K, E, H, P, W, M> {
        MemoryBackend {
            table: self.table,
            nodes: self.nodes,
            wheel: self.wheel,
            eviction: self.eviction,
            weight: self.weight,
            pool: self.pool,
            idle: self.idle,
            weigher: self.weigher,
            listener,
            hasher: self.hasher,
            hasher_fingerprint: self.hasher_fingerprint,
            expired: self.expired,
            evicted: self.evicted,
        }
    }

    /// The same store sharing `pool`'s budget with the pool's other stores (see
    /// [`WeightPool`]), reporting `share` of it as its
    /// [`capacity`](crate::backend::Backend::capacity). Its policy's capacity still
    /// bounds it: give it the whole budget.
    ///
    /// Join before the first write: the pool counts what the store holds when it joins,
    /// but the store never gives its weight back if it is dropped.
    ///
    /// ```
    /// use jwm_cache_core::{Backend, MemoryBackend, WeightPool};
    ///
    /// let pool = WeightPool::new(1_000);
    /// let shards: Vec<_> = (0..4)
    ///     .map(|_| MemoryBackend::<u64, u64>::with_capacity(1_000).in_pool(&pool, 250))
    ///     .collect();
    /// assert_eq!(shards.iter().filter_map(|s| s.capacity()).sum::<usize>(), 1_000);
    /// ```
    #[cfg(target_has_atomic = "ptr")]
    pub fn in_pool(mut self, pool: &alloc::sync::Arc<WeightPool>, share: usize) -> Self {
        if let Some(old) = self.pool.take() {
            old.sub(self.weight);
        }
        let membership = Membership::new(pool, share);
        membership.add(self.weight);
        self.pool = Some(Box::new(membership));
        self
    }
    /// The same store expiring entries also after `limit` without a read: each read
    /// moves an entry's deadline to the read plus `limit`, but never past the deadline
    /// it was written with. [`Ttl::NEVER`] turns it off.
    ///
    /// Entries already held keep the deadlines they were written with (a read never
    /// moves a deadline past that): only entries written from now on idle out. Set it
    /// before the first write, as the cache builders do. Setting it again
    /// keeps each entry's own deadline; turning it off leaves entries with the deadline
    /// their last read gave them.
    ///
    /// A cache with `refresh_after` or `stale_if_error` turns it off in a store it is
    /// given ([`Backend::keep_deadlines_as_written`](crate::Backend::keep_deadlines_as_written)):
    /// those read an entry's deadline as its TTL's end.
    ///
    /// ```
    /// use core::time::Duration;
    /// use jwm_cache_core::{Backend, Lookup, Deadline, Instant, MemoryBackend};
    ///
    /// let mut store = MemoryBackend::<u32, u32>::new().with_time_to_idle(Duration::from_secs(10));
    /// let at = |secs: u64| Instant::from_nanos(secs * 1_000_000_000);
    /// store.set(1, 1, Deadline::at(at(25)), at(0)).unwrap();
    /// assert!(store.get(&1, at(9)).unwrap().is_some()); // read: idle until 19
    /// assert!(store.get(&1, at(18)).unwrap().is_some()); // read: idle until 28, capped at 25
    /// assert_eq!(store.get(&1, at(25)).unwrap(), None);
    /// ```
    pub fn with_time_to_idle(mut self, limit: impl Into<Ttl>) -> Self {
        let limit = limit.into();
        let earlier = self.idle.take();
        self.idle = (!limit.is_never()).then(|| match earlier {
            Some(mut idle) => {
                idle.set_limit(limit);
                idle
            }
            None => {
                let mut idle = Idle::new(limit);
                for node in &self.nodes {
                    idle.inserted(node.deadline);
                }
                Box::new(idle)
            }
        });
        self
    }
}

#[cfg(target_has_atomic = "ptr")]
impl<K, E, H, W, L> MemoryBackend<K, E, H, DefaultEviction, W, L> {
    /// The same store, its [`TinyLfu`](super::TinyLfu) choosing its window size with
    /// the other stores' that join `choice`: for the shards of one cache, which each see
    /// only a slice of its requests (see [`WindowChoice`]). Without a capacity there is
    /// no policy, and nothing to share. A store under a `TinyLfu` by name joins through
    /// [`TinyLfu::with_window_choice`](super::TinyLfu::with_window_choice).
    ///
    /// ```
    /// use jwm_cache_core::{Backend, MemoryBackend, WeightPool, WindowChoice};
    ///
    /// // Four shards of one cache of 1,000: one budget, one window size.
    /// let (pool, choice) = (WeightPool::new(1_000), WindowChoice::new(4));
    /// let shards: Vec<_> = (0..4)
    ///     .map(|_| {
    ///         MemoryBackend::<u64, u64>::with_capacity(1_000)
    ///             .with_window_choice(&choice)
    ///             .in_pool(&pool, 250)
    ///     })
    ///     .collect();
    /// assert_eq!(shards.iter().filter_map(|s| s.capacity()).sum::<usize>(), 1_000);
    /// assert_eq!(choice.millionths(), 10_000); // 1% until the shards' votes move it
    /// ```
    pub fn with_window_choice(mut self, choice: &alloc::sync::Arc<WindowChoice>) -> Self {
        if let Some(policy) = self.eviction.as_deref_mut() {
            policy.join(choice);
        }
        self
    }
}

#[cfg(test)]
mod tests {
    use crate::backend::{Backend, Lookup};
    use crate::memory::{MemoryBackend, Sieve, Unbounded};
    use crate::time::{Deadline, Instant};

    #[test]
    fn parts_chosen_at_compile_time_add_no_bytes() {
        let unbounded = MemoryBackend::<u64, u64>::new().with_eviction(Unbounded);
        assert!(
            core::mem::size_of_val(&unbounded) < core::mem::size_of::<MemoryBackend<u64, u64>>()
        );
    }

    #[test]
    fn parts_set_on_a_filled_store_take_over_its_entries() {
        let now = Instant::ZERO;
        let mut store = MemoryBackend::<u32, u32>::new();
        for k in 0..5 {
            store.set(k, k, Deadline::NEVER, now).unwrap();
        }
        let mut store = store
            .with_weigher(|_: &u32, value: &u32| *value as usize)
            .with_eviction(Sieve::new(4));
        // 0 + 1 + 2 + 3 + 4, and key 0's weight of 0 counts as 1.
        assert_eq!(store.weight(), 11);
        store.set(9, 1, Deadline::NEVER, now).unwrap();
        assert!(store.weight() <= 4, "{}", store.weight());
        assert_eq!(store.get(&9, now).unwrap(), Some(&1));
    }

    #[cfg(target_has_atomic = "ptr")]
    #[test]
    fn a_pool_goes_over_by_one_entry_at_most() {
        use crate::memory::WeightPool;
        let now = Instant::ZERO;
        let pool = WeightPool::new(10);
        let store = |share| {
            MemoryBackend::<u32, u32>::with_capacity(10)
                .in_pool(&pool, share)
                .with_weigher(|_: &u32, value: &u32| *value as usize)
        };
        let (mut a, mut b, mut c) = (store(4), store(3), store(3));
        a.set(1, 10, Deadline::NEVER, now).unwrap();
        // The others leave no room, but are within the budget: stored, 4 over.
        b.set(2, 4, Deadline::NEVER, now).unwrap();
        assert_eq!(pool.used(), 14);
        // Now the others alone are over: not stored, so the overshoot does not grow.
        c.set(3, 4, Deadline::NEVER, now).unwrap();
        assert_eq!(c.get(&3, now).unwrap(), None);
        assert_eq!(pool.used(), 14);
    }
}
