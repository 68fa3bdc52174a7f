//! Clocks for std programs.

mod coarse;
mod scoped;
mod system;

pub use coarse::{COARSE_CLOCK_PERIOD, CoarseClock};
pub(crate) use scoped::installed_cache;
pub use scoped::{ScopedClock, ScopedClockGuard};
pub use system::SystemClock;
