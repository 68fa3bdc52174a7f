//! A clock that only moves when told to.

use alloc::sync::Arc;
use core::sync::atomic::{AtomicU64, Ordering};
use core::time::Duration;

use super::{Clock, Instant};

/// A deterministic clock for tests and simulations.
///
/// Clones share one timeline, so a test keeps a clone and moves time while a cache owns
/// the other. Time only moves through [`advance`](ManualClock::advance) and
/// [`set`](ManualClock::set).
///
/// ```
/// use core::time::Duration;
/// use jwm_cache_core::{Clock, Instant, ManualClock};
///
/// let clock = ManualClock::new();
/// let held_by_a_cache = clock.clone();
/// clock.advance(Duration::from_secs(2));
/// assert_eq!(held_by_a_cache.now(), Instant::from_nanos(2_000_000_000));
/// ```
#[derive(Clone, Debug, Default)]
pub struct ManualClock {
    nanos: Arc<AtomicU64>,
}

impl ManualClock {
    /// A clock at [`Instant::ZERO`].
    pub fn new() -> Self {
        Self::default()
    }

    /// A clock at `start`.
    pub fn starting_at(start: Instant) -> Self {
        let clock = Self::new();
        clock.set(start);
        clock
    }

    /// Moves time forward by `by`, saturating at [`Instant::MAX`].
    pub fn advance(&self, by: Duration) {
        let by = u64::try_from(by.as_nanos()).unwrap_or(u64::MAX);
        // fetch_update never fails here: the closure always returns Some.
        let _ = self
            .nanos
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |t| {
                Some(t.saturating_add(by))
            });
    }

    /// Jumps to `instant`.
    ///
    /// Moving backwards is allowed for simulations, but caches assume a monotonic clock:
    /// entries already reclaimed stay reclaimed.
    pub fn set(&self, instant: Instant) {
        self.nanos.store(instant.as_nanos(), Ordering::Release);
    }
}

impl Clock for ManualClock {
    const NAME: &'static str = "manual";

    #[inline]
    fn now(&self) -> Instant {
        Instant::from_nanos(self.nanos.load(Ordering::Acquire))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clones_share_time_and_advance_saturates() {
        let a = ManualClock::starting_at(Instant::from_nanos(7));
        let b = a.clone();
        a.advance(Duration::from_nanos(3));
        assert_eq!(b.now(), Instant::from_nanos(10));
        b.advance(Duration::MAX);
        assert_eq!(a.now(), Instant::MAX);
        a.set(Instant::ZERO);
        assert_eq!(b.now(), Instant::ZERO);
    }
}
