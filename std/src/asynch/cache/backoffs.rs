//! Keys another process refreshes: this process starts no refresh of them until a time
//! of its own, rather than ask the backend for the key's lease on every due hit.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use jwm_cache_core::Instant;

/// The most keys remembered: past it, those whose time has passed are dropped, then
/// all (their refreshes may then ask once more, no more).
const MOST: usize = 4_096;

/// Each key's time, by its refresh mark (see `RefreshesInFlight::mark`).
#[derive(Default)]
pub(super) struct RefreshBackoffs {
    /// Whether any key is remembered: a due hit reads only this, unless one is.
    any: AtomicBool,
    until: Mutex<HashMap<u64, Instant>>,
}

impl RefreshBackoffs {
    /// Whether the key marked `mark` waits still, at the time `now` reads.
    pub(super) fn holds(&self, mark: u64, now: impl FnOnce() -> Instant) -> bool {
        if !self.any.load(Relaxed) {
            return false;
        }
        let mut until = self.until.lock().unwrap_or_else(PoisonError::into_inner);
        match until.get(&mark) {
            Some(&end) if now() < end => true,
            Some(_) => {
                until.remove(&mark);
                self.any.store(!until.is_empty(), Relaxed);
                false
            }
            None => false,
        }
    }

    /// The key marked `mark` waits `backoff` from `now`.
    pub(super) fn wait(&self, mark: u64, now: Instant, backoff: Duration) {
        let mut until = self.until.lock().unwrap_or_else(PoisonError::into_inner);
        if until.len() >= MOST {
            until.retain(|_, end| now < *end);
            if until.len() >= MOST {
                until.clear();
            }
        }
        until.insert(mark, now.saturating_add(backoff));
        self.any.store(true, Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_waits_its_time_and_no_longer() {
        let backoffs = RefreshBackoffs::default();
        let at = |ms: u64| Instant::from_nanos(ms * 1_000_000);
        assert!(!backoffs.holds(7, || at(0)));
        backoffs.wait(7, at(0), Duration::from_millis(10));
        assert!(backoffs.holds(7, || at(9)));
        assert!(!backoffs.holds(8, || at(9)), "another key");
        assert!(!backoffs.holds(7, || at(10)));
        assert!(!backoffs.any.load(Relaxed), "forgotten once past");
        for mark in 0..(MOST as u64 + 10) {
            backoffs.wait(mark, at(0), Duration::from_millis(10));
        }
        assert!(backoffs.until.lock().unwrap().len() <= MOST);
    }
}
