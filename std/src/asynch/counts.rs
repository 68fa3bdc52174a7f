//! Counters that tasks on many threads add to at once.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Mutex, MutexGuard, PoisonError};

use jwm_cache_core::{Counters, Counts, Error, Reclaimed};

/// [`Counts`] in atomics: each operation adds what the core's counting rules say.
///
/// The atomics count since the cache was built and never go back: a clear records
/// where they stood, and "since the last clear" is the difference. So the lifetime
/// totals never dip or double, whatever a reader races with.
#[derive(Default)]
pub(crate) struct AtomicCounts {
    hits: AtomicU64,
    misses: AtomicU64,
    coalesced: AtomicU64,
    errors: AtomicU64,
    codec_errors: AtomicU64,
    refreshes: AtomicU64,
    refresh_failures: AtomicU64,
    stale_served: AtomicU64,
    cleared: Mutex<Cleared>,
}

/// What the last clear left behind.
#[derive(Clone, Copy, Default)]
struct Cleared {
    /// The atomics' values at the clear.
    at: Counts,
    /// The backend's reclaim counts before each clear, which restarts them.
    reclaimed: Reclaimed,
}

impl AtomicCounts {
    /// One hit: the hit path's only write, kept to a single add.
    #[inline]
    pub(crate) fn hit(&self) {
        self.hits.fetch_add(1, Relaxed);
    }

    /// What a lookup found: a hit, or what `Counts::lookup` (with `deferring_miss` if
    /// the caller counts its miss later) makes of anything else.
    #[inline]
    pub(crate) fn looked_up<V, B, S>(
        &self,
        found: &Result<Option<V>, Error<B, S>>,
        deferring_miss: bool,
    ) {
        if let Ok(Some(_)) = found {
            return self.hit();
        }
        let counts = Counts::lookup(found);
        self.add(if deferring_miss {
            counts.deferring_miss()
        } else {
            counts
        });
    }

    pub(crate) fn add(&self, counts: Counts) {
        for (counter, n) in [
            (&self.hits, counts.hits),
            (&self.misses, counts.misses),
            (&self.coalesced, counts.coalesced),
            (&self.errors, counts.errors),
            (&self.codec_errors, counts.codec_errors),
            (&self.refreshes, counts.refreshes),
            (&self.refresh_failures, counts.refresh_failures),
            (&self.stale_served, counts.stale_served),
        ] {
            if n > 0 {
                counter.fetch_add(n, Relaxed);
            }
        }
    }

    /// Starts "since the last clear" from here, after the backend's clear that restarted
    /// its reclaim counts from `reclaimed` (which the lifetime totals keep).
    pub(crate) fn cleared(&self, reclaimed: Reclaimed) {
        let at = self.totals();
        let mut cleared = self.last_clear();
        cleared.at = at;
        cleared.reclaimed = cleared.reclaimed + reclaimed;
    }

    /// Counted since the last clear.
    pub(crate) fn get(&self) -> Counts {
        let at = self.last_clear().at;
        let now = self.totals();
        Counts {
            hits: now.hits.saturating_sub(at.hits),
            misses: now.misses.saturating_sub(at.misses),
            coalesced: now.coalesced.saturating_sub(at.coalesced),
            errors: now.errors.saturating_sub(at.errors),
            codec_errors: now.codec_errors.saturating_sub(at.codec_errors),
            refreshes: now.refreshes.saturating_sub(at.refreshes),
            refresh_failures: now.refresh_failures.saturating_sub(at.refresh_failures),
            stale_served: now.stale_served.saturating_sub(at.stale_served),
        }
    }

    /// Counted since the cache was built, with the backend's reclaim counts `reclaimed`
    /// since the last clear.
    pub(crate) fn lifetime(&self, reclaimed: Reclaimed) -> Counters {
        let retired = self.last_clear().reclaimed;
        Counters::of(self.totals(), retired + reclaimed)
    }

    fn totals(&self) -> Counts {
        Counts {
            hits: self.hits.load(Relaxed),
            misses: self.misses.load(Relaxed),
            coalesced: self.coalesced.load(Relaxed),
            errors: self.errors.load(Relaxed),
            codec_errors: self.codec_errors.load(Relaxed),
            refreshes: self.refreshes.load(Relaxed),
            refresh_failures: self.refresh_failures.load(Relaxed),
            stale_served: self.stale_served.load(Relaxed),
        }
    }

    fn last_clear(&self) -> MutexGuard<'_, Cleared> {
        self.cleared.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_clear_restarts_the_counts_and_the_lifetime_totals_keep_them() {
        let counts = AtomicCounts::default();
        counts.add(Counts {
            hits: 3,
            ..Counts::default()
        });
        // The backend had evicted 2 entries, and its clear restarted that count.
        counts.cleared(Reclaimed {
            evictions: 2,
            expirations: 0,
            near_hits: 5,
        });
        counts.add(Counts::missed(false));
        counts.add(Counts::missed(true));
        assert_eq!(
            counts.get(),
            Counts {
                misses: 1,
                coalesced: 1,
                ..Counts::default()
            }
        );
        let since_the_clear = Reclaimed {
            evictions: 1,
            expirations: 4,
            near_hits: 2,
        };
        let lifetime = counts.lifetime(since_the_clear);
        assert_eq!(
            (lifetime.hits, lifetime.misses, lifetime.coalesced),
            (3, 1, 1)
        );
        assert_eq!((lifetime.evictions, lifetime.expirations), (3, 4));
        assert_eq!(lifetime.near_hits, 7);
    }
}
