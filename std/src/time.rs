//! Clocks: what a cache reads to tell when an entry expires.
//!
//! A cache reads its clock once per operation (the thread-safe ones once more after a
//! miss's computation). [`SystemClock`] is the default.
//! [`CoarseClock`] makes a read one atomic load, with entry lifetimes exact to about a
//! millisecond; `#[ttl_cache]` picks it for TTLs of a second or more. [`ManualClock`]
//! moves only when a test moves it, and [`ScopedClock`] is the system clock except on a
//! thread where a test installed a manual one. `EmbassyClock` (feature `embassy-time`)
//! reads a microcontroller's timer, and `PerformanceClock` (feature `web`, on
//! `wasm32-unknown-unknown`)
//! reads `performance.now()` in a browser, where [`SystemClock`] would panic.
//! Implement [`Clock`] for any other source of [`Instant`]s.

#[cfg(all(feature = "web", target_arch = "wasm32", target_os = "unknown"))]
pub use crate::clock::PerformanceClock;
pub use crate::clock::{COARSE_CLOCK_PERIOD, CoarseClock, ScopedClockGuard};
#[doc(no_inline)]
pub use crate::clock::{ScopedClock, SystemClock};
#[cfg(feature = "embassy-time")]
#[cfg_attr(docsrs, doc(cfg(feature = "embassy-time")))]
pub use jwm_cache_core::EmbassyClock;
pub use jwm_cache_core::{Clock, Instant};
#[doc(no_inline)]
pub use jwm_cache_core::{ManualClock, Ttl};
