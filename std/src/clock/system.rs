//! The wall-independent clock of std programs.

#[cfg(not(all(target_arch = "wasm32", target_os = "unknown", feature = "web")))]
use std::sync::OnceLock;

use jwm_cache_core::{Clock, Instant};

/// A monotonic clock backed by [`std::time::Instant`].
///
/// Its origin is the first reading in the process, shared by every `SystemClock`, so
/// instants from different caches compare meaningfully. It never goes backwards.
///
/// On `wasm32-unknown-unknown`, where `std::time::Instant` panics, it reads
/// `performance.now()` with feature `web` (as `PerformanceClock` does), so the
/// defaults of `#[ttl_cache]` and the builders work in a browser too; without the
/// feature it panics there.
///
/// ```
/// use jwm_cache::{SystemClock, time::Clock};
///
/// let a = SystemClock.now();
/// let b = SystemClock.now();
/// assert!(b >= a);
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

#[cfg(not(all(target_arch = "wasm32", target_os = "unknown", feature = "web")))]
fn read() -> Instant {
    static ORIGIN: OnceLock<std::time::Instant> = OnceLock::new();
    let nanos = ORIGIN
        .get_or_init(std::time::Instant::now)
        .elapsed()
        .as_nanos();
    Instant::from_nanos(u64::try_from(nanos).unwrap_or(u64::MAX))
}

#[cfg(all(target_arch = "wasm32", target_os = "unknown", feature = "web"))]
fn read() -> Instant {
    super::PerformanceClock.now()
}

impl Clock for SystemClock {
    const NAME: &'static str = "system";
    const READS_SYSTEM_TIME: bool = true;

    #[inline]
    fn now(&self) -> Instant {
        read()
    }
}
