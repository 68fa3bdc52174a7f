//! Which keys' refreshes are in flight, read without a lock: every hit on a due key
//! asks, until its refresh lands, so the answer must cost no more than a hit.

use std::hash::{BuildHasher, Hash};
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use foldhash::fast::RandomState;

const SLOTS: usize = 64;

/// A hint, never the truth: the flights table decides. A slot holds the hash of the
/// last key whose refresh started there; two keys of one slot just take the slow path.
pub(super) struct RefreshesInFlight {
    hasher: RandomState,
    slots: [AtomicU64; SLOTS],
}

impl Default for RefreshesInFlight {
    fn default() -> Self {
        RefreshesInFlight {
            hasher: RandomState::default(),
            slots: std::array::from_fn(|_| AtomicU64::new(0)),
        }
    }
}

impl RefreshesInFlight {
    /// The key's mark: its hash, never zero (an empty slot).
    pub(super) fn mark<K: Hash + ?Sized>(&self, key: &K) -> u64 {
        self.hasher.hash_one(key) | 1
    }

    /// Whether the refresh marked `mark` is in flight (as far as the hint knows).
    #[inline]
    pub(super) fn contains(&self, mark: u64) -> bool {
        self.slot(mark).load(Relaxed) == mark
    }

    pub(super) fn started(&self, mark: u64) {
        self.slot(mark).store(mark, Relaxed);
    }

    /// Clears the slot, unless another key's refresh took it since.
    pub(super) fn ended(&self, mark: u64) {
        let _ = self.slot(mark).compare_exchange(mark, 0, Relaxed, Relaxed);
    }

    fn slot(&self, mark: u64) -> &AtomicU64 {
        &self.slots[(mark >> 58) as usize % SLOTS]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_mark_is_in_flight_from_its_start_to_its_end() {
        let hints = RefreshesInFlight::default();
        let mark = hints.mark(&7u64);
        assert!(!hints.contains(mark));
        hints.started(mark);
        assert!(hints.contains(mark));
        hints.ended(mark);
        assert!(!hints.contains(mark));
        assert_ne!(hints.mark(&0u64), 0);
    }
}
