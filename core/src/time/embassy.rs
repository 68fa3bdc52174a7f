//! A clock for embedded targets, backed by embassy-time.

use super::{Clock, Instant};

/// Reads [`embassy_time::Instant::now`], so a cache on a microcontroller expires entries
/// by the board's timer.
///
/// embassy-time counts ticks (1 MHz by default); this clock converts them to nanoseconds,
/// saturating at [`Instant::MAX`].
///
/// ```no_run
/// use jwm_cache_core::{Clock, EmbassyClock};
///
/// let now = EmbassyClock.now();
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct EmbassyClock;

impl Clock for EmbassyClock {
    const NAME: &'static str = "embassy";

    #[inline]
    fn now(&self) -> Instant {
        let ticks = embassy_time::Instant::now().as_ticks();
        let nanos = u128::from(ticks) * 1_000_000_000 / u128::from(embassy_time::TICK_HZ);
        Instant::from_nanos(u64::try_from(nanos).unwrap_or(u64::MAX))
    }
}

// Not on wasm, where embassy-time's mock driver leaves its timer queue symbol unresolved:
// wasm-ld makes it an import that no runtime provides (the host's linker drops it).
#[cfg(all(test, not(target_family = "wasm")))]
mod tests {
    use super::*;

    // The mock driver is process-global, so this is the only test that moves it.
    #[test]
    fn follows_the_embassy_timer() {
        let driver = embassy_time::MockDriver::get();
        let before = EmbassyClock.now();
        driver.advance(embassy_time::Duration::from_millis(5));
        let after = EmbassyClock.now();
        assert_eq!(after.as_nanos() - before.as_nanos(), 5_000_000);
    }
}
