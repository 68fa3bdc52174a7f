//! The store's own cases: collisions, capacity zero, and how a victim is counted.

use super::*;
use crate::memory::{Sieve, TinyLfu};
use alloc::vec::Vec;
use core::hash::{BuildHasherDefault, Hasher};

/// Every key hashes to 0: the worst possible collisions.
#[derive(Default)]
struct Constant;

impl Hasher for Constant {
    fn finish(&self) -> u64 {
        0
    }
    fn write(&mut self, _: &[u8]) {}
}

#[test]
fn colliding_hashes_never_return_another_keys_value() {
    let mut store =
        MemoryBackend::<u32, u32, _>::with_hasher(None, BuildHasherDefault::<Constant>::default());
    let now = Instant::ZERO;
    for k in 0..200 {
        store.set(k, k * 10, Deadline::NEVER, now).unwrap();
    }
    for k in (0..200).step_by(3) {
        assert!(store.remove(&k, now).unwrap());
    }
    for k in 0..200 {
        let expected = (k % 3 != 0).then_some(k * 10);
        assert_eq!(store.get(&k, now).unwrap().copied(), expected);
    }
    assert_eq!(store.get(&999, now).unwrap(), None);
}

#[test]
fn capacity_zero_stores_nothing() {
    let mut store = MemoryBackend::<u32, u32>::with_capacity(0);
    store.set(1, 1, Deadline::NEVER, Instant::ZERO).unwrap();
    assert_eq!(store.len(Instant::ZERO).unwrap(), 0);
    assert_eq!(store.reclaimed(), Reclaimed::default());
    // Not even entries that weigh nothing.
    let mut weightless =
        MemoryBackend::<u32, u32>::with_capacity(0).with_weigher(|_: &u32, _: &u32| 0u32);
    weightless
        .set(1, 1, Deadline::NEVER, Instant::ZERO)
        .unwrap();
    assert_eq!(weightless.len(Instant::ZERO).unwrap(), 0);
}

#[test]
fn an_expired_victim_counts_as_an_expiration() {
    let mut store = MemoryBackend::<u32, u32>::with_capacity(1);
    let t0 = Instant::ZERO;
    store
        .set(1, 1, Deadline::at(Instant::from_nanos(5)), t0)
        .unwrap();
    store
        .set(2, 2, Deadline::NEVER, Instant::from_nanos(10))
        .unwrap();
    assert_eq!(
        store.reclaimed(),
        Reclaimed {
            expirations: 1,
            evictions: 0,
            near_hits: 0
        }
    );
    store
        .set(3, 3, Deadline::NEVER, Instant::from_nanos(10))
        .unwrap();
    assert_eq!(
        store.reclaimed(),
        Reclaimed {
            expirations: 1,
            evictions: 1,
            near_hits: 0
        }
    );
}

type Store<P> = MemoryBackend<u32, u32, foldhash::fast::RandomState, P>;

/// Every key's position, by key.
fn positions<P: Eviction>(store: &Store<P>) -> Vec<(u32, u32)> {
    let mut positions: Vec<(u32, u32)> = (0..store.nodes.len())
        .map(|i| (store.nodes[i].key, i as u32))
        .collect();
    positions.sort_unstable();
    positions
}

#[test]
fn an_evicting_insert_takes_the_victims_position_and_moves_no_other_entry() {
    fn check<P: Eviction>(mut store: Store<P>) {
        let now = Instant::ZERO;
        let until = |k: u32| Deadline::at(Instant::from_nanos(1_000 + u64::from(k)));
        for k in 0..64 {
            store.set(k, k, until(k), now).unwrap();
        }
        for k in 64..96 {
            let before = positions(&store);
            // Half the new entries are timed too, far later.
            let deadline = if k % 2 == 0 {
                until(k + 10_000)
            } else {
                Deadline::NEVER
            };
            store.set(k, k, deadline, now).unwrap();
            let after = positions(&store);
            let gone: Vec<_> = before.iter().filter(|p| !after.contains(p)).collect();
            let came: Vec<_> = after.iter().filter(|p| !before.contains(p)).collect();
            assert_eq!((gone.len(), came.len()), (1, 1), "one entry out, one in");
            assert_eq!(*came[0], (k, gone[0].1), "in the victim's position");
            // The table holds one slot per node, each found at its own position.
            assert_eq!(store.table.len(), store.nodes.len());
            for (i, node) in store.nodes.iter().enumerate() {
                let hash = store.hasher.hash_one(node.key);
                assert_eq!(store.find(hash, &node.key), Some(i as u32));
            }
        }
        assert_eq!(store.reclaimed().evictions, 32);
        // The first entries' survivors expire on time: the wheel lost none of them.
        let early = Instant::from_nanos(2_000);
        let timed = store
            .nodes
            .iter()
            .filter(|n| n.deadline.is_expired(early))
            .count();
        assert!(timed > 0);
        assert_eq!(store.len(early).unwrap(), 64 - timed);
        assert_eq!(store.reclaimed().expirations, timed as u64);
        let untimed = store.nodes.iter().filter(|n| n.deadline.is_never()).count();
        assert_eq!(store.len(Instant::from_nanos(20_000)).unwrap(), untimed);
    }
    check(MemoryBackend::new().with_eviction(TinyLfu::new(64)));
    check(MemoryBackend::new().with_eviction(Sieve::new(64)));
    // Through the `Option` and the `Box` of the default policy.
    check(MemoryBackend::with_capacity(64));
    check(MemoryBackend::new().with_eviction(Some(Sieve::new(64))));
}

/// The instant at wheel tick `n` (2^20 ns).
fn at_tick(n: u64) -> Instant {
    Instant::from_nanos(n << 20)
}

#[test]
fn an_expired_entry_goes_before_a_live_one_while_its_slot_cascades() {
    for expired_first in [true, false] {
        let mut store = MemoryBackend::<u32, u32>::new().with_eviction(Sieve::new(32));
        let expired = |store: &mut MemoryBackend<u32, u32, _, Sieve>| {
            store
                .set(99, 0, Deadline::at(at_tick(64)), at_tick(0))
                .unwrap()
        };
        // All 32 in one level-1 slot (ticks 64 to 127): more than an insert's budget
        // cascades, with the expired one at either end of the slot's list.
        if expired_first {
            expired(&mut store);
        }
        for k in 0..31 {
            store
                .set(k, k, Deadline::at(at_tick(100)), at_tick(0))
                .unwrap();
        }
        if !expired_first {
            expired(&mut store);
        }
        // Read while live, so that the policy would spare it and pick a live victim.
        assert_eq!(store.get(&99, at_tick(0)).unwrap(), Some(&0));
        store.set(200, 0, Deadline::NEVER, at_tick(65)).unwrap();
        let reclaimed = store.reclaimed();
        assert_eq!(
            (reclaimed.expirations, reclaimed.evictions),
            (1, 0),
            "expired first: {expired_first}"
        );
        assert!((0..31).all(|k| store.get(&k, at_tick(65)).unwrap() == Some(&k)));
    }
}

/// A removal listener that panics in `len`, which removes the current tick's expired
/// entries one by one, leaves the others linked in the wheel: a later `len` reclaims
/// them, rather than count them forever.
#[cfg(all(feature = "std", panic = "unwind"))]
#[test]
fn a_panicking_listener_leaves_no_expired_entry_unreclaimable() {
    let mut store =
        MemoryBackend::<u32, u32>::new().with_listener(|key: u32, _: u32, cause: RemovalCause| {
            if cause == RemovalCause::Expired && key == 1 {
                panic!("listener");
            }
        });
    let (at, later) = (Instant::from_nanos(5), Instant::from_nanos(10));
    for key in 0..4 {
        store
            .set(key, key, Deadline::at(at), Instant::ZERO)
            .unwrap();
    }
    let panicked =
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| store.len(later).unwrap()));
    assert!(panicked.is_err(), "the listener panicked");
    assert_eq!(
        store.len(later).unwrap(),
        0,
        "every expired entry reclaimed"
    );
}

/// Weights whose sum passes `usize::MAX` are over a capacity of `usize::MAX`, rather than
/// saturate to look equal to it: the total held stays the true sum.
#[test]
fn weights_past_usize_max_are_over_the_largest_capacity() {
    let mut store = MemoryBackend::<u32, usize>::new()
        .with_eviction(Sieve::new(usize::MAX))
        .with_weigher(|_: &u32, weight: &usize| *weight);
    store
        .set(1, usize::MAX, Deadline::NEVER, Instant::ZERO)
        .unwrap();
    store.set(2, 1, Deadline::NEVER, Instant::ZERO).unwrap();
    // The first had to go for the second: together they weigh more than any capacity.
    assert_eq!((store.stored(), store.weight()), (1, 1));
}

/// A weigher that panics while an entry leaves: the store is as it was, its weight
/// counted once, and the entry still there for a later removal.
#[cfg(all(feature = "std", panic = "unwind"))]
#[test]
fn a_weigher_that_panics_as_an_entry_leaves_leaves_the_store_as_it_was() {
    use core::sync::atomic::{AtomicBool, Ordering};
    static FAIL: AtomicBool = AtomicBool::new(false);
    let mut store = MemoryBackend::<u32, usize>::new()
        .with_eviction(Sieve::new(100))
        .with_weigher(|_: &u32, weight: &usize| {
            assert!(!FAIL.load(Ordering::SeqCst), "the weigher fails");
            *weight
        });
    for key in 0..3 {
        store.set(key, 5, Deadline::NEVER, Instant::ZERO).unwrap();
    }
    FAIL.store(true, Ordering::SeqCst);
    let removing = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        store.remove(&0, Instant::ZERO).unwrap()
    }));
    assert!(removing.is_err());
    FAIL.store(false, Ordering::SeqCst);
    assert_eq!(store.weight(), 15, "no weight lost or counted twice");
    assert_eq!(
        store.get(&2, Instant::ZERO).unwrap(),
        Some(&5),
        "the last entry found"
    );
    assert!(store.remove(&0, Instant::ZERO).unwrap());
    assert_eq!(store.weight(), 10);
    assert_eq!(store.len(Instant::ZERO).unwrap(), 2);
}

/// A key whose `Hash` panics while the table grows (which hashes every stored key
/// again): the insert fails whole, and the store stays consistent, every entry found
/// and the policy in step.
#[cfg(all(feature = "std", panic = "unwind"))]
#[test]
fn a_hash_that_panics_as_the_table_grows_leaves_the_store_as_it_was() {
    use core::sync::atomic::{AtomicU32, Ordering};
    static FAIL: AtomicU32 = AtomicU32::new(u32::MAX);
    #[derive(PartialEq, Eq)]
    struct Key(u32);
    impl Hash for Key {
        fn hash<H: Hasher>(&self, state: &mut H) {
            assert_ne!(self.0, FAIL.load(Ordering::SeqCst), "the key's hash fails");
            self.0.hash(state);
        }
    }
    let now = Instant::ZERO;
    let mut store = MemoryBackend::<Key, u32>::new().with_eviction(TinyLfu::new(1_000));
    store.set(Key(0), 0, Deadline::NEVER, now).unwrap();
    // Only growing hashes key 0 again.
    FAIL.store(0, Ordering::SeqCst);
    let mut next = 1;
    let set = |store: &mut MemoryBackend<Key, u32, _, TinyLfu>, k: u32| {
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            store.set(Key(k), k, Deadline::NEVER, now).unwrap();
        }))
    };
    while set(&mut store, next).is_ok() {
        next += 1;
        assert!(next < 1_000, "the table never grew");
    }
    FAIL.store(u32::MAX, Ordering::SeqCst);
    assert_eq!(
        store.stored(),
        next as usize,
        "the failed insert stored nothing"
    );
    let found = (0..=next)
        .filter(|&k| store.get(&Key(k), now).unwrap().is_some())
        .count();
    assert_eq!(found, store.stored(), "every stored entry found by its key");
    // The policy is in step: inserts past the capacity evict as usual.
    for k in next..2_000 {
        store.set(Key(k), k, Deadline::NEVER, now).unwrap();
    }
    assert_eq!(store.stored(), 1_000);
}

/// A weigher that panics while an expired entry is reclaimed: the entry stays in the
/// wheel, and a later reclaim removes it.
#[cfg(all(feature = "std", panic = "unwind"))]
#[test]
fn a_weigher_that_panics_as_an_entry_expires_leaves_it_reclaimable() {
    use core::sync::atomic::{AtomicBool, Ordering};
    static FAIL: AtomicBool = AtomicBool::new(false);
    let mut store = MemoryBackend::<u32, u32>::new().with_weigher(|_: &u32, _: &u32| {
        assert!(!FAIL.load(Ordering::SeqCst), "the weigher fails");
        1usize
    });
    store
        .set(1, 1, Deadline::at(at_tick(1)), Instant::ZERO)
        .unwrap();
    store.set(2, 2, Deadline::NEVER, Instant::ZERO).unwrap();
    let later = at_tick(1 << 10);
    FAIL.store(true, Ordering::SeqCst);
    let counting = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| store.len(later)));
    assert!(counting.is_err());
    FAIL.store(false, Ordering::SeqCst);
    assert_eq!(store.len(later).unwrap(), 1, "the expired entry reclaimed");
    assert_eq!(store.weight(), 1);
}

#[test]
fn turning_idle_time_off_gives_held_entries_their_own_deadlines_back() {
    let at = |secs: u64| Instant::from_nanos(secs * 1_000_000_000);
    let mut store = MemoryBackend::<u32, u32>::new().with_time_to_idle(Ttl::from_secs(5));
    store.set(1, 1, Deadline::at(at(60)), at(0)).unwrap();
    store.set(2, 2, Deadline::NEVER, at(0)).unwrap();
    store.keep_deadlines_as_written();
    assert_eq!(store.time_to_idle(), None);
    // Idle for 10 s: with the idle time, both would be gone.
    assert_eq!(store.get(&1, at(10)).unwrap(), Some(&1));
    assert_eq!(store.get(&2, at(10)).unwrap(), Some(&2));
    assert_eq!(store.len(at(30)).unwrap(), 2);
    // Their own deadlines still hold.
    assert_eq!(store.get(&1, at(60)).unwrap(), None);
    assert_eq!(store.len(at(1_000)).unwrap(), 1);
}

#[test]
fn weights_past_usize_max_evict_nothing_from_a_store_without_a_capacity() {
    let heavy = usize::MAX / 2 + 1;
    let mut store = MemoryBackend::<u32, usize>::new().with_weigher(|_: &u32, v: &usize| *v);
    store.set(1, heavy, Deadline::NEVER, Instant::ZERO).unwrap();
    store.set(2, heavy, Deadline::NEVER, Instant::ZERO).unwrap();
    assert_eq!(store.stored(), 2);
    assert_eq!(store.reclaimed(), Reclaimed::default());
}
