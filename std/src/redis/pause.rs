//! The pause after a failure: while it runs, operations fail at once rather than wait
//! on a server in trouble.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

/// When operations may try the server again, after a connection failure.
pub(crate) struct Pause {
    origin: std::time::Instant,
    /// Nanoseconds after `origin`; 0 while the server is not paused.
    until: AtomicU64,
}

impl Pause {
    pub(crate) fn new() -> Self {
        Pause {
            origin: std::time::Instant::now(),
            until: AtomicU64::new(0),
        }
    }

    fn now(&self) -> u64 {
        u64::try_from(self.origin.elapsed().as_nanos()).unwrap_or(u64::MAX)
    }

    pub(crate) fn active(&self) -> bool {
        self.left().is_some()
    }

    /// How long the pause has to run, if one is running.
    pub(crate) fn left(&self) -> Option<Duration> {
        // Cheap while healthy: one relaxed load, and the clock only when paused.
        let until = self.until.load(Relaxed);
        if until == 0 {
            return None;
        }
        let now = self.now();
        (now < until).then(|| Duration::from_nanos(until - now))
    }

    /// Pauses for `pause` from now; true if no pause was running.
    pub(crate) fn start(&self, pause: Duration) -> bool {
        let pause = u64::try_from(pause.as_nanos()).unwrap_or(u64::MAX);
        let now = self.now();
        let previous = self.until.swap(now.saturating_add(pause).max(1), Relaxed);
        previous == 0 || previous <= now
    }

    /// After a success: forgets a pause that has run out, and says whether this call
    /// did (once per pause, for the recovery's event).
    #[cfg(feature = "tracing")]
    pub(crate) fn ended(&self) -> bool {
        let until = self.until.load(Relaxed);
        // A success that began before the failure may end during the pause: not yet.
        until != 0
            && self.now() >= until
            && self
                .until
                .compare_exchange(until, 0, Relaxed, Relaxed)
                .is_ok()
    }
}
