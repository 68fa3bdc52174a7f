//! A store's total weight, kept in step with the pool it may share with other stores.

use super::MemoryBackend;

impl<K, E, H, P, W, L> MemoryBackend<K, E, H, P, W, L> {
    pub(super) fn gain_weight(&mut self, weight: usize) {
        let before = self.weight;
        self.weight = self.weight.saturating_add(weight);
        if let Some(pool) = &self.pool {
            // What the store gained, so that a saturated weight is given back exactly.
            pool.add(self.weight - before);
        }
    }

    pub(super) fn lose_weight(&mut self, weight: usize) {
        let weight = weight.min(self.weight);
        self.weight -= weight;
        if let Some(pool) = &self.pool {
            pool.sub(weight);
        }
    }

    /// The most weight this store may hold once `incoming` more arrives: its
    /// `capacity`, less what the other stores of its pool hold. While the others leave
    /// some room, never less than the incoming entry (which the caller has checked fits
    /// `capacity` alone): a store cannot evict the others' entries, so the pool may go
    /// over by that one entry. Once the others alone are over, nothing: the entry is
    /// not stored, or such overshoots would add up, store after store (a CI run saw
    /// 1,004,636 held of a 1,000,000 budget whose heaviest entry weighs 4,000).
    pub(super) fn limit(&self, capacity: usize, incoming: usize) -> usize {
        match &self.pool {
            None => capacity,
            Some(pool) => {
                let others = pool.used().saturating_sub(self.weight);
                let at_least = if others <= capacity { incoming } else { 0 };
                capacity.saturating_sub(others).max(at_least)
            }
        }
    }
}
