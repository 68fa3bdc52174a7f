//! A clock that only moves when told to.

use core::time::Duration;

use super::{Clock, Instant};

/// A deterministic clock for tests and simulations.
///
/// Clones share one timeline, so a test keeps a clone and moves time while a cache owns
/// the other. Time only moves through [`advance`](ManualClock::advance) and
/// [`set`](ManualClock::set).
///
/// [`new`](ManualClock::new) is a `const fn`, so a test can keep the clock in a `static`
/// (the attribute's `clock = manual(CLOCK)` names one); the shared timeline is allocated
/// on first use.
///
/// Where the target has 64-bit atomics, the timeline is an `Arc<AtomicU64>` and the
/// clock is `Send + Sync`; elsewhere (thumbv6m, thumbv7em, riscv32imc) it is an
/// `Rc<Cell<u64>>`, for single-threaded simulations, and not `Sync`, so not for a
/// `static` there.
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
#[derive(Default)]
pub struct ManualClock {
    nanos: timeline::Lazy,
}

impl core::fmt::Debug for ManualClock {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("ManualClock")
            .field("now", &self.now())
            .finish()
    }
}

impl Clone for ManualClock {
    /// Another handle on the same timeline.
    fn clone(&self) -> Self {
        ManualClock {
            nanos: timeline::share(&self.nanos),
        }
    }
}

impl ManualClock {
    /// A clock at [`Instant::ZERO`]; a `const fn`, for a `static`.
    ///
    /// ```
    /// use core::time::Duration;
    /// use jwm_cache_core::{Clock, Instant, ManualClock};
    ///
    /// static CLOCK: ManualClock = ManualClock::new();
    ///
    /// let held_by_a_cache = CLOCK.clone();
    /// CLOCK.advance(Duration::from_secs(1));
    /// assert_eq!(held_by_a_cache.now(), Instant::from_nanos(1_000_000_000));
    /// ```
    pub const fn new() -> Self {
        ManualClock {
            nanos: timeline::Lazy::new(),
        }
    }

    /// A clock at `start`.
    ///
    /// ```
    /// use jwm_cache_core::{Clock, Instant, ManualClock};
    ///
    /// let clock = ManualClock::starting_at(Instant::from_nanos(5));
    /// assert_eq!(clock.now(), Instant::from_nanos(5));
    /// ```
    pub fn starting_at(start: Instant) -> Self {
        let clock = Self::new();
        clock.set(start);
        clock
    }

    /// Moves time forward by `by`, saturating at [`Instant::MAX`].
    pub fn advance(&self, by: Duration) {
        let by = u64::try_from(by.as_nanos()).unwrap_or(u64::MAX);
        timeline::update(&self.nanos, |t| t.saturating_add(by));
    }

    /// Jumps to `instant`.
    ///
    /// Moving backwards is allowed for simulations, but caches assume a monotonic clock:
    /// entries already reclaimed stay reclaimed.
    ///
    /// ```
    /// use jwm_cache_core::{Clock, Instant, ManualClock};
    ///
    /// let clock = ManualClock::new();
    /// clock.set(Instant::from_nanos(42));
    /// assert_eq!(clock.now().as_nanos(), 42);
    /// ```
    pub fn set(&self, instant: Instant) {
        timeline::update(&self.nanos, |_| instant.as_nanos());
    }
}

impl Clock for ManualClock {
    const NAME: &'static str = "manual";

    #[inline]
    fn now(&self) -> Instant {
        Instant::from_nanos(timeline::load(&self.nanos))
    }
}

/// The shared nanosecond counter behind a [`ManualClock`], allocated on first use so
/// that a clock can be built in a `const` context.
#[cfg(target_has_atomic = "64")]
mod timeline {
    use alloc::boxed::Box;
    use alloc::sync::Arc;
    use core::sync::atomic::{AtomicU64, Ordering};

    use once_cell::race::OnceBox;

    pub(super) type Lazy = OnceBox<Arc<AtomicU64>>;

    fn shared(lazy: &Lazy) -> &Arc<AtomicU64> {
        lazy.get_or_init(|| Box::new(Arc::new(AtomicU64::new(0))))
    }

    /// A cell holding the same timeline as `lazy`, allocating it if need be.
    pub(super) fn share(lazy: &Lazy) -> Lazy {
        OnceBox::with_value(Box::new(Arc::clone(shared(lazy))))
    }

    pub(super) fn load(lazy: &Lazy) -> u64 {
        shared(lazy).load(Ordering::Acquire)
    }

    pub(super) fn update(lazy: &Lazy, f: impl Fn(u64) -> u64) {
        // Never fails: the closure always returns Some.
        let _ = shared(lazy).fetch_update(Ordering::AcqRel, Ordering::Acquire, |t| Some(f(t)));
    }
}

/// The shared nanosecond counter behind a [`ManualClock`], allocated on first use.
#[cfg(not(target_has_atomic = "64"))]
mod timeline {
    use alloc::rc::Rc;
    use core::cell::{Cell, OnceCell};

    pub(super) type Lazy = OnceCell<Rc<Cell<u64>>>;

    fn shared(lazy: &Lazy) -> &Rc<Cell<u64>> {
        lazy.get_or_init(|| Rc::new(Cell::new(0)))
    }

    /// A cell holding the same timeline as `lazy`, allocating it if need be.
    pub(super) fn share(lazy: &Lazy) -> Lazy {
        OnceCell::from(Rc::clone(shared(lazy)))
    }

    pub(super) fn load(lazy: &Lazy) -> u64 {
        shared(lazy).get()
    }

    pub(super) fn update(lazy: &Lazy, f: impl Fn(u64) -> u64) {
        let shared = shared(lazy);
        shared.set(f(shared.get()));
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

    #[test]
    fn a_clock_built_in_a_static_shares_its_timeline_with_clones() {
        static CLOCK: ManualClock = ManualClock::new();
        let first = CLOCK.clone();
        CLOCK.advance(Duration::from_nanos(5));
        let second = CLOCK.clone();
        first.advance(Duration::from_nanos(1));
        assert_eq!(
            (CLOCK.now(), second.now()),
            (Instant::from_nanos(6), Instant::from_nanos(6))
        );
    }
}
