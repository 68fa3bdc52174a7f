//! The leader's side of a flight: its guard, and the table it withdraws the flight from.

use std::sync::Arc;

use super::{ErrorSharing, Flight, State};

/// Where a leader's flight is registered.
pub(crate) trait FlightTable<K, V> {
    /// Unregisters `flight` if it is still the one for `key`.
    fn withdraw(&self, key: &K, flight: &Arc<Flight<V>>);
}

impl<K, V, T: FlightTable<K, V> + ?Sized> FlightTable<K, V> for &T {
    fn withdraw(&self, key: &K, flight: &Arc<Flight<V>>) {
        (**self).withdraw(key, flight);
    }
}

impl<K, V, T: FlightTable<K, V> + ?Sized> FlightTable<K, V> for Arc<T> {
    fn withdraw(&self, key: &K, flight: &Arc<Flight<V>>) {
        (**self).withdraw(key, flight);
    }
}

/// The leader of a flight. Dropped unsettled (its computation panicked or was
/// cancelled), it withdraws the flight and wakes the waiters so that one takes over;
/// dropped settled but still registered, it withdraws the flight.
pub(crate) struct Lead<T: FlightTable<K, V>, K, V: Clone> {
    /// The table, borrowed by a caller's lead, owned by a refresh's in the background.
    pub(crate) table: T,
    pub(crate) key: K,
    pub(crate) flight: Arc<Flight<V>>,
    settled: bool,
    withdrawn: bool,
}

impl<T: FlightTable<K, V>, K, V: Clone> Lead<T, K, V> {
    pub(crate) fn new(table: T, flight: Arc<Flight<V>>, key: K) -> Self {
        Lead {
            table,
            key,
            flight,
            settled: false,
            withdrawn: false,
        }
    }

    /// Hands `value` to the waiters. The caller has already withdrawn the flight.
    pub(crate) fn settle(mut self, value: &V) {
        self.withdrawn = true;
        self.settle_registered(value);
    }

    /// Hands `value` to the waiters, and to callers that join before the flight is
    /// withdrawn (by [`withdraw`](Self::withdraw), or on drop): while the value is
    /// stored, callers get it at once instead of waiting for the store.
    pub(crate) fn settle_registered(&mut self, value: &V) {
        // Cloned before the flight counts as settled: if `clone` panics, `drop` still
        // settles it (as abandoned), so no waiter is left behind.
        let handed = value.clone();
        self.settled = true;
        self.flight.settle(State::Done(handed));
    }

    /// The settled flight was withdrawn by the caller, under the lock of its store.
    pub(crate) fn withdrawn(mut self) {
        self.withdrawn = true;
    }

    /// Unregisters the settled flight.
    #[cfg(feature = "async")]
    pub(crate) fn withdraw(mut self) {
        self.table.withdraw(&self.key, &self.flight);
        self.withdrawn = true;
    }

    /// Hands the computation's `error` to the waiters, and withdraws the flight: an
    /// `Err` is never cached, so the next call after this one computes again. An error
    /// that is not shared abandons the flight instead, and a waiter takes over.
    pub(crate) fn fail<E, X: ErrorSharing<E>>(mut self, error: &E) {
        let Some(handed) = X::share(error) else {
            return; // dropped unsettled: abandoned
        };
        self.table.withdraw(&self.key, &self.flight);
        (self.withdrawn, self.settled) = (true, true);
        self.flight.settle(State::Failed(handed));
    }
}

impl<T: FlightTable<K, V>, K, V: Clone> Drop for Lead<T, K, V> {
    fn drop(&mut self) {
        if !self.withdrawn {
            self.table.withdraw(&self.key, &self.flight);
        }
        if !self.settled {
            self.flight.settle(State::Abandoned);
        }
    }
}
