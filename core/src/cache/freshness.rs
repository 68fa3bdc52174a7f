//! Refresh-ahead and serve-stale, as pure rules on an entry's deadline: when a hit
//! should refresh an entry, and when an entry is only a fallback for a failed
//! computation.
//!
//! A cache that keeps stale entries for `stale_if_error` stores each one that much
//! longer than its TTL: the backend's deadline is the TTL's plus that window, and the
//! entry stops being served as a hit at the TTL's, which is the backend's less the
//! window. So no backend has to know the difference, and one that is told
//! ([`Backend::keep_stale_for`](crate::backend::Backend::keep_stale_for)) can store the
//! TTL's deadline itself, as Redis does.

use crate::time::{Deadline, Instant, Ttl};

/// The longest `stale_if_error` window: ten years.
pub const LONGEST_STALE_WINDOW: Ttl = Ttl::from_secs(10 * 365 * 86_400);

/// When a hit refreshes an entry, and how long an expired entry is kept as a fallback:
/// the cache's `refresh_after` and `stale_if_error`.
///
/// ```
/// use jwm_cache_core::{Freshening, Freshness, Instant, Ttl};
///
/// let ttl = Ttl::from_secs(60);
/// let rules = Freshening::new(Some(Ttl::from_secs(45)), Ttl::from_secs(3600));
/// // Written at 0: stored until 60 s + 1 h, fresh until 60 s, refreshed from 45 s on.
/// let deadline = rules.kept_for(ttl).deadline_from(Instant::ZERO);
/// let at = |secs: u64| Instant::from_nanos(secs * 1_000_000_000);
/// assert_eq!(rules.of(deadline, ttl, at(44)), Freshness::Fresh);
/// assert_eq!(rules.of(deadline, ttl, at(45)), Freshness::RefreshDue);
/// assert_eq!(rules.of(deadline, ttl, at(60)), Freshness::Stale);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Freshening {
    /// [`Ttl::NEVER`] for none: no entry is ever that old before its TTL ends.
    refresh_after: Ttl,
    stale_if_error: Ttl,
    /// `refresh_after` never and `stale_if_error` zero, worked out once: every hit asks.
    plain: bool,
}

/// What an entry a backend still holds is good for, as of some instant.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Freshness {
    /// A hit.
    Fresh,
    /// A hit, old enough that the cache should recompute it in the background.
    RefreshDue,
    /// Past its TTL, kept only as a fallback for a computation that fails.
    Stale,
}

/// What a lookup found, for a shell that refreshes entries or serves stale ones.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Found<V> {
    /// A live value.
    Hit(V),
    /// A live value that is due for a refresh.
    RefreshDue(V),
    /// Nothing live; this expired value may stand in if the computation fails, until
    /// its stale window ends.
    Stale(Fallback<V>),
    /// Nothing (or a lookup that failed).
    Absent,
}

impl Default for Freshening {
    /// Never refreshes, keeps nothing stale.
    fn default() -> Self {
        Freshening::new(None, Ttl::ZERO)
    }
}

impl Freshening {
    /// Refresh entries older than `refresh_after` on a hit (never if `None`), and keep
    /// each entry `stale_if_error` past its TTL as a fallback (not at all if zero; at
    /// most [`LONGEST_STALE_WINDOW`], which [`Ttl::NEVER`] means here: an entry kept
    /// forever would have no deadline left to tell its TTL's end by).
    pub const fn new(refresh_after: Option<Ttl>, stale_if_error: Ttl) -> Self {
        let stale_if_error = if stale_if_error.as_nanos() > LONGEST_STALE_WINDOW.as_nanos() {
            LONGEST_STALE_WINDOW
        } else {
            stale_if_error
        };
        let refresh_after = match refresh_after {
            Some(after) => after,
            None => Ttl::NEVER,
        };
        Freshening {
            refresh_after,
            stale_if_error,
            plain: refresh_after.is_never() && stale_if_error.is_zero(),
        }
    }

    /// How old an entry must be for a hit to refresh it, if ever.
    pub const fn refresh_after(&self) -> Option<Ttl> {
        if self.refresh_after.is_never() {
            None
        } else {
            Some(self.refresh_after)
        }
    }

    /// How long an entry is kept past its TTL as a fallback.
    pub const fn stale_if_error(&self) -> Ttl {
        self.stale_if_error
    }

    /// Neither refreshes nor keeps stale entries: lookups need no deadline.
    #[inline]
    pub const fn is_plain(&self) -> bool {
        self.plain
    }

    /// How long the backend keeps an entry written with `ttl`.
    pub const fn kept_for(&self, ttl: Ttl) -> Ttl {
        ttl.saturating_add(self.stale_if_error)
    }

    /// The backend's deadline for an entry written at `now` with `ttl`: never only for
    /// an entry whose TTL's own deadline is never. Where the window alone would carry
    /// it past the timeline's end, it stops short of never, so the entry still goes
    /// stale ([`of`](Self::of) reads a deadline of never as fresh for ever); earlier
    /// than it should, which is a miss, not a wrong value.
    ///
    /// ```
    /// use jwm_cache_core::{Freshening, Instant, Ttl};
    ///
    /// let rules = Freshening::new(None, Ttl::from_secs(60));
    /// let late = Instant::from_nanos(u64::MAX - 2_000_000_000);
    /// assert!(!rules.kept_until(Ttl::from_secs(1), late).is_never());
    /// assert!(rules.kept_until(Ttl::NEVER, late).is_never());
    /// ```
    pub const fn kept_until(&self, ttl: Ttl, now: Instant) -> Deadline {
        let kept = self.kept_for(ttl).deadline_from(now);
        if kept.is_never() && !ttl.deadline_from(now).is_never() {
            return Deadline::at(Instant::from_nanos(u64::MAX - 1));
        }
        kept
    }

    /// What an entry written with `ttl`, which the backend holds until `deadline`, is
    /// good for at `now`. `refresh_after` at or past `ttl` never refreshes, and an
    /// entry that never expires is never due: its age is unknown.
    #[inline]
    pub fn of(&self, deadline: Deadline, ttl: Ttl, now: Instant) -> Freshness {
        let (deadline, now, ttl) = (deadline.as_nanos(), now.as_nanos(), ttl.as_nanos());
        if deadline == u64::MAX {
            return Freshness::Fresh;
        }
        let expires = deadline.saturating_sub(self.stale_if_error.as_nanos());
        if expires <= now {
            return Freshness::Stale;
        }
        // Without `refresh_after` the age is `u64::MAX`, never below a TTL; a TTL of
        // "never" has no age to go by.
        let after = self.refresh_after.as_nanos();
        if after < ttl && ttl != u64::MAX && now >= expires.saturating_sub(ttl - after) {
            return Freshness::RefreshDue;
        }
        Freshness::Fresh
    }

    /// `value`, found with `deadline`, sorted by [`of`](Self::of).
    #[inline]
    pub fn sort<V>(&self, value: V, deadline: Deadline, ttl: Ttl, now: Instant) -> Found<V> {
        match self.of(deadline, ttl, now) {
            Freshness::Fresh => Found::Hit(value),
            Freshness::RefreshDue => Found::RefreshDue(value),
            Freshness::Stale => Found::Stale(Fallback {
                value,
                until: deadline,
            }),
        }
    }
}

impl<V> Found<V> {
    /// The value, if it may be served as a hit.
    pub fn live(self) -> Option<V> {
        match self {
            Found::Hit(value) | Found::RefreshDue(value) => Some(value),
            Found::Stale(_) | Found::Absent => None,
        }
    }

    /// The fallback for a failed computation, if the entry was stale.
    pub fn stale(self) -> Option<Fallback<V>> {
        match self {
            Found::Stale(fallback) => Some(fallback),
            _ => None,
        }
    }
}

/// An entry past its TTL that may stand in for a failed computation until `until`, the
/// end of its stale window. Checked when it is served, not only when it was found: a
/// computation that fails after the window ended gets its error.
///
/// ```
/// use jwm_cache_core::{Deadline, Fallback, Instant};
///
/// let fallback = Fallback::new(7, Deadline::at(Instant::from_nanos(10)));
/// assert_eq!(fallback.clone().at(Instant::from_nanos(9)), Some(7));
/// assert_eq!(fallback.at(Instant::from_nanos(10)), None);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fallback<V> {
    value: V,
    until: Deadline,
}

impl<V> Fallback<V> {
    /// `value`, a fallback until `until`.
    pub fn new(value: V, until: Deadline) -> Self {
        Fallback { value, until }
    }

    /// The value, if its stale window is still open at `now`.
    pub fn at(self, now: Instant) -> Option<V> {
        (!self.until.is_expired(now)).then_some(self.value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TTL: Ttl = Ttl::from_secs(10);

    fn at(secs: u64) -> Instant {
        Instant::from_nanos(secs * 1_000_000_000)
    }

    #[test]
    fn without_rules_an_entry_is_fresh_until_the_backend_drops_it() {
        let plain = Freshening::default();
        assert!(plain.is_plain());
        let deadline = plain.kept_for(TTL).deadline_from(at(0));
        assert_eq!(plain.of(deadline, TTL, at(9)), Freshness::Fresh);
    }

    #[test]
    fn an_endless_window_is_the_longest_one_so_an_entry_still_expires() {
        let rules = Freshening::new(None, Ttl::NEVER);
        assert_eq!(rules.stale_if_error(), LONGEST_STALE_WINDOW);
        let deadline = rules.kept_for(TTL).deadline_from(at(0));
        assert!(!deadline.is_never());
        assert_eq!(rules.of(deadline, TTL, at(9)), Freshness::Fresh);
        assert_eq!(rules.of(deadline, TTL, at(10)), Freshness::Stale);
    }

    #[test]
    fn a_refresh_at_or_past_the_ttl_or_of_an_eternal_entry_never_comes_due() {
        let late = Freshening::new(Some(TTL), Ttl::ZERO);
        let deadline = TTL.deadline_from(at(0));
        assert_eq!(late.of(deadline, TTL, at(9)), Freshness::Fresh);
        let eager = Freshening::new(Some(Ttl::from_secs(1)), Ttl::from_secs(5));
        assert_eq!(
            eager.of(Deadline::NEVER, Ttl::NEVER, at(1_000)),
            Freshness::Fresh
        );
    }

    #[test]
    fn stale_entries_are_told_apart_by_the_ttl_not_the_backends_deadline() {
        let rules = Freshening::new(Some(Ttl::from_secs(8)), Ttl::from_secs(5));
        let deadline = rules.kept_for(TTL).deadline_from(at(100));
        assert_eq!(deadline, Deadline::at(at(115)));
        assert_eq!(rules.sort(1, deadline, TTL, at(107)), Found::Hit(1));
        assert_eq!(rules.sort(1, deadline, TTL, at(108)), Found::RefreshDue(1));
        let stale = Found::Stale(Fallback::new(1, deadline));
        assert_eq!(rules.sort(1, deadline, TTL, at(110)), stale);
        assert_eq!(stale.clone().live(), None);
        assert_eq!(Found::RefreshDue(1).live(), Some(1));
        let fallback = stale.stale().unwrap();
        assert_eq!(fallback.clone().at(at(114)), Some(1));
        assert_eq!(fallback.at(at(115)), None, "served only within the window");
    }

    #[test]
    fn a_window_past_the_timelines_end_still_lets_the_entry_go_stale() {
        let rules = Freshening::new(None, Ttl::from_secs(60));
        let written = Instant::from_nanos(u64::MAX - 2_000_000_000);
        let ttl = Ttl::from_secs(1);
        let deadline = rules.kept_until(ttl, written);
        assert_eq!(rules.of(deadline, ttl, written), Freshness::Stale);
        let written = Instant::from_nanos(u64::MAX - 100_000_000_000);
        let deadline = rules.kept_until(ttl, written);
        assert_eq!(deadline, rules.kept_for(ttl).deadline_from(written));
        assert_eq!(rules.of(deadline, ttl, written), Freshness::Fresh);
    }
}
