//! A clock that production reads as the system clock and a test drives by hand.

use std::cell::RefCell;
use std::marker::PhantomData;

use jwm_cache_core::{Clock, Instant, ManualClock};

use super::SystemClock;

thread_local! {
    /// The manual clock a test installed on this thread, if any.
    static INSTALLED: RefCell<Option<ManualClock>> = const { RefCell::new(None) };
}

/// The [`SystemClock`], except on a thread where a test has installed a
/// [`ManualClock`]: there, that clock's time. One attribute serves production and tests:
/// `#[ttl_cache(clock = scoped)]`, with no `cfg_attr`.
///
/// The installation is per thread, so tests running in parallel each move their own
/// time. A thread the test spawns (or a multi-threaded runtime's worker) reads the system
/// clock unless the clock is installed there too; `#[tokio::test]`'s default runtime runs
/// on the test's thread.
///
/// ```
/// use std::time::Duration;
/// use jwm_cache::{ManualClock, ScopedClock, ttl_cache};
///
/// #[ttl_cache(ttl = "1m", clock = scoped)]
/// fn greeting(name: String) -> String {
///     format!("hello {name}")
/// }
///
/// // In a test:
/// let clock = ManualClock::new();
/// let _installed = ScopedClock::install(clock.clone());
/// greeting("ada".into()); // computed
/// greeting("ada".into()); // a hit
/// clock.advance(Duration::from_secs(60)); // expired, on this thread's time
/// greeting("ada".into()); // computed again
/// assert_eq!(GREETING.cache_info().misses, 2);
/// # use jwm_cache::CacheControls;
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct ScopedClock;

impl ScopedClock {
    /// Makes every `ScopedClock` read `clock` on this thread until the guard is dropped
    /// (which restores what was installed before).
    pub fn install(clock: ManualClock) -> ScopedClockGuard {
        let previous = INSTALLED.with(|installed| installed.replace(Some(clock)));
        ScopedClockGuard {
            previous,
            thread_bound: PhantomData,
        }
    }
}

impl Clock for ScopedClock {
    const NAME: &'static str = "scoped";

    #[inline]
    fn now(&self) -> Instant {
        let installed = INSTALLED.try_with(|installed| installed.borrow().as_ref().map(Clock::now));
        match installed {
            Ok(Some(now)) => now,
            _ => SystemClock.now(),
        }
    }
}

/// Keeps a [`ManualClock`] installed for [`ScopedClock`] on this thread; dropping it
/// restores the clock installed before, if any.
#[must_use = "the clock is uninstalled when the guard is dropped"]
#[derive(Debug)]
pub struct ScopedClockGuard {
    previous: Option<ManualClock>,
    /// Installed on one thread, so uninstalled on that thread.
    thread_bound: PhantomData<*const ()>,
}

impl Drop for ScopedClockGuard {
    fn drop(&mut self) {
        let previous = self.previous.take();
        let _ = INSTALLED.try_with(|installed| installed.replace(previous));
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn installed_clocks_nest_and_stay_on_their_thread() {
        let outer = ManualClock::starting_at(Instant::from_nanos(10));
        let guard = ScopedClock::install(outer.clone());
        assert_eq!(ScopedClock.now(), Instant::from_nanos(10));
        {
            let inner = ManualClock::new();
            let _inner = ScopedClock::install(inner.clone());
            inner.advance(Duration::from_nanos(3));
            assert_eq!(ScopedClock.now(), Instant::from_nanos(3));
        }
        assert_eq!(ScopedClock.now(), Instant::from_nanos(10));
        let before = SystemClock.now();
        let elsewhere = std::thread::spawn(|| ScopedClock.now()).join().unwrap();
        let after = SystemClock.now();
        assert!(
            before <= elsewhere && elsewhere <= after,
            "the system clock there"
        );
        drop(guard);
        let now = ScopedClock.now();
        assert!(
            after <= now && now <= SystemClock.now(),
            "the system clock again"
        );
    }
}
