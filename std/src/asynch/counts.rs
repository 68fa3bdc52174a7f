//! Counters that tasks on many threads add to at once.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Mutex, PoisonError};

use jwm_cache_core::{Counters, Counts, Reclaimed};

/// [`Counts`] in atomics: each operation adds what the core's counting rules say. A
/// clear retires them into the lifetime totals.
#[derive(Default)]
pub(crate) struct AtomicCounts {
    hits: AtomicU64,
    misses: AtomicU64,
    coalesced: AtomicU64,
    errors: AtomicU64,
    codec_errors: AtomicU64,
    /// What was counted before the last clear.
    retired: Mutex<Counters>,
}

impl AtomicCounts {
    fn counters(&self) -> [(&AtomicU64, fn(&Counts) -> u64); 5] {
        [
            (&self.hits, |c| c.hits),
            (&self.misses, |c| c.misses),
            (&self.coalesced, |c| c.coalesced),
            (&self.errors, |c| c.errors),
            (&self.codec_errors, |c| c.codec_errors),
        ]
    }

    pub(crate) fn add(&self, counts: Counts) {
        for (counter, field) in self.counters() {
            let n = field(&counts);
            if n > 0 {
                counter.fetch_add(n, Relaxed);
            }
        }
    }

    /// Recounts one miss as coalesced: its caller waited for another's computation.
    pub(crate) fn coalesce_miss(&self) {
        self.coalesced.fetch_add(1, Relaxed);
        self.misses.fetch_sub(1, Relaxed);
    }

    /// Starts counting again from 0, adding what was counted so far, and the backend's
    /// `reclaimed` counts (which its clear restarts), to the lifetime totals. Each
    /// counter is swapped, so a call counted at the same time lands on one side only.
    pub(crate) fn retire(&self, reclaimed: Reclaimed) {
        let counts = Counts {
            hits: self.hits.swap(0, Relaxed),
            misses: self.misses.swap(0, Relaxed),
            coalesced: self.coalesced.swap(0, Relaxed),
            errors: self.errors.swap(0, Relaxed),
            codec_errors: self.codec_errors.swap(0, Relaxed),
        };
        *self.retired.lock().unwrap_or_else(PoisonError::into_inner) +=
            Counters::of(counts, reclaimed);
    }

    /// Counted since the last clear.
    pub(crate) fn get(&self) -> Counts {
        Counts {
            hits: self.hits.load(Relaxed),
            misses: self.misses.load(Relaxed),
            coalesced: self.coalesced.load(Relaxed),
            errors: self.errors.load(Relaxed),
            codec_errors: self.codec_errors.load(Relaxed),
        }
    }

    /// Counted before the last clear.
    pub(crate) fn retired(&self) -> Counters {
        *self.retired.lock().unwrap_or_else(PoisonError::into_inner)
    }
}
