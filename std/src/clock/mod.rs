//! Clocks for std programs.

mod coarse;
mod system;

pub use coarse::{COARSE_CLOCK_PERIOD, CoarseClock};
pub use system::SystemClock;
