//! The memory backend's eviction order against a literal SIEVE reference.

use std::convert::Infallible;

use jwm_cache_core::{Deadline, Lookup};
use jwm_cache_core::{Instant, MemoryBackend, Sieve};
use proptest::prelude::*;

#[derive(Clone, Debug)]
enum Op {
    Set(u8),
    Get(u8),
    Remove(u8),
}

/// SIEVE as the paper states it: a queue from oldest to newest, visited bits, a hand.
struct Reference {
    capacity: usize,
    queue: Vec<(u8, bool)>,
    hand: Option<usize>,
    evictions: u64,
}

impl Reference {
    fn position(&self, key: u8) -> Option<usize> {
        self.queue.iter().position(|&(k, _)| k == key)
    }

    fn set(&mut self, key: u8) {
        if let Some(i) = self.position(key) {
            self.queue[i].1 = true;
            return;
        }
        if self.capacity == 0 {
            return;
        }
        if self.queue.len() == self.capacity {
            let mut hand = self.hand.unwrap_or(0);
            while self.queue[hand].1 {
                self.queue[hand].1 = false;
                hand = (hand + 1) % self.queue.len();
            }
            self.remove_at(hand);
            self.hand = (hand < self.queue.len()).then_some(hand);
            self.evictions += 1;
        }
        self.queue.push((key, false));
    }

    fn get(&mut self, key: u8) -> bool {
        self.position(key).map(|i| self.queue[i].1 = true).is_some()
    }

    fn remove_at(&mut self, i: usize) {
        self.queue.remove(i);
        self.hand = match self.hand {
            Some(h) if h > i => Some(h - 1),
            Some(h) if h == i => (i < self.queue.len()).then_some(i),
            other => other,
        };
    }
}

fn op() -> impl Strategy<Value = Op> {
    let key = 0u8..12;
    prop_oneof![
        5 => key.clone().prop_map(Op::Set),
        4 => key.clone().prop_map(Op::Get),
        1 => key.prop_map(Op::Remove),
    ]
}

/// Runs `ops` on `store`, a store of `capacity`, and on the reference side by side.
fn matches_the_reference(
    mut store: impl Lookup<u8, u8, u8, Error = Infallible>,
    capacity: usize,
    ops: Vec<Op>,
) -> Result<(), TestCaseError> {
    let now = Instant::ZERO;
    let mut reference = Reference {
        capacity,
        queue: Vec::new(),
        hand: None,
        evictions: 0,
    };
    for op in ops {
        match op {
            Op::Set(k) => {
                store.set(k, k, Deadline::NEVER, now).unwrap();
                reference.set(k);
            }
            Op::Get(k) => {
                let Ok(got) = store.get(&k, now);
                prop_assert_eq!(got.is_some(), reference.get(k), "get {}", k);
            }
            Op::Remove(k) => {
                let Ok(removed) = store.remove(&k, now);
                let expected = reference.position(k);
                if let Some(i) = expected {
                    reference.remove_at(i);
                }
                prop_assert_eq!(removed, expected.is_some());
            }
        }
        prop_assert_eq!(store.len(now).unwrap(), reference.queue.len());
        prop_assert_eq!(store.reclaimed().evictions, reference.evictions);
    }
    for k in 0..12 {
        let Ok(got) = store.get(&k, now);
        prop_assert_eq!(got.is_some(), reference.position(k).is_some());
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(
        if std::env::var_os("PROPTEST_CASES").is_some() { ProptestConfig::default().cases } else { 1000 }
    ))]

    /// SIEVE switched on at run time (`Option<Sieve>`).
    #[test]
    fn evicts_exactly_like_sieve(
        ops in proptest::collection::vec(op(), 1..120),
        capacity in 0usize..7,
    ) {
        let store = MemoryBackend::<u8, u8>::new().with_eviction(Some(Sieve::new(capacity)));
        matches_the_reference(store, capacity, ops)?;
    }

    /// The policy named as a type, not chosen at run time, evicts the same way.
    #[test]
    fn a_named_sieve_evicts_exactly_like_sieve(
        ops in proptest::collection::vec(op(), 1..120),
        capacity in 0usize..7,
    ) {
        let store = MemoryBackend::<u8, u8>::new().with_eviction(Sieve::new(capacity));
        matches_the_reference(store, capacity, ops)?;
    }
}
