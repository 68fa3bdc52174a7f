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
    /// `capacity`, less what the other stores of its pool hold, but never less than the
    /// incoming entry, which the caller has checked fits `capacity` alone.
    pub(super) fn limit(&self, capacity: usize, incoming: usize) -> usize {
        match &self.pool {
            None => capacity,
            Some(pool) => {
                let others = pool.used().saturating_sub(self.weight);
                capacity.saturating_sub(others).max(incoming)
            }
        }
    }
}
