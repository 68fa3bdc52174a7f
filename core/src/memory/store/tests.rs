//! The store's own cases: collisions, capacity zero, and how a victim is counted.

use super::*;
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
