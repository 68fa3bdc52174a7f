//! Keys another process refreshes: this process starts no refresh of them until a time
//! of its own, rather than ask the backend for the key's lease on every due hit.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::sync::{Mutex, PoisonError, TryLockError};
use std::time::Duration;

use jwm_cache_core::Instant;

/// The most keys remembered: at it, those whose time has passed are dropped, and all if
/// that leaves more than three quarters (their refreshes may then ask once more).
const MOST: usize = 4_096;

/// Each key's time, by its refresh mark (see `RefreshesInFlight::mark`).
#[derive(Default)]
pub(super) struct RefreshBackoffs {
    /// Whether a key may be remembered: a due hit reads only this, unless one may be.
    any: AtomicBool,
    keys: Mutex<Remembered>,
}

#[derive(Default)]
struct Remembered {
    until: HashMap<u64, Instant>,
    /// The latest of their times: past it, all are forgotten at once.
    latest: Instant,
}

impl RefreshBackoffs {
    /// Whether the key marked `mark` waits still, at the time `now` reads.
    pub(super) fn holds(&self, mark: u64, now: impl FnOnce() -> Instant) -> bool {
        if !self.any.load(Relaxed) {
            return false;
        }
        let now = now();
        // Busy (another due hit, or a refresh remembering its key): this hit starts no
        // refresh, and the next one may.
        let mut keys = match self.keys.try_lock() {
            Ok(keys) => keys,
            Err(TryLockError::Poisoned(poisoned)) => poisoned.into_inner(),
            Err(TryLockError::WouldBlock) => return true,
        };
        if now >= keys.latest {
            keys.until.clear();
            self.any.store(false, Relaxed);
            return false;
        }
        match keys.until.get(&mark) {
            Some(&end) if now < end => true,
            Some(_) => {
                keys.until.remove(&mark);
                false
            }
            None => false,
        }
    }

    /// The key marked `mark` waits `backoff` from `since`.
    pub(super) fn wait(&self, mark: u64, since: Instant, backoff: Duration) {
        let end = since.saturating_add(backoff);
        let mut keys = self.keys.lock().unwrap_or_else(PoisonError::into_inner);
        if keys.until.len() >= MOST {
            keys.until.retain(|_, until| since < *until);
            if keys.until.len() > MOST * 3 / 4 {
                keys.until.clear();
            }
        }
        if keys.until.is_empty() {
            keys.latest = end;
        }
        keys.until.insert(mark, end);
        keys.latest = keys.latest.max(end);
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
        assert_eq!(backoffs.keys.lock().unwrap().until.len(), MOST / 2 + 1);
        assert!(backoffs.holds(1, || at(50)), "a live key forgotten");
        assert!(!backoffs.holds(2, || at(50)));
        // Full, all live: all are dropped.
        for mark in 0..MOST as u64 {
            backoffs.wait(mark, at(50), Duration::from_millis(100));
        }
        backoffs.wait(u64::MAX - 1, at(50), Duration::from_millis(100));
        assert!(backoffs.keys.lock().unwrap().until.len() <= MOST / 2);
    }
}
