//! Clocks for std programs.

mod coarse;
mod scoped;
mod system;

pub use coarse::{COARSE_CLOCK_PERIOD, CoarseClock};
pub use scoped::{ScopedClock, ScopedClockGuard};
pub use system::SystemClock;
