//! Who hears about entries leaving the memory backend, and why they left.

/// Why an entry left the store.
///
/// ```
/// use jwm_cache_core::RemovalCause;
///
/// let counted = |cause| matches!(cause, RemovalCause::Expired | RemovalCause::Evicted);
/// assert!(counted(RemovalCause::Evicted));
/// assert!(!counted(RemovalCause::Replaced));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RemovalCause {
    /// Its deadline passed: reclaimed by the timer wheel, found expired by a read or a
    /// write, or removed or evicted after it expired. Counted in
    /// [`Reclaimed::expirations`](crate::backend::Reclaimed::expirations).
    Expired,
    /// A live entry dropped to stay within capacity. Counted in
    /// [`Reclaimed::evictions`](crate::backend::Reclaimed::evictions).
    Evicted,
    /// Removed by [`Lookup::remove`](crate::backend::Lookup::remove) while live.
    Removed,
    /// A live value overwritten by [`Backend::set`](crate::backend::Backend::set): the
    /// key now holds the new value (or, if the new value alone outweighs the capacity,
    /// nothing, and the new value is reported as `Rejected`).
    Replaced,
    /// Dropped by [`Backend::clear`](crate::backend::Backend::clear).
    Cleared,
    /// Never stored: it alone outweighs the capacity (any entry, with a capacity of 0),
    /// or the other stores sharing the capacity (a sharded cache's other shards) alone
    /// hold more than all of it.
    Rejected,
}

/// Told about every entry that leaves a [`MemoryBackend`](crate::memory::MemoryBackend),
/// exactly once, with the entry's key, value and [`RemovalCause`]. Any
/// `FnMut(K, E, RemovalCause)` is a listener.
///
/// It runs inside the store's operation, so it should be quick.
///
/// ```
/// use jwm_cache_core::{Backend, Lookup, Deadline, Instant, MemoryBackend, RemovalCause};
///
/// let mut removed = Vec::new();
/// let mut store = MemoryBackend::<u32, &str>::with_capacity(1)
///     .with_listener(|key, value, cause| removed.push((key, value, cause)));
/// let now = Instant::ZERO;
/// store.set(1, "one", Deadline::NEVER, now).unwrap();
/// store.set(1, "uno", Deadline::NEVER, now).unwrap();
/// store.set(2, "two", Deadline::NEVER, now).unwrap();
/// drop(store);
/// assert_eq!(
///     removed,
///     [(1, "one", RemovalCause::Replaced), (1, "uno", RemovalCause::Evicted)]
/// );
/// ```
pub trait RemovalListener<K, E> {
    /// `key` and `value` left the store because of `cause`.
    fn on_removal(&mut self, key: K, value: E, cause: RemovalCause);
}

/// The default listener: hears nothing, and costs nothing.
///
/// ```
/// use jwm_cache_core::{NoListener, RemovalCause, RemovalListener};
///
/// NoListener.on_removal(1, "one", RemovalCause::Removed);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct NoListener;

impl<K, E> RemovalListener<K, E> for NoListener {
    #[inline]
    fn on_removal(&mut self, _: K, _: E, _: RemovalCause) {}
}

impl<K, E, F: FnMut(K, E, RemovalCause)> RemovalListener<K, E> for F {
    #[inline]
    fn on_removal(&mut self, key: K, value: E, cause: RemovalCause) {
        self(key, value, cause)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::{Backend, Lookup, Reclaimed};
    use crate::memory::MemoryBackend;
    use crate::time::{Deadline, Instant};
    use alloc::vec::Vec;

    #[test]
    fn every_removal_reports_its_cause() {
        let mut causes = Vec::new();
        // SIEVE, whose victim is known: the causes are the subject here.
        let mut store = MemoryBackend::<u32, u32>::new()
            .with_eviction(crate::memory::Sieve::new(2))
            .with_listener(|key, value, cause| causes.push((key, value, cause)));
        let (t0, t1) = (Instant::ZERO, Instant::from_nanos(5));
        let soon = Deadline::at(t1);
        store.set(1, 10, soon, t0).unwrap();
        store.get(&1, t1).unwrap(); // expired on read
        store.set(2, 20, soon, t0).unwrap();
        store.set(2, 21, Deadline::NEVER, t1).unwrap(); // expired on write
        store.set(2, 22, Deadline::NEVER, t1).unwrap(); // replaced
        store.set(3, 30, Deadline::NEVER, t1).unwrap();
        store.set(4, 40, Deadline::NEVER, t1).unwrap(); // evicts 3, unvisited
        store.remove(&4, t1).unwrap(); // removed
        store.clear().unwrap(); // cleared
        assert_eq!(store.reclaimed(), Reclaimed::default());
        drop(store);
        assert_eq!(
            causes,
            [
                (1, 10, RemovalCause::Expired),
                (2, 20, RemovalCause::Expired),
                (2, 21, RemovalCause::Replaced),
                (3, 30, RemovalCause::Evicted),
                (4, 40, RemovalCause::Removed),
                (2, 22, RemovalCause::Cleared),
            ]
        );
    }
}
