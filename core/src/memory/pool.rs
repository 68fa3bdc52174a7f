//! One weight budget shared by several stores: the shards of a thread-safe cache hold
//! their capacity together instead of in fixed slices.
//!
//! Fixed slices waste capacity: keys never spread evenly, so some shards evict while
//! others still have room. A store in a pool may hold whatever the other stores leave
//! of the budget, and evicts only its own entries to make room.

#[cfg(target_has_atomic = "ptr")]
pub(super) use shared::Membership;
#[cfg(target_has_atomic = "ptr")]
pub use shared::WeightPool;

/// Without pointer-sized atomics there are no pools: a store is never in one.
#[cfg(not(target_has_atomic = "ptr"))]
pub(super) enum Membership {}

#[cfg(not(target_has_atomic = "ptr"))]
impl Membership {
    pub(super) fn share(&self) -> usize {
        match *self {}
    }

    pub(super) fn used(&self) -> usize {
        match *self {}
    }

    pub(super) fn add(&self, _: usize) {
        match *self {}
    }

    pub(super) fn sub(&self, _: usize) {
        match *self {}
    }
}

#[cfg(target_has_atomic = "ptr")]
mod shared {
    use alloc::sync::Arc;
    use core::sync::atomic::{AtomicUsize, Ordering};

    /// A weight budget shared by the stores that join it with
    /// [`MemoryBackend::in_pool`](crate::memory::MemoryBackend::in_pool).
    ///
    /// Each store still bounds itself by its own capacity (set it to the budget), less
    /// what the other stores hold right now; it evicts only its own entries. So the
    /// stores together hold the whole budget however their keys spread, and a store
    /// always has room for the entry being written if that entry alone fits the budget.
    ///
    /// The total is exact for writes that do not overlap. When a write lands on a store
    /// that holds less than that entry's weight while the others fill the budget, or two
    /// stores write at the same instant, the total passes the budget by that entry until
    /// writes to stores that hold more than the excess evict it. Once the budget is
    /// full, each store keeps about the share it had: keys spread by hash fill the
    /// stores evenly.
    ///
    /// ```
    /// use jwm_cache_core::{Backend, Deadline, Instant, MemoryBackend, WeightPool};
    ///
    /// let pool = WeightPool::new(4);
    /// let mut left = MemoryBackend::<u32, u32>::with_capacity(4).in_pool(&pool, 2);
    /// let mut right = MemoryBackend::<u32, u32>::with_capacity(4).in_pool(&pool, 2);
    /// let now = Instant::ZERO;
    /// for key in 0..3 {
    ///     left.set(key, key, Deadline::NEVER, now).unwrap(); // more than its share
    /// }
    /// right.set(9, 9, Deadline::NEVER, now).unwrap();
    /// assert_eq!((left.stored(), right.stored(), pool.used()), (3, 1, 4));
    /// left.set(3, 3, Deadline::NEVER, now).unwrap(); // full: left evicts its own
    /// assert_eq!((left.stored(), right.stored(), pool.used()), (3, 1, 4));
    /// ```
    #[derive(Debug)]
    pub struct WeightPool {
        budget: usize,
        used: AtomicUsize,
    }

    impl WeightPool {
        /// A pool of `budget`, shared through the `Arc`.
        pub fn new(budget: usize) -> Arc<Self> {
            Arc::new(WeightPool {
                budget,
                used: AtomicUsize::new(0),
            })
        }

        /// The budget.
        pub fn budget(&self) -> usize {
            self.budget
        }

        /// The weight its stores hold right now, summed.
        pub fn used(&self) -> usize {
            self.used.load(Ordering::Relaxed)
        }
    }

    /// A store's place in a pool: the pool, and the part of the budget reported as the
    /// store's capacity, so that the stores' capacities sum to the budget.
    pub(in crate::memory) struct Membership {
        pool: Arc<WeightPool>,
        share: usize,
    }

    impl Membership {
        pub(in crate::memory) fn new(pool: &Arc<WeightPool>, share: usize) -> Self {
            Membership {
                pool: Arc::clone(pool),
                share,
            }
        }

        pub(in crate::memory) fn share(&self) -> usize {
            self.share
        }

        pub(in crate::memory) fn used(&self) -> usize {
            self.pool.used()
        }

        // Relaxed: the total is a bound checked on each write, not a guard of other
        // memory; a store's own weight stays exact under its owner's lock.
        pub(in crate::memory) fn add(&self, weight: usize) {
            self.pool.used.fetch_add(weight, Ordering::Relaxed);
        }

        pub(in crate::memory) fn sub(&self, weight: usize) {
            self.pool.used.fetch_sub(weight, Ordering::Relaxed);
        }
    }
}

#[cfg(all(test, target_has_atomic = "ptr"))]
mod tests {
    use super::*;
    use crate::backend::{Backend, Lookup};
    use crate::memory::MemoryBackend;
    use crate::time::{Deadline, Instant};
    use alloc::sync::Arc;
    use alloc::vec::Vec;

    fn pooled(pool: &Arc<WeightPool>, stores: usize) -> Vec<MemoryBackend<u32, usize>> {
        let budget = pool.budget();
        (0..stores)
            .map(|_| MemoryBackend::with_capacity(budget).in_pool(pool, budget / stores))
            .collect()
    }

    #[test]
    fn stores_fill_the_whole_budget_however_keys_spread() {
        let pool = WeightPool::new(100);
        let mut stores = pooled(&pool, 4);
        let now = Instant::ZERO;
        // Skewed: store 0 takes 70 keys, the rest 10 each.
        for key in 0..130u32 {
            let store = if key < 70 { 0 } else { 1 + key as usize % 3 };
            stores[store].set(key, 1, Deadline::NEVER, now).unwrap();
        }
        assert_eq!(pool.used(), 100);
        let held: usize = stores.iter().map(|s| s.stored()).sum();
        assert_eq!(held, 100);
        // Full, each store evicts its own entry to make room.
        let before: Vec<usize> = stores.iter().map(|s| s.stored()).collect();
        stores[2].set(1_000, 1, Deadline::NEVER, now).unwrap();
        let after: Vec<usize> = stores.iter().map(|s| s.stored()).collect();
        assert_eq!((before, pool.used()), (after, 100));
    }

    #[test]
    fn an_overshoot_is_evicted_by_the_next_write_elsewhere() {
        let pool = WeightPool::new(10);
        let mut stores: Vec<MemoryBackend<u32, usize, _, _, _>> = (0..2)
            .map(|_| {
                MemoryBackend::with_capacity(10)
                    .with_weigher(|_: &u32, w: &usize| *w)
                    .in_pool(&pool, 5)
            })
            .collect();
        let now = Instant::ZERO;
        stores[0].set(1, 9, Deadline::NEVER, now).unwrap();
        // Store 1 holds nothing to evict: it takes its entry, past the budget.
        stores[1].set(2, 4, Deadline::NEVER, now).unwrap();
        assert_eq!(pool.used(), 13);
        stores[0].set(3, 1, Deadline::NEVER, now).unwrap();
        assert_eq!(pool.used(), 5);
        assert_eq!(stores[0].get(&3, now).unwrap(), Some(&1));
        // Heavier than the budget: never stored.
        stores[1].set(4, 11, Deadline::NEVER, now).unwrap();
        assert_eq!(stores[1].get(&4, now).unwrap(), None);
    }

    #[test]
    fn every_departure_returns_its_weight() {
        let pool = WeightPool::new(50);
        let mut stores = pooled(&pool, 2);
        let (t0, t1) = (Instant::ZERO, Instant::from_nanos(10));
        for key in 0..20u32 {
            let deadline = if key % 2 == 0 {
                Deadline::at(t1)
            } else {
                Deadline::NEVER
            };
            stores[key as usize % 2].set(key, 1, deadline, t0).unwrap();
        }
        stores[1].remove(&1, t0).unwrap();
        stores[1].set(3, 1, Deadline::NEVER, t0).unwrap(); // replaced in place
        assert_eq!(pool.used(), 19);
        stores[0].len(t1).unwrap(); // store 0's keys were all even: expired
        assert_eq!(pool.used(), 9);
        stores[1].clear().unwrap();
        assert_eq!(pool.used(), 0);
        let capacities: usize = stores.iter().filter_map(|s| s.capacity()).sum();
        assert_eq!(capacities, 50);
    }
}
