//! The pause after a failure: while it runs, operations fail at once rather than wait
//! on a server in trouble. When it ends, a probe tries the server while operations
//! still fail at once, until its answer says whether the server is back.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

/// When operations may try the server again, after a connection failure.
pub(crate) struct Pause {
    origin: std::time::Instant,
    /// Nanoseconds after `origin`; 0 while the server is not paused. Past, and not 0,
    /// once the pause ran out and no probe has answered yet.
    until: AtomicU64,
    /// Set when a probe ended a pause, until an operation reports the recovery in its
    /// caller's context (a probe runs on another runtime, outside it).
    #[cfg(feature = "tracing")]
    recovered: std::sync::atomic::AtomicBool,
    /// Until when (nanoseconds after `origin`) the probe out after the pause that ran
    /// out may answer; 0 with none out. A probe not back by then counts as lost (its
    /// runtime ended, or nothing polls it), and the next operation starts another.
    probing: AtomicU64,
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
    /// Its own deadline, as `probing` holds it.
    lost_at: u64,
}

impl Probe {
    /// The server answered: the pause ends. Whether this call ended it.
    pub(crate) fn answered(self) -> bool {
        let ended = self
            .pause
            .until
            .compare_exchange(self.until, 0, Relaxed, Relaxed)
            .is_ok();
        #[cfg(feature = "tracing")]
        if ended {
            self.pause.recovered.store(true, Relaxed);
        }
        ended
    }

    /// The server failed the probe: another pause.
    pub(crate) fn failed(self, pause: Duration) {
        self.pause.start(pause);
    }
}

impl Drop for Probe {
    fn drop(&mut self) {
        // Unless a later probe took over from this one, counted lost.
        let _ = self
            .pause
            .probing
            .compare_exchange(self.lost_at, 0, Relaxed, Relaxed);
    }
}

impl Pause {
    pub(crate) fn new() -> Self {
        Pause {
            origin: std::time::Instant::now(),
            until: AtomicU64::new(0),
            #[cfg(feature = "tracing")]
            recovered: std::sync::atomic::AtomicBool::new(false),
            probing: AtomicU64::new(0),
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
        if until == 0 {
            return false;
        }
        let now = self.now();
        now < until || now < self.probing.load(Relaxed)
    }

    /// Whether an operation may go to the server; a probe, if it is the one to start
    /// it, that counts as lost once `probe_life` has passed.
    pub(crate) fn admit(self: &Arc<Self>, probe_life: Duration) -> Admission {
        let until = self.until.load(Relaxed);
        if until == 0 {
            return Admission::Healthy;
        }
        let now = self.now();
        let probing = self.probing.load(Relaxed);
        if now < until || now < probing {
            return Admission::Refused;
        }
        let life = u64::try_from(probe_life.as_nanos()).unwrap_or(u64::MAX);
        let lost_at = now.saturating_add(life).max(1);
        if self
            .probing
            .compare_exchange(probing, lost_at, Relaxed, Relaxed)
            .is_err()
        {
            return Admission::Refused; // Another operation started it.
        }
        let pause = Arc::clone(self);
        Admission::Probe(Probe {
            pause,
            until,
            lost_at,
        })
    }

    /// How long the pause has to run, if one is running; while a probe is out after
    /// it, `step`.
    pub(crate) fn left(&self, step: Duration) -> Option<Duration> {
        let until = self.until.load(Relaxed);
        if until == 0 {
            return None;
        }
        let now = self.now();
        if now < until {
            return Some(Duration::from_nanos(until - now));
        }
        (now < self.probing.load(Relaxed)).then_some(step)
    }

    /// Whether a probe ended a pause since the last call: once per recovery.
    #[cfg(feature = "tracing")]
    pub(crate) fn take_recovered(&self) -> bool {
        self.recovered.load(Relaxed) && self.recovered.swap(false, Relaxed)
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

    const LIFE: Duration = Duration::from_secs(60);

    #[test]
    fn one_probe_at_a_time_after_the_pause() {
        let pause = Arc::new(Pause::new());
        assert!(matches!(pause.admit(LIFE), Admission::Healthy));
        pause.start(Duration::from_secs(60));
        assert!(pause.refuses() && matches!(pause.admit(LIFE), Admission::Refused));
        pause.start(Duration::ZERO);
        assert!(!pause.refuses(), "ran out, no probe yet");
        let Admission::Probe(probe) = pause.admit(LIFE) else {
            panic!("the first operation starts a probe");
        };
        assert!(pause.refuses() && matches!(pause.admit(LIFE), Admission::Refused));
        assert_eq!(
            pause.left(Duration::from_secs(1)),
            Some(Duration::from_secs(1))
        );
        drop(probe);
        let Admission::Probe(probe) = pause.admit(LIFE) else {
            panic!("a probe dropped unanswered lets the next start one");
        };
        assert!(probe.answered());
        assert!(matches!(pause.admit(LIFE), Admission::Healthy));
        assert_eq!(pause.left(Duration::from_secs(1)), None);
    }

    #[test]
    fn a_probe_that_never_answers_counts_as_lost() {
        let pause = Arc::new(Pause::new());
        pause.start(Duration::ZERO);
        let Admission::Probe(lost) = pause.admit(Duration::ZERO) else {
            panic!("the first operation starts a probe");
        };
        // Its task is never polled again, and never dropped: the next one probes.
        let Admission::Probe(next) = pause.admit(LIFE) else {
            panic!("a lost probe lets the next operation start one");
        };
        drop(lost);
        assert!(
            pause.refuses(),
            "the lost probe's drop leaves the new one out"
        );
        assert!(next.answered());
        assert!(matches!(pause.admit(LIFE), Admission::Healthy));
    }

    #[test]
    fn a_probe_does_not_end_a_later_pause() {
        let pause = Arc::new(Pause::new());
        pause.start(Duration::ZERO);
        let Admission::Probe(probe) = pause.admit(LIFE) else {
            panic!("the first operation starts a probe");
        };
        // Another operation failed meanwhile.
        pause.start(Duration::from_secs(60));
        assert!(!probe.answered());
        assert!(
            matches!(pause.admit(LIFE), Admission::Refused),
            "still paused"
        );
    }
}
