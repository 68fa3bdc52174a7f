//! Clocks for std programs.

mod coarse;
#[cfg(feature = "web")]
mod performance;
mod scoped;
mod system;

pub use coarse::{COARSE_CLOCK_PERIOD, CoarseClock};
#[cfg(all(feature = "web", target_arch = "wasm32", target_os = "unknown"))]
pub use performance::PerformanceClock;
pub(crate) use scoped::installed_cache;
pub use scoped::{ScopedClock, ScopedClockGuard};
pub use system::SystemClock;
