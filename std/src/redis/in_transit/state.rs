//! What is in transit: each name's stores that may still land, by connection and age.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use super::super::namespace::head_of;

/// How long a store is waited for at most, however its follower fares: one whose
/// runtime is not running (a current-thread runtime between `block_on`s) does not probe,
/// and one whose tries each take a long timeout probes slowly.
pub(super) const GIVEN_UP_AFTER: Duration = Duration::from_secs(20);

/// What a caller waits for to land.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Awaited<'a> {
    /// Every store of the namespace whose `{prefix}{identifier}:` head this is.
    Namespace(&'a str),
    /// Every store of these names except those sent on the connection `besides`, if
    /// one: the caller's own, where it queues behind them and needs no wait.
    Names {
        names: &'a [&'a str],
        besides: Option<u64>,
    },
}

/// One store that may still land.
#[derive(Clone, Copy, Debug)]
struct Sent {
    /// The serial of the connection it was sent on.
    serial: u64,
    at: Instant,
}

/// The names of stores that may still land, and what each follower has yet to probe.
#[derive(Default)]
pub(super) struct State {
    /// Each name's stores that may still land.
    names: HashMap<String, Vec<Sent>>,
    /// For each connection (by serial) that has a follower, the names stored on it
    /// since that follower's last probe was sent.
    pub(super) waiting: HashMap<u64, Vec<String>>,
}

impl State {
    /// Counts a store of `name` sent on connection `serial` at `at`.
    pub(super) fn count(&mut self, name: &str, serial: u64, at: Instant) {
        let sent = Sent { serial, at };
        self.names.entry(name.to_owned()).or_default().push(sent);
    }

    /// Lets go of one store of each of `names` sent on connection `serial`.
    pub(super) fn let_go(&mut self, names: impl IntoIterator<Item = String>, serial: u64) {
        for name in names {
            let Some(sents) = self.names.get_mut(&name) else {
                debug_assert!(false, "{name} let go more often than counted");
                continue;
            };
            if let Some(i) = sents.iter().position(|sent| sent.serial == serial) {
                // The earliest: a probe covers the stores sent before it.
                sents.remove(i);
            }
            if sents.is_empty() {
                self.names.remove(&name);
            }
        }
    }

    /// How many names have stores counted, given up on or not.
    pub(super) fn len(&self) -> usize {
        self.names.len()
    }

    /// When the last store of `awaited` that may still land at `now` is given up on;
    /// `None` if none may.
    pub(super) fn pending(&self, awaited: Awaited<'_>, now: Instant) -> Option<Instant> {
        let live = |sent: &&Sent| now.saturating_duration_since(sent.at) < GIVEN_UP_AFTER;
        let latest = |sents: &[Sent], besides: Option<u64>| {
            sents
                .iter()
                .filter(|sent| Some(sent.serial) != besides)
                .filter(live)
                .map(|sent| sent.at + GIVEN_UP_AFTER)
                .max()
        };
        match awaited {
            Awaited::Namespace(head) => self
                .names
                .iter()
                .filter(|(name, _)| head_of(name) == head)
                .filter_map(|(_, sents)| latest(sents, None))
                .max(),
            Awaited::Names { names, besides } => names
                .iter()
                .filter_map(|&name| self.names.get(name))
                .filter_map(|sents| latest(sents, besides))
                .max(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(ms: u64) -> Instant {
        static BASE: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();
        *BASE.get_or_init(Instant::now) + Duration::from_millis(ms)
    }

    const NS: &str = "jwm:ns:";

    fn name(n: u8) -> String {
        format!("{NS}{}", format!("{n:x}").repeat(32).get(..32).unwrap())
    }

    #[test]
    fn a_name_is_pending_until_each_of_its_stores_is_let_go() {
        let mut state = State::default();
        let (a, b) = (name(1), name(2));
        state.count(&a, 1, at(0));
        state.count(&a, 2, at(5));
        state.count(&a, 2, at(6));
        let only_a = Awaited::Names {
            names: &[&a],
            besides: Some(9),
        };
        assert_eq!(state.pending(only_a, at(10)), Some(at(6) + GIVEN_UP_AFTER));
        assert_eq!(
            state.pending(
                Awaited::Names {
                    names: &[&b],
                    besides: Some(9)
                },
                at(10)
            ),
            None
        );
        // The earlier of connection 2's stores goes first, as its probe covered it.
        state.let_go([a.clone()], 2);
        assert_eq!(state.pending(only_a, at(10)), Some(at(6) + GIVEN_UP_AFTER));
        state.let_go([a.clone()], 2);
        assert_eq!(state.pending(only_a, at(10)), Some(at(0) + GIVEN_UP_AFTER));
        state.let_go([a.clone()], 1);
        assert_eq!(state.pending(only_a, at(10)), None);
        assert_eq!(state.len(), 0, "a name with no stores left is forgotten");
    }

    #[test]
    fn stores_on_the_callers_own_connection_are_not_waited_for() {
        let mut state = State::default();
        let a = name(1);
        state.count(&a, 3, at(0));
        assert_eq!(
            state.pending(
                Awaited::Names {
                    names: &[&a],
                    besides: Some(3)
                },
                at(1)
            ),
            None
        );
        state.count(&a, 4, at(1));
        let on_3 = Awaited::Names {
            names: &[&a],
            besides: Some(3),
        };
        assert_eq!(state.pending(on_3, at(2)), Some(at(1) + GIVEN_UP_AFTER));
        // A clear scans on whichever connection: it waits for every store.
        state.let_go([a.clone()], 4);
        assert!(state.pending(Awaited::Namespace(NS), at(2)).is_some());
    }

    #[test]
    fn a_namespace_waits_for_its_own_names_only() {
        let mut state = State::default();
        state.count(&name(1), 1, at(0));
        state.count("jwm:ns2:0123456789abcdef0123456789abcdef", 1, at(0));
        assert!(state.pending(Awaited::Namespace(NS), at(1)).is_some());
        assert!(
            state
                .pending(Awaited::Namespace("jwm:ns2:"), at(1))
                .is_some()
        );
        state.let_go([name(1)], 1);
        assert_eq!(state.pending(Awaited::Namespace(NS), at(1)), None);
        assert!(
            state
                .pending(Awaited::Namespace("jwm:other:"), at(1))
                .is_none()
        );
    }

    #[test]
    fn a_store_is_given_up_on_after_the_limit_whatever_its_follower_does() {
        let mut state = State::default();
        let a = name(1);
        state.count(&a, 1, at(0));
        let awaited = Awaited::Names {
            names: &[&a],
            besides: Some(9),
        };
        let limit = GIVEN_UP_AFTER.as_millis() as u64;
        assert!(state.pending(awaited, at(limit - 1)).is_some());
        assert_eq!(state.pending(awaited, at(limit)), None);
        assert_eq!(state.pending(Awaited::Namespace(NS), at(limit)), None);
        // Still counted until its follower lets it go.
        assert_eq!(state.len(), 1);
    }
}
