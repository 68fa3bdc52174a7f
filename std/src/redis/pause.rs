//! The pause after a failure: while it runs, operations fail at once rather than wait
//! on a server in trouble. When it ends, a probe tries the server while operations
//! still fail at once, until its answer says whether the server is back.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::time::Duration;

/// When operations may try the server again, after a connection failure.
pub(crate) struct Pause {
    origin: std::time::Instant,
    /// Nanoseconds after `origin`; 0 while the server is not paused. Past, and not 0,
    /// once the pause ran out and no probe has answered yet.
    until: AtomicU64,
    /// Whether an operation is out trying the server for the pause that ran out.
    probing: AtomicBool,
}

/// What an operation may do.
pub(crate) enum Admission {
    /// No pause: go ahead.
    Healthy,
    /// Fail at once: the pause runs, or a probe is out.
    Refused,
    /// Fail at once, and try the server for all: the pause ran out, and no probe is
    /// out.
    Probe(Probe),
}

/// The one try of the server after a pause: its answer ends the pause, its failure
/// starts another. Dropped with neither, it lets the next operation start a probe.
pub(crate) struct Probe {
    pause: Arc<Pause>,
    /// The pause it tries to end: a later one, started by another failure, stays.
    until: u64,
}

impl Probe {
    /// The server answered: the pause ends. Whether this call ended it.
    pub(crate) fn answered(self) -> bool {
        self.pause
            .until
            .compare_exchange(self.until, 0, Relaxed, Relaxed)
            .is_ok()
    }
}

impl Probe {
    /// The server failed the probe: another pause.
    pub(crate) fn failed(self, pause: Duration) {
        self.pause.start(pause);
    }
}

impl Drop for Probe {
    fn drop(&mut self) {
        self.pause.probing.store(false, Relaxed);
    }
}

impl Pause {
    pub(crate) fn new() -> Self {
        Pause {
            origin: std::time::Instant::now(),
            until: AtomicU64::new(0),
            probing: AtomicBool::new(false),
        }
    }

    fn now(&self) -> u64 {
        u64::try_from(self.origin.elapsed().as_nanos()).unwrap_or(u64::MAX)
    }

    /// Whether an operation must fail at once: the pause runs, or it ran out and a
    /// probe is out.
    pub(crate) fn refuses(&self) -> bool {
        // Cheap while healthy: one relaxed load, and the clock only when paused.
        let until = self.until.load(Relaxed);
        until != 0 && (self.now() < until || self.probing.load(Relaxed))
    }

    /// Whether an operation may go to the server.
    pub(crate) fn admit(self: &Arc<Self>) -> Admission {
        let until = self.until.load(Relaxed);
        if until == 0 {
            return Admission::Healthy;
        }
        if self.now() < until || self.probing.swap(true, Relaxed) {
            return Admission::Refused;
        }
        let pause = Arc::clone(self);
        Admission::Probe(Probe { pause, until })
    }

    /// How long the pause has to run, if one is running; while a probe is out after
    /// it, `probing`, the time the probe may take.
    pub(crate) fn left(&self, probing: Duration) -> Option<Duration> {
        let until = self.until.load(Relaxed);
        if until == 0 {
            return None;
        }
        let now = self.now();
        if now < until {
            return Some(Duration::from_nanos(until - now));
        }
        self.probing.load(Relaxed).then_some(probing)
    }

    /// Pauses for `pause` from now; true if no pause was running.
    pub(crate) fn start(&self, pause: Duration) -> bool {
        let pause = u64::try_from(pause.as_nanos()).unwrap_or(u64::MAX);
        let now = self.now();
        let previous = self.until.swap(now.saturating_add(pause).max(1), Relaxed);
        previous == 0 || previous <= now
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_probe_at_a_time_after_the_pause() {
        let pause = Arc::new(Pause::new());
        assert!(matches!(pause.admit(), Admission::Healthy));
        pause.start(Duration::from_secs(60));
        assert!(pause.refuses() && matches!(pause.admit(), Admission::Refused));
        pause.start(Duration::ZERO);
        assert!(!pause.refuses(), "ran out, no probe yet");
        let Admission::Probe(probe) = pause.admit() else {
            panic!("the first operation starts a probe");
        };
        assert!(pause.refuses() && matches!(pause.admit(), Admission::Refused));
        assert_eq!(
            pause.left(Duration::from_secs(1)),
            Some(Duration::from_secs(1))
        );
        drop(probe);
        let Admission::Probe(probe) = pause.admit() else {
            panic!("a probe dropped unanswered lets the next start one");
        };
        assert!(probe.answered());
        assert!(matches!(pause.admit(), Admission::Healthy));
        assert_eq!(pause.left(Duration::from_secs(1)), None);
    }

    #[test]
    fn a_probe_does_not_end_a_later_pause() {
        let pause = Arc::new(Pause::new());
        pause.start(Duration::ZERO);
        let Admission::Probe(probe) = pause.admit() else {
            panic!("the first operation starts a probe");
        };
        // Another operation failed meanwhile.
        pause.start(Duration::from_secs(60));
        assert!(!probe.answered());
        assert!(matches!(pause.admit(), Admission::Refused), "still paused");
    }
}
