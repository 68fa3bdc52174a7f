//! What an entry costs against the memory backend's capacity.

/// The weight of an entry: the memory backend bounds the total weight of what it holds
/// by its policy's [`capacity`](crate::memory::Eviction::capacity).
///
/// It must give an entry the same weight every time it is asked: the store weighs an
/// entry when it comes in and again when it leaves, rather than storing the weight. Any
/// `Fn(&K, &E) -> N` is a weigher, for an integer type `N` such as `u32` or `usize`.
///
/// A weight of 0 counts as 1: every entry takes room, so a capacity also bounds how many
/// entries are held (entries that cost nothing would never be evicted for room, and
/// one heavy insert would then evict all of them at once). Round a weight in large
/// units up, as `len.div_ceil(1024)` for KiB, rather than down.
///
/// ```
/// use jwm_cache_core::{Backend, Lookup, Deadline, Instant, MemoryBackend};
///
/// let by_len = |_: &u32, value: &Vec<u8>| value.len();
/// let mut store = MemoryBackend::<u32, Vec<u8>>::with_capacity(10).with_weigher(by_len);
/// let now = Instant::ZERO;
/// store.set(1, vec![0; 6], Deadline::NEVER, now).unwrap();
/// store.set(2, vec![0; 6], Deadline::NEVER, now).unwrap(); // 12 > 10: evicts 1
/// assert_eq!((store.stored(), store.weight()), (1, 6));
/// ```
pub trait Weigher<K, E> {
    /// The weight of `value` stored under `key`.
    fn weigh(&self, key: &K, value: &E) -> usize;
}

/// The weight the store counts for `value` under `key`: its weigher's, at least 1.
#[inline]
pub(crate) fn counted<K, E, W: Weigher<K, E>>(weigher: &W, key: &K, value: &E) -> usize {
    weigher.weigh(key, value).max(1)
}

/// The default weigher: every entry weighs 1, so a capacity counts entries.
///
/// ```
/// use jwm_cache_core::{UnitWeight, Weigher};
///
/// assert_eq!(UnitWeight.weigh(&"key", &[0u8; 100]), 1);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct UnitWeight;

impl<K, E> Weigher<K, E> for UnitWeight {
    #[inline]
    fn weigh(&self, _: &K, _: &E) -> usize {
        1
    }
}

/// A closure may return any integer type: `u32`, as moka's weigher does, or `usize`. A
/// weight that does not fit in `usize` (a negative one) counts as `usize::MAX`, heavier
/// than any smaller capacity, so a bounded store never stores that entry.
impl<K, E, N, F> Weigher<K, E> for F
where
    F: Fn(&K, &E) -> N,
    N: TryInto<usize>,
{
    #[inline]
    fn weigh(&self, key: &K, value: &E) -> usize {
        self(key, value).try_into().unwrap_or(usize::MAX)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::{Backend, Lookup, Reclaimed};
    use crate::memory::{MemoryBackend, RemovalCause, Sieve};
    use crate::time::{Deadline, Instant};
    use alloc::vec::Vec;
    use foldhash::fast::RandomState;

    struct ByValue;

    impl Weigher<u32, usize> for ByValue {
        fn weigh(&self, _: &u32, weight: &usize) -> usize {
            *weight
        }
    }

    /// A store of `u32 -> weight` whose entries weigh their value, capped at 10.
    fn weighed() -> MemoryBackend<u32, usize, RandomState, Sieve, ByValue> {
        MemoryBackend::new()
            .with_eviction(Sieve::new(10))
            .with_weigher(ByValue)
    }

    #[test]
    fn the_weigher_bounds_the_total_weight() {
        let mut store = weighed();
        let now = Instant::ZERO;
        for (key, weight) in [(1, 4), (2, 4), (3, 1), (4, 5), (5, 3), (6, 9)] {
            store.set(key, weight, Deadline::NEVER, now).unwrap();
            let mut held = 0;
            for k in 1..=6 {
                held += store.get(&k, now).unwrap().copied().unwrap_or(0);
            }
            assert!(held <= 10, "held {held}");
            assert_eq!(store.weight(), held);
        }
        assert_eq!(store.get(&6, now).unwrap(), Some(&9));
        assert!(store.reclaimed().evictions >= 4);
    }

    #[test]
    fn a_heavier_value_in_place_evicts_others() {
        let mut store = weighed();
        let now = Instant::ZERO;
        for key in 1..=5 {
            store.set(key, 2, Deadline::NEVER, now).unwrap();
        }
        assert_eq!(store.weight(), 10);
        store.set(3, 6, Deadline::NEVER, now).unwrap();
        assert_eq!(store.weight(), 10);
        assert_eq!(store.get(&3, now).unwrap(), Some(&6));
        assert_eq!(store.reclaimed().evictions, 2);
        // Lighter in place frees weight without evicting.
        store.set(3, 1, Deadline::NEVER, now).unwrap();
        assert_eq!((store.weight(), store.reclaimed().evictions), (5, 2));
    }

    #[test]
    fn a_heavier_value_never_evicts_its_own_entry() {
        // Every entry visited, so the hand clears them all and would take the oldest,
        // the one being written, if it were a candidate.
        for key in 1..=5 {
            let mut store = weighed();
            let now = Instant::ZERO;
            for k in 1..=5 {
                store.set(k, 2, Deadline::NEVER, now).unwrap();
            }
            for k in 1..=5 {
                store.get(&k, now).unwrap();
            }
            store.set(key, 4, Deadline::NEVER, now).unwrap();
            assert_eq!(store.get(&key, now).unwrap(), Some(&4), "key {key}");
            assert!(store.weight() <= 10);
        }
    }

    #[test]
    fn an_entry_heavier_than_the_capacity_is_rejected_not_counted() {
        let mut causes = Vec::new();
        let mut store = weighed().with_listener(|key, _, cause| causes.push((key, cause)));
        let now = Instant::ZERO;
        store.set(1, 3, Deadline::NEVER, now).unwrap();
        store.set(2, 11, Deadline::NEVER, now).unwrap();
        store.set(1, 11, Deadline::NEVER, now).unwrap();
        assert_eq!((store.stored(), store.weight()), (0, 0));
        assert_eq!(store.reclaimed(), Reclaimed::default());
        drop(store);
        assert_eq!(
            causes,
            [
                (2, RemovalCause::Rejected),
                (1, RemovalCause::Replaced),
                (1, RemovalCause::Rejected)
            ]
        );
    }
}
