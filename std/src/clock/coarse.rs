//! A clock read with one atomic load.

use std::sync::Once;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread;
use std::time::Duration;

use jwm_cache_core::{Clock, Instant};

use super::SystemClock;
use crate::forks;

/// How often the background thread refreshes the shared reading.
pub const COARSE_CLOCK_PERIOD: Duration = Duration::from_millis(1);

/// A monotonic clock whose reading is refreshed every millisecond by one background
/// thread, so a read is a single atomic load.
///
/// [`SystemClock`] costs about 32 ns a read here and, worse, its `rdtsc` is ordered
/// (`lfence`), so the CPU cannot overlap one cache lookup's memory accesses with the
/// next. `CoarseClock` avoids both (BENCHMARKS.md measures the difference).
///
/// **Precision**: a reading lags real time by up to [`COARSE_CLOCK_PERIOD`] (1 ms),
/// plus however long the OS delays the refreshing thread. Both the insert's reading
/// and the read's lag, so an entry's life differs from its TTL by at most that much,
/// either way. It shares [`SystemClock`]'s timeline and never goes backwards. The
/// thread starts on the first read and lives for the process; a child of `fork`, which
/// has no such thread, starts its own on its first read.
///
/// ```
/// use jwm_cache::{SystemClock, time::{Clock, CoarseClock}};
///
/// let coarse = CoarseClock.now();
/// assert!(coarse <= SystemClock.now());
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct CoarseClock;

/// The shared reading, in nanoseconds, with its lowest bit as a mode: 0 while the
/// thread refreshes it, 1 if reads must refresh it themselves. So a read is one load,
/// and 0 (not started) or an odd value sends it down the slow path.
static NOW: AtomicU64 = AtomicU64::new(0);

static START: Once = Once::new();
/// Set if the refreshing thread could not be spawned: reads then refresh themselves.
static SELF_REFRESH: AtomicBool = AtomicBool::new(false);
/// Set in a child of `fork`, which has no refreshing thread: its next read starts one.
static FORKED: AtomicBool = AtomicBool::new(false);

/// Moves the reading forward (never back), tagged with the mode; returns it untagged.
fn refresh() -> u64 {
    let mode = u64::from(SELF_REFRESH.load(Ordering::Relaxed));
    // At least 2: the system clock starts at 0, which would read as "not started".
    let reading = (SystemClock.now().as_nanos().max(2) & !1) | mode;
    NOW.fetch_max(reading, Ordering::AcqRel).max(reading) & !1
}

/// The reading `tagged` holds, if a read may take it as it is: not 0 (not started) and
/// not odd (reads refresh it themselves).
#[inline]
fn usable(tagged: u64) -> Option<u64> {
    (tagged & 1 == 0 && tagged != 0).then_some(tagged)
}

/// The first read, the first in a child of `fork`, and every read when no thread could
/// be spawned.
#[cold]
fn slow_now() -> Instant {
    START.call_once(|| {
        forks::in_each_child(in_child);
        if !spawn_refresher() {
            SELF_REFRESH.store(true, Ordering::Relaxed);
        }
        refresh();
    });
    // Loaded first: reads that refresh themselves (no thread) do not all write the flag.
    if FORKED.load(Ordering::Acquire) && FORKED.swap(false, Ordering::AcqRel) && spawn_refresher() {
        SELF_REFRESH.store(false, Ordering::Relaxed);
    }
    Instant::from_nanos(refresh())
}

/// Starts the thread that refreshes the reading every period; whether it started.
fn spawn_refresher() -> bool {
    thread::Builder::new()
        .name("jwm-cache-coarse-clock".into())
        .spawn(|| {
            loop {
                thread::sleep(COARSE_CLOCK_PERIOD);
                refresh();
            }
        })
        .is_ok()
}

/// Run in a child of `fork`, which has no refreshing thread: reads refresh the reading
/// themselves until the next one starts a refreshing thread, or the reading would stop
/// at the fork and entries would never expire there. Only atomics (see
/// [`forks::in_each_child`]).
extern "C" fn in_child() {
    FORKED.store(true, Ordering::Release);
    SELF_REFRESH.store(true, Ordering::Relaxed);
    // Odd: every read takes the slow path. The reading itself stays, so it never goes
    // back.
    NOW.fetch_or(1, Ordering::AcqRel);
}

impl Clock for CoarseClock {
    const NAME: &'static str = "coarse";

    #[inline]
    fn now(&self) -> Instant {
        match usable(NOW.load(Ordering::Acquire)) {
            Some(reading) => Instant::from_nanos(reading),
            None => slow_now(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_read_takes_only_an_even_started_reading() {
        assert_eq!(usable(0), None, "not started");
        assert_eq!(usable(7), None, "self-refreshing");
        assert_eq!(usable(8), Some(8));
    }

    #[test]
    fn follows_the_system_clock_within_its_period() {
        let first = CoarseClock.now();
        // Bounded polling of a real clock: the thread must move the reading forward.
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        while CoarseClock.now() == first {
            assert!(
                std::time::Instant::now() < deadline,
                "the coarse clock never moved"
            );
            thread::sleep(Duration::from_millis(1));
        }
        let coarse = CoarseClock.now();
        let system = SystemClock.now();
        assert!(coarse <= system);
        assert!(system.saturating_duration_since(coarse) < Duration::from_millis(500));
    }
}
