//! A clock for the browser, and any JavaScript host: `performance.now()`.

use jwm_cache_core::Instant;

/// Reads `performance.now()` through wasm-bindgen: the time in milliseconds since the
/// page's (or worker's) time origin, monotonic, and there when `std::time::Instant`
/// is not (on `wasm32-unknown-unknown` it panics).
///
/// Feature `web`, on `wasm32-unknown-unknown` only (WASI has `std::time::Instant`, and no
/// JavaScript host). Browsers coarsen the reading, to between 5 µs and 1 ms, so an entry
/// may outlive its TTL by that much. A tab in the background keeps counting, but some
/// browsers stop the count while the machine sleeps, and then entries outlive their TTL
/// by the sleep.
///
/// `tests/web/` builds this for the browser and runs it under Node:
///
/// ```ignore
/// // jwm-cache = { version = "…", features = ["web"] }, built for wasm32-unknown-unknown
/// use std::time::Duration;
/// use jwm_cache::{CacheBuilder, time::PerformanceClock};
///
/// let mut cache = CacheBuilder::new(PerformanceClock)
///     .ttl(Duration::from_secs(30))
///     .capacity(1_000)
///     .build::<String, String>();
/// cache.insert("greeting".into(), "hello".into()).unwrap();
/// assert_eq!(cache.get("greeting").unwrap().as_deref(), Some("hello"));
/// ```
#[cfg(all(target_arch = "wasm32", target_os = "unknown"))]
#[derive(Clone, Copy, Debug, Default)]
pub struct PerformanceClock;

#[cfg(all(target_arch = "wasm32", target_os = "unknown"))]
mod host {
    use wasm_bindgen::prelude::wasm_bindgen;

    #[wasm_bindgen]
    extern "C" {
        // `globalThis.performance.now`: in a window, a worker and Node alike.
        #[wasm_bindgen(js_namespace = performance, js_name = now)]
        pub(super) fn performance_now() -> f64;
    }
}

#[cfg(all(target_arch = "wasm32", target_os = "unknown"))]
impl jwm_cache_core::Clock for PerformanceClock {
    const NAME: &'static str = "performance";

    #[inline]
    fn now(&self) -> Instant {
        instant_from_millis(host::performance_now())
    }
}

/// Milliseconds as a float, to an `Instant`; a reading that is not a number, or below
/// zero, is 0 and one past `u64` nanoseconds (584 years) is the maximum.
#[cfg_attr(
    not(all(target_arch = "wasm32", target_os = "unknown")),
    allow(dead_code)
)]
fn instant_from_millis(millis: f64) -> Instant {
    // `as` saturates, and turns NaN into 0.
    Instant::from_nanos((millis * 1_000_000.0) as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn milliseconds_become_nanoseconds() {
        assert_eq!(instant_from_millis(0.0), Instant::ZERO);
        assert_eq!(instant_from_millis(1.5), Instant::from_nanos(1_500_000));
        assert_eq!(instant_from_millis(0.005), Instant::from_nanos(5_000));
        // A day of uptime keeps microsecond precision.
        let day = 86_400_000.0;
        assert_eq!(
            instant_from_millis(day + 0.001),
            Instant::from_nanos(86_400_000_001_000)
        );
    }

    #[test]
    fn readings_out_of_range_saturate() {
        assert_eq!(instant_from_millis(f64::NAN), Instant::ZERO);
        assert_eq!(instant_from_millis(-1.0), Instant::ZERO);
        assert_eq!(instant_from_millis(f64::INFINITY), Instant::MAX);
        assert_eq!(instant_from_millis(1e300), Instant::MAX);
    }
}
