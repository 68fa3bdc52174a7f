//! The core's own point in time.

use core::fmt;
use core::time::Duration;

/// A point on a monotonic timeline, in nanoseconds since the clock's own origin.
///
/// The core owns time (smoltcp style): every expiry decision is a pure function of an
/// `Instant` passed in, so tests can drive a simulated clock. A `u64` of nanoseconds
/// spans 584 years, so arithmetic saturates instead of wrapping.
///
/// ```
/// use core::time::Duration;
/// use jwm_cache_core::Instant;
///
/// let t = Instant::from_nanos(1_000);
/// assert_eq!(t.saturating_add(Duration::from_micros(1)).as_nanos(), 2_000);
/// assert_eq!(Instant::MAX.saturating_add(Duration::from_secs(1)), Instant::MAX);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Instant(u64);

impl Instant {
    /// The clock's origin.
    pub const ZERO: Instant = Instant(0);
    /// The last representable instant.
    pub const MAX: Instant = Instant(u64::MAX);

    /// The instant `nanos` nanoseconds after the origin.
    pub const fn from_nanos(nanos: u64) -> Self {
        Instant(nanos)
    }

    /// Nanoseconds since the origin.
    pub const fn as_nanos(self) -> u64 {
        self.0
    }

    /// `self + duration`, saturating at [`Instant::MAX`].
    pub fn saturating_add(self, duration: Duration) -> Self {
        let nanos = u64::try_from(duration.as_nanos()).unwrap_or(u64::MAX);
        Instant(self.0.saturating_add(nanos))
    }

    /// The time from `earlier` to `self`, or zero if `earlier` is later.
    pub fn saturating_duration_since(self, earlier: Instant) -> Duration {
        Duration::from_nanos(self.0.saturating_sub(earlier.0))
    }
}

impl fmt::Display for Instant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", Duration::from_nanos(self.0))
    }
}
