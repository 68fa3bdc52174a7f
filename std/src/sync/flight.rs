//! Single-flight: one computation per missing key, the other callers wait for it.

use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::thread::{self, ThreadId};

/// A computation in progress, shared by its leader and its waiters.
pub(crate) struct Flight<V> {
    state: Mutex<State<V>>,
    settled: Condvar,
    leader: ThreadId,
}

enum State<V> {
    Running,
    Done(V),
    /// The leader panicked or failed: a waiter must take over.
    Abandoned,
}

impl<V: Clone> Flight<V> {
    pub(crate) fn new() -> Arc<Self> {
        Arc::new(Flight {
            state: Mutex::new(State::Running),
            settled: Condvar::new(),
            leader: thread::current().id(),
        })
    }

    /// The thread computing the value.
    pub(crate) fn leader(&self) -> ThreadId {
        self.leader
    }

    /// Blocks until the leader settles: its value, or `None` if it gave up.
    pub(crate) fn wait(&self) -> Option<V> {
        let state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        let state = self
            .settled
            .wait_while(state, |s| matches!(s, State::Running))
            .unwrap_or_else(PoisonError::into_inner);
        match &*state {
            State::Done(value) => Some(value.clone()),
            State::Running | State::Abandoned => None,
        }
    }

    /// Settles the flight and wakes every waiter.
    pub(crate) fn settle(&self, outcome: Option<V>) {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        *state = match outcome {
            Some(value) => State::Done(value),
            None => State::Abandoned,
        };
        self.settled.notify_all();
    }
}
