//! Computations that run outside single-flight (solo): single-flight is off, a
//! computation asks for its own key, a caller may not wait, or a refresh of the key that
//! nobody may wait for (a sync one, or an async one not yet spawned) is running. Nobody
//! can join them, but a write of their key must still keep their value out of the
//! cache, as it keeps out a detached flight's: a computation that began before a
//! `remove` read what the removal was meant to drop.

use std::borrow::Borrow;
use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Arc;

use foldhash::fast::RandomState;

use super::Flight;

/// The keys being computed alone, each while at least one such computation runs.
pub(crate) struct Solos<K, V> {
    running: HashMap<K, Running, RandomState>,
    /// Clears so far: a clear keeps out every solo value under way.
    clears: u64,
    values: std::marker::PhantomData<fn() -> V>,
}

/// One key's solo computations: how many run, and the writes of the key since the
/// first of them began.
struct Running {
    count: u32,
    writes: u64,
}

/// What a solo computation took when it began.
pub(crate) struct Ticket<V> {
    writes: u64,
    clears: u64,
    /// The key's refresh under way then, if any: older than this computation.
    pub(crate) refresh: Option<Arc<Flight<V>>>,
}

impl<K, V> Default for Solos<K, V> {
    fn default() -> Self {
        Solos {
            running: HashMap::default(),
            clears: 0,
            values: std::marker::PhantomData,
        }
    }
}

impl<K: Hash + Eq + Clone, V> Solos<K, V> {
    /// A solo computation of `key` begins, with the key's `refresh` under way if any;
    /// [`end`](Self::end) it.
    pub(crate) fn begin(&mut self, key: &K, refresh: Option<Arc<Flight<V>>>) -> Ticket<V> {
        let running = self.running.entry(key.clone()).or_insert(Running {
            count: 0,
            writes: 0,
        });
        running.count += 1;
        Ticket {
            writes: running.writes,
            clears: self.clears,
            refresh,
        }
    }

    pub(crate) fn end(&mut self, key: &K) {
        if let Some(running) = self.running.get_mut(key) {
            running.count -= 1;
            if running.count == 0 {
                self.running.remove(key);
            }
        }
    }

    /// Whether no write of `key` and no clear came since `ticket` was taken.
    pub(crate) fn may_store(&self, key: &K, ticket: &Ticket<V>) -> bool {
        self.clears == ticket.clears
            && self
                .running
                .get(key)
                .is_some_and(|running| running.writes == ticket.writes)
    }

    /// Whether a computation of `key` runs alone.
    #[cfg(feature = "async")]
    pub(crate) fn running(&self, key: &K) -> bool {
        self.running.contains_key(key)
    }

    /// A write of `key` (or a borrowed form of it): its solo computations under way may
    /// not store.
    pub(crate) fn written<Q: Hash + Eq + ?Sized>(&mut self, key: &Q)
    where
        K: Borrow<Q>,
    {
        if let Some(running) = self.running.get_mut(key) {
            running.writes += 1;
        }
    }

    /// A write of every key (a clear).
    pub(crate) fn all_written(&mut self) {
        self.clears += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_write_keeps_out_its_keys_solo_values_and_no_others() {
        let mut solos = Solos::<u32, u32>::default();
        let (zero, one) = (solos.begin(&0, None), solos.begin(&1, None));
        solos.written(&0);
        assert!(!solos.may_store(&0, &zero));
        assert!(solos.may_store(&1, &one));
        // Begun after the write: newer than it.
        let again = solos.begin(&0, None);
        assert!(solos.may_store(&0, &again));
        solos.all_written();
        assert!(!solos.may_store(&1, &one));
        for key in [0, 1, 0] {
            solos.end(&key);
        }
        assert!(
            solos.running.is_empty(),
            "a key is forgotten with its last computation"
        );
        // A write of a key nobody computes alone is nothing to remember.
        solos.written(&7);
        assert!(solos.running.is_empty());
    }
}
