//! A clock, and caches, that production shares and a test takes over on its thread.

use std::any::Any;
use std::cell::RefCell;
use std::marker::PhantomData;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use jwm_cache_core::{Clock, Instant, ManualClock};

use super::SystemClock;

/// One installation: its clock, and the caches `clock = scoped` functions used under it.
struct Installation {
    id: u64,
    clock: ManualClock,
    /// By the address of the function's handle (a `static`) and the cache's type: each
    /// function's own cache.
    caches: Vec<(usize, Box<dyn Any>)>,
}

thread_local! {
    /// This thread's installations, innermost last.
    static INSTALLED: RefCell<Vec<Installation>> = const { RefCell::new(Vec::new()) };
}

static NEXT_ID: AtomicU64 = AtomicU64::new(0);

/// The [`SystemClock`], except on a thread where a test has installed a
/// [`ManualClock`]: there, that clock's time. One attribute serves production and tests:
/// `#[ttl_cache(clock = scoped)]`, with no `cfg_attr`. (Plain in-memory functions only:
/// on a method, a generic function or with Redis, the attribute refuses it.)
///
/// While a clock is installed, every `clock = scoped` function called on that thread
/// also gets a cache of its own, empty at first and dropped with the installation (even
/// functions that share an identifier get one each). So
/// tests running in parallel, each on its own thread, never see each other's entries or
/// time, although they call the same function through the same static. (A thread the
/// test spawns, or a multi-threaded runtime's worker, uses the system clock and the
/// shared cache unless the test installs a clock there too; `#[tokio::test]`'s default
/// runtime runs on the test's thread.)
///
/// Caches built by hand with `.clock(ScopedClock)` read the installed clock but are not
/// replaced: give each test its own, or one timeline would expire another's entries.
///
/// ```
/// use std::time::Duration;
/// use jwm_cache::{CacheControls, ManualClock, ScopedClock, ttl_cache};
///
/// #[ttl_cache(ttl = "1m", clock = scoped)]
/// fn greeting(name: String) -> String {
///     format!("hello {name}")
/// }
///
/// // In a test:
/// let clock = ManualClock::new();
/// let _installed = ScopedClock::install(clock.clone());
/// greeting("ada".into()); // computed, into this test's own cache
/// greeting("ada".into()); // a hit
/// clock.advance(Duration::from_secs(60)); // expired, on this test's time
/// greeting("ada".into()); // computed again
/// assert_eq!(GREETING.cache_info().misses, 2);
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct ScopedClock;

impl ScopedClock {
    /// Makes every `ScopedClock` read `clock` on this thread, and gives every
    /// `clock = scoped` function called here a fresh cache, until the guard is dropped.
    /// Installations nest; dropping one restores what was installed before it.
    pub fn install(clock: ManualClock) -> ScopedClockGuard {
        let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
        INSTALLED.with(|installed| {
            installed.borrow_mut().push(Installation {
                id,
                clock,
                caches: Vec::new(),
            });
        });
        ScopedClockGuard {
            id,
            thread_bound: PhantomData,
        }
    }
}

impl Clock for ScopedClock {
    const NAME: &'static str = "scoped";

    #[inline]
    fn now(&self) -> Instant {
        let installed = INSTALLED.try_with(|installed| {
            installed
                .borrow()
                .last()
                .map(|installation| installation.clock.now())
        });
        match installed {
            Ok(Some(now)) => now,
            _ => SystemClock.now(),
        }
    }
}

/// The cache of the function whose handle is at `handle`, under this thread's innermost
/// installation (made by `fresh` on first use), or `None` if no clock is installed.
pub(crate) fn installed_cache<M: Send + Sync + 'static>(
    handle: usize,
    fresh: fn() -> Arc<M>,
) -> Option<Arc<M>> {
    let found = |installed: &RefCell<Vec<Installation>>| {
        let installed = installed.borrow();
        let installation = installed.last()?;
        let cache = installation.caches.iter().find_map(|(at, cache)| {
            (*at == handle)
                .then(|| cache.downcast_ref::<Arc<M>>())
                .flatten()
        });
        Some(cache.cloned())
    };
    match INSTALLED.try_with(found) {
        Ok(Some(Some(cache))) => Some(cache),
        Ok(Some(None)) => {
            // Built with no borrow held: building may read the clock, or call the
            // function itself, which then makes the cache first.
            let cache = fresh();
            let made = INSTALLED.try_with(|installed| {
                if let Some(Some(made)) = found(installed) {
                    return Some(made);
                }
                let mut installed = installed.borrow_mut();
                let installation = installed.last_mut()?;
                installation
                    .caches
                    .push((handle, Box::new(Arc::clone(&cache))));
                Some(cache)
            });
            made.ok().flatten()
        }
        _ => None,
    }
}

/// Keeps a [`ManualClock`] installed for [`ScopedClock`] on this thread; dropping it
/// uninstalls that clock and the caches made under it, in whatever order guards drop.
#[must_use = "the clock is uninstalled when the guard is dropped"]
#[derive(Debug)]
pub struct ScopedClockGuard {
    id: u64,
    /// Installed on one thread, so uninstalled on that thread.
    thread_bound: PhantomData<*const ()>,
}

impl Drop for ScopedClockGuard {
    fn drop(&mut self) {
        // Taken out before it drops: a cache's drop must not find the list borrowed.
        let removed = INSTALLED.try_with(|installed| {
            let mut installed = installed.borrow_mut();
            let at = installed.iter().position(|i| i.id == self.id)?;
            Some(installed.remove(at))
        });
        drop(removed);
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

    #[test]
    fn guards_dropped_out_of_order_leave_the_remaining_one_installed() {
        let first = ScopedClock::install(ManualClock::starting_at(Instant::from_nanos(1)));
        let second = ScopedClock::install(ManualClock::starting_at(Instant::from_nanos(2)));
        drop(first);
        assert_eq!(ScopedClock.now(), Instant::from_nanos(2));
        drop(second);
        let before = SystemClock.now();
        let now = ScopedClock.now();
        assert!(
            before <= now && now <= SystemClock.now(),
            "nothing installed"
        );
        assert_eq!(installed_cache::<u8>(1, || Arc::new(0)), None);
    }

    #[test]
    fn each_installation_gets_its_own_cache_per_handle() {
        let _outer = ScopedClock::install(ManualClock::new());
        let a = installed_cache(1, || Arc::new(String::from("a"))).unwrap();
        let again = installed_cache(1, || Arc::new(String::from("not built"))).unwrap();
        assert!(Arc::ptr_eq(&a, &again));
        let other = installed_cache(2, || Arc::new(String::from("b"))).unwrap();
        assert_eq!(*other, "b");
        {
            let _inner = ScopedClock::install(ManualClock::new());
            let fresh = installed_cache(1, || Arc::new(String::from("fresh"))).unwrap();
            assert_eq!(*fresh, "fresh");
        }
        assert!(Arc::ptr_eq(
            &installed_cache(1, || Arc::new(String::new())).unwrap(),
            &a
        ));
    }
}
