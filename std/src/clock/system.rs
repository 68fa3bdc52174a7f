//! The wall-independent clock of std programs.

use std::sync::OnceLock;

use jwm_cache_core::{Clock, Instant};

/// A monotonic clock backed by [`std::time::Instant`].
///
/// Its origin is the first reading in the process, shared by every `SystemClock`, so
/// instants from different caches compare meaningfully. It never goes backwards.
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

fn origin() -> std::time::Instant {
    static ORIGIN: OnceLock<std::time::Instant> = OnceLock::new();
    *ORIGIN.get_or_init(std::time::Instant::now)
}

impl Clock for SystemClock {
    const NAME: &'static str = "system";
    const READS_SYSTEM_TIME: bool = true;

    #[inline]
    fn now(&self) -> Instant {
        let nanos = origin().elapsed().as_nanos();
        Instant::from_nanos(u64::try_from(nanos).unwrap_or(u64::MAX))
    }
}
