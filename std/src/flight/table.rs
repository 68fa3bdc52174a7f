//! The computations in flight, by key, and those that run alone beside them.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Arc;

use foldhash::fast::RandomState;

use super::solo::{Solos, Ticket};
use super::{Caller, Flight, Joiner, Role};

/// The computations in flight, by key, and those that run alone.
pub(crate) struct Flights<K, V> {
    map: HashMap<K, Arc<Flight<V>>, RandomState>,
    solos: Solos<K, V>,
}

impl<K, V> Default for Flights<K, V> {
    fn default() -> Self {
        Flights {
            map: HashMap::default(),
            solos: Solos::default(),
        }
    }
}

impl<K: Hash + Eq + Clone, V: Clone> Flights<K, V> {
    /// Joins the flight for `key`, or starts one led by the joiner.
    pub(crate) fn join_or_lead(&mut self, key: &K, joiner: Joiner) -> Role<K, V> {
        if let Some(flight) = self.map.get(key) {
            // A refresh may wait in a queue, and may ask for its own key: a caller computes
            // alone rather than wait for one, unless the task or thread the refresh runs
            // on is known (see `Flight::runs_on`) and the caller is not it.
            if flight.computing() == Caller::Refresh
                || flight.asked_from_within(&joiner)
                || !joiner.may_wait
            {
                return Role::Solo;
            }
            return Role::Wait(Arc::clone(flight));
        }
        // Both clones happen before the flight is registered, so a panicking `clone`
        // leaves nothing behind.
        let (registered, guarded) = (key.clone(), key.clone());
        let flight = Flight::new(joiner);
        self.map.insert(registered, Arc::clone(&flight));
        Role::Lead(flight, guarded)
    }

    /// Whether `flight` is still the one registered for `key`: a `clear` or `remove`
    /// withdraws it, and its result must then not be stored.
    pub(crate) fn is_current(&self, key: &K, flight: &Arc<Flight<V>>) -> bool {
        self.map.get(key).is_some_and(|f| Arc::ptr_eq(f, flight))
    }

    /// Whether a computation of `key` is under way: in a flight, or alone.
    #[cfg(feature = "async")]
    pub(crate) fn contains(&self, key: &K) -> bool {
        self.map.contains_key(key) || self.solos.running(key)
    }

    /// A computation of `key` outside any flight begins; [`end_solo`](Self::end_solo)
    /// it. Until then a write of the key keeps its value out.
    pub(crate) fn begin_solo(&mut self, key: &K) -> Ticket<V> {
        let refresh = self
            .map
            .get(key)
            .filter(|flight| flight.leader == Caller::Refresh)
            .cloned();
        self.solos.begin(key, refresh)
    }

    pub(crate) fn end_solo(&mut self, key: &K) {
        self.solos.end(key);
    }

    /// Whether a computation of `key` outside any flight, begun with `ticket`, may store
    /// its value: no write of the key and no clear came since. If so, a refresh of the
    /// key that was under way when it began, older than its value, is withdrawn, so that
    /// it does not overwrite it.
    pub(crate) fn solo_may_store(&mut self, key: &K, ticket: &Ticket<V>) -> bool {
        if !self.solos.may_store(key, ticket) {
            return false;
        }
        if let Some(refresh) = &ticket.refresh
            && self.is_current(key, refresh)
        {
            self.map.remove(key);
        }
        true
    }

    /// Unregisters `flight` if it is still the one for `key`; returns whether it was.
    pub(crate) fn withdraw(&mut self, key: &K, flight: &Arc<Flight<V>>) -> bool {
        let current = self.is_current(key, flight);
        if current {
            self.map.remove(key);
        }
        current
    }

    /// Detaches the flight for `key` (or a borrowed form of it): its result then reaches
    /// only its own callers. A computation of the key alone does not store either.
    pub(crate) fn detach<Q: Hash + Eq + ?Sized>(&mut self, key: &Q)
    where
        K: std::borrow::Borrow<Q>,
    {
        self.map.remove(key);
        self.solos.written(key);
    }

    /// Detaches every flight, and keeps out the values of those computing alone.
    pub(crate) fn detach_all(&mut self) {
        self.map.clear();
        self.solos.all_written();
    }
}
