//! Keys whose refresh waits: this cache starts no refresh of them until a time of its
//! own, because another process refreshes them, or because their last refresh failed
//! (a failing source is then asked again once per wait, not on every due hit).

use std::collections::HashMap;
use std::time::Duration;

use jwm_cache_core::{Instant, Ttl};

/// The most keys remembered: at it, those whose time has passed are dropped, and all if
/// that leaves more than three quarters (their refreshes may then start once more).
pub(crate) const MOST: usize = 4_096;

/// The longest a key waits after a failed refresh.
const LONGEST_AFTER_FAILURE: Duration = Duration::from_secs(60);

/// How long a key waits after its refresh failed: a quarter of `refresh_after`, at most
/// a minute. Its value is still served meanwhile, until its TTL ends.
pub(crate) fn after_failure(refresh_after: Option<Ttl>) -> Duration {
    let quarter = |age: Ttl| age.as_duration().map_or(LONGEST_AFTER_FAILURE, |d| d / 4);
    refresh_after
        .map_or(Duration::ZERO, quarter)
        .min(LONGEST_AFTER_FAILURE)
}

/// Each key's time, by a mark of the key (a hash), under its owner's lock.
#[derive(Default)]
pub(crate) struct Backoffs {
    until: HashMap<u64, Instant>,
    /// The latest of their times: past it, all are forgotten at once.
    latest: Instant,
}

impl Backoffs {
    /// Whether the key marked `mark` waits still at `now`.
    pub(crate) fn holds(&mut self, mark: u64, now: Instant) -> bool {
        if self.until.is_empty() {
            return false;
        }
        if now >= self.latest {
            self.until.clear();
            return false;
        }
        match self.until.get(&mark) {
            Some(&end) if now < end => true,
            Some(_) => {
                self.until.remove(&mark);
                false
            }
            None => false,
        }
    }

    /// The key marked `mark` waits `backoff` from `since` (no wait: nothing to keep).
    pub(crate) fn wait(&mut self, mark: u64, since: Instant, backoff: Duration) {
        if backoff.is_zero() {
            return;
        }
        let end = since.saturating_add(backoff);
        if self.until.len() >= MOST {
            self.until.retain(|_, until| since < *until);
            if self.until.len() > MOST * 3 / 4 {
                self.until.clear();
            }
        }
        if self.until.is_empty() {
            self.latest = end;
        }
        self.until.insert(mark, end);
        self.latest = self.latest.max(end);
    }

    /// Whether no key is remembered.
    #[cfg(feature = "async")]
    pub(crate) fn is_empty(&self) -> bool {
        self.until.is_empty()
    }

    #[cfg(all(test, feature = "async"))]
    pub(crate) fn len(&self) -> usize {
        self.until.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_refresh_waits_a_quarter_of_refresh_after_at_most_a_minute() {
        assert_eq!(
            after_failure(Some(Ttl::from_secs(40))),
            Duration::from_secs(10)
        );
        assert_eq!(
            after_failure(Some(Ttl::from_secs(3_600))),
            LONGEST_AFTER_FAILURE
        );
        assert_eq!(after_failure(Some(Ttl::NEVER)), LONGEST_AFTER_FAILURE);
        assert_eq!(after_failure(None), Duration::ZERO);
    }
}
