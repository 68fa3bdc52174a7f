//! Time to live and the deadline it gives an entry.

use core::fmt;
use core::time::Duration;

use super::Instant;

/// How long an entry lives after it is inserted, or [`Ttl::NEVER`].
///
/// Built from a [`Duration`], it saturates: anything too long to represent in `u64`
/// nanoseconds (584 years) becomes "never expires" instead of overflowing or panicking.
/// [`Ttl::ZERO`] means "store nothing".
///
/// ```
/// use core::time::Duration;
/// use jwm_cache_core::Ttl;
///
/// assert_eq!(Ttl::from(Duration::MAX), Ttl::NEVER);
/// assert_eq!(Ttl::from_secs(u64::MAX), Ttl::NEVER);
/// assert_eq!(Ttl::from_millis(1500).as_duration(), Some(Duration::from_millis(1500)));
/// assert!(Ttl::ZERO.is_zero());
/// ```
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Ttl(u64);

impl Ttl {
    /// Stores nothing: an entry with this TTL is expired the moment it is written.
    pub const ZERO: Ttl = Ttl(0);
    /// Never expires.
    pub const NEVER: Ttl = Ttl(u64::MAX);

    /// A TTL of `nanos` nanoseconds; `u64::MAX` is [`Ttl::NEVER`].
    pub const fn from_nanos(nanos: u64) -> Self {
        Ttl(nanos)
    }

    /// A TTL of `millis` milliseconds, saturating to [`Ttl::NEVER`].
    pub const fn from_millis(millis: u64) -> Self {
        Ttl(millis.saturating_mul(1_000_000))
    }

    /// A TTL of `secs` seconds, saturating to [`Ttl::NEVER`].
    pub const fn from_secs(secs: u64) -> Self {
        Ttl(secs.saturating_mul(1_000_000_000))
    }

    /// Whether this TTL stores nothing.
    pub const fn is_zero(self) -> bool {
        self.0 == 0
    }

    /// Whether this TTL never expires.
    pub const fn is_never(self) -> bool {
        self.0 == u64::MAX
    }

    /// The TTL as a [`Duration`], or `None` for [`Ttl::NEVER`].
    pub const fn as_duration(self) -> Option<Duration> {
        if self.is_never() {
            None
        } else {
            Some(Duration::from_nanos(self.0))
        }
    }

    /// The deadline of an entry written at `now` with this TTL.
    ///
    /// Only [`Ttl::NEVER`] gives [`Deadline::NEVER`]. A finite TTL whose deadline would
    /// pass the end of the timeline (`u64::MAX` nanoseconds from the clock's zero, which
    /// only a clock set there reaches) gets the timeline's last instant instead, so that
    /// an entry never outlives its TTL: at [`Instant::MAX`] it is expired when written.
    ///
    /// ```
    /// use jwm_cache_core::{Instant, Ttl};
    ///
    /// let late = Instant::from_nanos(u64::MAX - 10);
    /// let deadline = Ttl::from_nanos(100).deadline_from(late);
    /// assert!(!deadline.is_never());
    /// assert!(deadline.is_expired(Instant::MAX));
    /// assert!(Ttl::ZERO.deadline_from(Instant::MAX).is_expired(Instant::MAX));
    /// ```
    pub const fn deadline_from(self, now: Instant) -> Deadline {
        if self.is_never() {
            return Deadline::NEVER;
        }
        let at = now.as_nanos().saturating_add(self.0);
        Deadline(if at < u64::MAX { at } else { u64::MAX - 1 })
    }

    /// The TTL in nanoseconds (`u64::MAX` for [`Ttl::NEVER`]).
    pub const fn as_nanos(self) -> u64 {
        self.0
    }

    /// This TTL and `more` together, [`Ttl::NEVER`] if either is or the sum overflows.
    ///
    /// ```
    /// use jwm_cache_core::Ttl;
    ///
    /// assert_eq!(Ttl::from_secs(1).saturating_add(Ttl::from_secs(2)), Ttl::from_secs(3));
    /// assert_eq!(Ttl::NEVER.saturating_add(Ttl::from_secs(2)), Ttl::NEVER);
    /// ```
    pub const fn saturating_add(self, more: Ttl) -> Ttl {
        Ttl(self.0.saturating_add(more.0))
    }

    /// This TTL less `less`, [`Ttl::ZERO`] at least; [`Ttl::NEVER`] stays never.
    pub const fn saturating_sub(self, less: Ttl) -> Ttl {
        if self.is_never() {
            return self;
        }
        Ttl(self.0.saturating_sub(less.0))
    }
}

impl From<Duration> for Ttl {
    fn from(duration: Duration) -> Self {
        Ttl(u64::try_from(duration.as_nanos()).unwrap_or(u64::MAX))
    }
}

impl fmt::Debug for Ttl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Ttl({self})")
    }
}

impl fmt::Display for Ttl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.as_duration() {
            Some(d) => write!(f, "{d:?}"),
            None => f.write_str("never"),
        }
    }
}

/// The instant at which an entry stops being served.
///
/// An entry is expired when read **at or after** its deadline. [`Deadline::NEVER`] is
/// reserved: it is never reached, whatever the clock says.
///
/// ```
/// use jwm_cache_core::{Instant, Ttl};
///
/// let written = Instant::from_nanos(100);
/// let deadline = Ttl::from_nanos(50).deadline_from(written);
/// assert!(!deadline.is_expired(Instant::from_nanos(149)));
/// assert!(deadline.is_expired(Instant::from_nanos(150)));
/// assert!(!Ttl::NEVER.deadline_from(written).is_expired(Instant::MAX));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Deadline(u64);

impl Deadline {
    /// A deadline that is never reached.
    pub const NEVER: Deadline = Deadline(u64::MAX);

    /// The deadline at `instant`; [`Instant::MAX`] maps to [`Deadline::NEVER`].
    pub const fn at(instant: Instant) -> Self {
        Deadline(instant.as_nanos())
    }

    /// Whether this deadline is [`Deadline::NEVER`].
    pub const fn is_never(self) -> bool {
        self.0 == u64::MAX
    }

    /// Whether an entry with this deadline is expired at `now`.
    #[inline]
    pub const fn is_expired(self, now: Instant) -> bool {
        !self.is_never() && now.as_nanos() >= self.0
    }

    /// The deadline in nanoseconds on the clock's timeline (`u64::MAX` for never).
    pub const fn as_nanos(self) -> u64 {
        self.0
    }

    /// The time left at `now`: `None` for never, zero once expired.
    pub fn remaining(self, now: Instant) -> Option<Duration> {
        (!self.is_never()).then(|| Duration::from_nanos(self.0.saturating_sub(now.as_nanos())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn huge_durations_saturate_to_never() {
        assert_eq!(Ttl::from(Duration::MAX), Ttl::NEVER);
        assert_eq!(
            Ttl::from(Duration::from_secs(600 * 365 * 86_400)),
            Ttl::NEVER
        );
        assert_eq!(Ttl::from_millis(u64::MAX / 2), Ttl::NEVER);
        // A finite TTL near the end of the timeline: cut to its last instant, never
        // "never" (a stale value served for ever).
        let late = Instant::from_nanos(u64::MAX - 10);
        let cut = Ttl::from_nanos(100).deadline_from(late);
        assert_eq!(cut, Deadline::at(Instant::from_nanos(u64::MAX - 1)));
        assert!(!cut.is_expired(late) && cut.is_expired(Instant::MAX));
        assert!(
            Ttl::ZERO
                .deadline_from(Instant::MAX)
                .is_expired(Instant::MAX)
        );
        assert_eq!(Ttl::NEVER.deadline_from(late), Deadline::NEVER);
    }

    #[test]
    fn expiry_is_at_or_after_the_deadline() {
        let d = Ttl::from_nanos(10).deadline_from(Instant::from_nanos(5));
        assert!(!d.is_expired(Instant::from_nanos(14)));
        assert!(d.is_expired(Instant::from_nanos(15)));
        assert!(d.is_expired(Instant::from_nanos(16)));
        assert_eq!(
            d.remaining(Instant::from_nanos(12)),
            Some(Duration::from_nanos(3))
        );
        assert_eq!(d.remaining(Instant::from_nanos(99)), Some(Duration::ZERO));
    }

    #[test]
    fn zero_ttl_is_expired_when_written() {
        let now = Instant::from_nanos(42);
        assert!(Ttl::ZERO.deadline_from(now).is_expired(now));
    }

    #[test]
    fn never_is_never_reached() {
        let d = Ttl::NEVER.deadline_from(Instant::from_nanos(1));
        assert!(d.is_never());
        assert!(!d.is_expired(Instant::MAX));
        assert_eq!(d.remaining(Instant::ZERO), None);
        assert_eq!(Ttl::NEVER.as_duration(), None);
    }
}
