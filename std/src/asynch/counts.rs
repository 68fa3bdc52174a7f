//! Counters that tasks on many threads add to at once.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use jwm_cache_core::Counts;

/// [`Counts`] in atomics: each operation adds what the core's counting rules say.
#[derive(Default)]
pub(crate) struct AtomicCounts {
    hits: AtomicU64,
    misses: AtomicU64,
    errors: AtomicU64,
}

impl AtomicCounts {
    pub(crate) fn add(&self, counts: Counts) {
        for (counter, n) in [
            (&self.hits, counts.hits),
            (&self.misses, counts.misses),
            (&self.errors, counts.errors),
        ] {
            if n > 0 {
                counter.fetch_add(n, Relaxed);
            }
        }
    }

    /// Starts again from `counts`.
    pub(crate) fn reset(&self, counts: Counts) {
        self.hits.store(counts.hits, Relaxed);
        self.misses.store(counts.misses, Relaxed);
        self.errors.store(counts.errors, Relaxed);
    }

    pub(crate) fn get(&self) -> Counts {
        Counts {
            hits: self.hits.load(Relaxed),
            misses: self.misses.load(Relaxed),
            errors: self.errors.load(Relaxed),
        }
    }
}
