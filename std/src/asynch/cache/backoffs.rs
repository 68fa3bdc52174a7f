//! Keys whose refresh waits, in an async cache: another process refreshes them (this
//! process then asks the backend for no lease on every due hit), or their refresh failed.

use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::sync::{Mutex, PoisonError, TryLockError};
use std::time::Duration;

use jwm_cache_core::Instant;

use crate::backoffs::Backoffs;
#[cfg(test)]
use crate::backoffs::MOST;

/// Each key's time, by its refresh mark (see `RefreshesInFlight::mark`).
#[derive(Default)]
pub(super) struct RefreshBackoffs {
    /// Whether a key may be remembered: a due hit reads only this, unless one may be.
    any: AtomicBool,
    keys: Mutex<Backoffs>,
}

impl RefreshBackoffs {
    /// Whether the key marked `mark` waits still, at the time `now` reads.
    pub(super) fn holds(&self, mark: u64, now: impl FnOnce() -> Instant) -> bool {
        if !self.any.load(Relaxed) {
            return false;
        }
        // Busy (another due hit, or a refresh remembering its key): this hit starts no
        // refresh, and the next one may.
        let mut keys = match self.keys.try_lock() {
            Ok(keys) => keys,
            Err(TryLockError::Poisoned(poisoned)) => poisoned.into_inner(),
            Err(TryLockError::WouldBlock) => return true,
        };
        let holds = keys.holds(mark, now());
        if keys.is_empty() {
            self.any.store(false, Relaxed);
        }
        holds
    }

    /// The key marked `mark` waits `backoff` from `since`.
    pub(super) fn wait(&self, mark: u64, since: Instant, backoff: Duration) {
        if backoff.is_zero() {
            return;
        }
        let mut keys = self.keys.lock().unwrap_or_else(PoisonError::into_inner);
        keys.wait(mark, since, backoff);
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
        assert!(
            !backoffs.any.load(Relaxed),
            "all forgotten once past the latest"
        );
        backoffs.wait(1, at(0), Duration::from_millis(10));
        backoffs.wait(2, at(0), Duration::from_millis(20));
        assert!(!backoffs.holds(1, || at(15)));
        assert!(backoffs.holds(2, || at(15)), "one past, not the other");
        // Full, half of them past their time: those are dropped, the rest kept.
        for mark in 0..MOST as u64 {
            let backoff = if mark % 2 == 0 { 10 } else { 100 };
            backoffs.wait(mark, at(0), Duration::from_millis(backoff));
        }
        backoffs.wait(u64::MAX, at(50), Duration::from_millis(10));
        assert_eq!(backoffs.keys.lock().unwrap().len(), MOST / 2 + 1);
        assert!(backoffs.holds(1, || at(50)), "a live key forgotten");
        assert!(!backoffs.holds(2, || at(50)));
        // Full, all live: all are dropped.
        for mark in 0..MOST as u64 {
            backoffs.wait(mark, at(50), Duration::from_millis(100));
        }
        backoffs.wait(u64::MAX - 1, at(50), Duration::from_millis(100));
        assert!(backoffs.keys.lock().unwrap().len() <= MOST / 2);
    }
}
