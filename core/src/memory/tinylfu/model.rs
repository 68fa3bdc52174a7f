//! The memory backend under [`TinyLfu`] against a literal W-TinyLFU: per half of the
//! key space, three queues of keys, oldest first, moved as the algorithm says. The
//! reference shares only the sketch and the split test (each tested on its own), so
//! this checks the position-linked queues, the reads counted in each entry's byte, the
//! second chances, the halves and the admission, through removals that relocate
//! entries.

use alloc::collections::VecDeque;
use alloc::vec::Vec;
use core::hash::{BuildHasher, Hasher};

use proptest::prelude::*;

use super::queues::{Queue, Region};
use super::sketch::Sketch;
use super::split::Split;
use super::{FLOODING, PROTECTED, TinyLfu, flip, half_of};
use crate::{Backend, Deadline, Instant, Lookup, MemoryBackend};

/// A fixed hasher, so that the reference can hash keys as the store does.
#[derive(Clone, Copy, Default)]
struct Fixed;

struct FixedHasher(u64);

impl BuildHasher for Fixed {
    type Hasher = FixedHasher;
    fn build_hasher(&self) -> FixedHasher {
        FixedHasher(0xcbf2_9ce4_8422_2325)
    }
}

impl Hasher for FixedHasher {
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
    }
    fn finish(&self) -> u64 {
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z ^ (z >> 31)
    }
}

fn hash(key: u8) -> u64 {
    Fixed.hash_one(key)
}

const WINDOW: usize = 0;
const PROBATION: usize = 1;
const PROTECTED_Q: usize = 2;

/// W-TinyLFU on queues of keys: `queues[half][region]`, oldest first, with each key's
/// reads since the policy last looked at it.
struct Reference {
    capacity: usize,
    queues: [[VecDeque<u8>; 3]; 2],
    visits: [u8; 256],
    sketch: Sketch,
    split: Split,
    full: usize,
    coin: u32,
    evictions: u64,
}

impl Reference {
    fn new(capacity: usize) -> Self {
        Reference {
            capacity,
            queues: Default::default(),
            visits: [0; 256],
            sketch: Sketch::new(),
            split: Split::new(),
            full: 0,
            coin: 0x2545_f491,
            evictions: 0,
        }
    }

    fn half_len(&self, half: usize) -> usize {
        self.queues[half].iter().map(VecDeque::len).sum()
    }

    fn total(&self) -> usize {
        self.half_len(0) + self.half_len(1)
    }

    fn half_size(&self) -> usize {
        self.total().max(self.full).div_ceil(2)
    }

    fn window_target(&self, half: usize) -> usize {
        self.split.window(half, self.half_size())
    }

    fn protected_target(&self, half: usize) -> usize {
        self.half_size().saturating_sub(self.window_target(half)) * PROTECTED / 100
    }

    fn find(&self, key: u8) -> Option<(usize, usize, usize)> {
        let half = half_of(hash(key));
        (0..3).find_map(|q| {
            Some((
                half,
                q,
                self.queues[half][q].iter().position(|&k| k == key)?,
            ))
        })
    }

    fn take(&mut self, key: u8) -> Option<usize> {
        let (half, q, i) = self.find(key)?;
        self.queues[half][q].remove(i);
        Some(q)
    }

    /// Moves `key` to the newest end of `to` in its half.
    fn move_to(&mut self, key: u8, to: usize) {
        self.take(key);
        self.queues[half_of(hash(key))][to].push_back(key);
    }

    /// A read or an in-place write of a held key: counted, nothing moves.
    fn access(&mut self, key: u8) -> bool {
        if self.find(key).is_none() {
            return false;
        }
        self.visits[usize::from(key)] = (self.visits[usize::from(key)] + 1).min(3);
        if self.full > 0 {
            self.split.hit(half_of(hash(key)));
        }
        true
    }

    fn settle(&mut self, key: u8) -> bool {
        let visits = core::mem::take(&mut self.visits[usize::from(key)]);
        for _ in 0..visits {
            self.sketch.increment(hash(key));
        }
        visits > 0
    }

    fn window_candidate(&mut self, half: usize) -> Option<u8> {
        loop {
            let oldest = *self.queues[half][WINDOW].front()?;
            if !self.settle(oldest) {
                return Some(oldest);
            }
            self.move_to(oldest, WINDOW);
        }
    }

    fn main_victim(&mut self, half: usize) -> Option<u8> {
        while let Some(&oldest) = self.queues[half][PROBATION].front() {
            if !self.settle(oldest) {
                return Some(oldest);
            }
            self.move_to(oldest, PROTECTED_Q);
            self.demote(half);
        }
        loop {
            let oldest = *self.queues[half][PROTECTED_Q].front()?;
            if !self.settle(oldest) {
                return Some(oldest);
            }
            self.move_to(oldest, PROTECTED_Q);
        }
    }

    fn demote(&mut self, half: usize) {
        let mut chances = self.queues[half][PROTECTED_Q].len();
        while self.queues[half][PROTECTED_Q].len() > self.protected_target(half) {
            let oldest = self.queues[half][PROTECTED_Q][0];
            let read = chances > 0 && self.settle(oldest);
            chances = chances.saturating_sub(1);
            self.move_to(oldest, if read { PROTECTED_Q } else { PROBATION });
        }
    }

    /// The key evicted to make room for `incoming`.
    fn victim(&mut self, incoming: u8) -> u8 {
        self.full = self.total();
        let mut half = half_of(hash(incoming));
        let slack = 1 + self.full / 64;
        let (mine, other) = (self.half_len(half), self.half_len(1 - half));
        let window = self.queues[half][WINDOW].len();
        if mine == 0 || mine + slack < other {
            half = 1 - half;
        } else if window > 0 && window >= self.window_target(half) {
            let candidate = self.window_candidate(half).unwrap();
            let Some(victim) = self.main_victim(half) else {
                return candidate;
            };
            let (c, v) = (
                self.sketch.frequency(hash(candidate)),
                self.sketch.frequency(hash(victim)),
            );
            if c > v || (c >= FLOODING && flip(&mut self.coin) & 127 == 0) {
                self.move_to(candidate, PROBATION);
                return victim;
            }
            return candidate;
        }
        match self.main_victim(half) {
            Some(victim) => victim,
            None => self.window_candidate(half).unwrap(),
        }
    }

    fn set(&mut self, key: u8) {
        if self.access(key) || self.capacity == 0 {
            return;
        }
        if self.total() >= self.capacity {
            let victim = self.victim(key);
            self.take(victim).unwrap();
            self.visits[usize::from(victim)] = 0;
            self.evictions += 1;
        }
        let half = half_of(hash(key));
        self.sketch.ensure(self.total() + 1, self.capacity);
        self.sketch.increment(hash(key));
        if self.full > 0 {
            let sample = self.total().max(self.full);
            self.split.miss(half, sample);
        }
        self.queues[half][WINDOW].push_back(key);
        self.visits[usize::from(key)] = 0;
        if self.queues[half][WINDOW].len() > self.window_target(half) {
            let oldest = self.queues[half][WINDOW][0];
            self.move_to(oldest, PROBATION);
        }
    }

    /// As the policy's `cleared` (the split test keeps its choice); the store's clear
    /// restarts its eviction count.
    fn clear(&mut self) {
        self.evictions = 0;
        self.queues = Default::default();
        self.visits = [0; 256];
        self.sketch.clear();
        self.split.restart();
        self.full = 0;
    }

    fn remove(&mut self, key: u8) -> bool {
        self.visits[usize::from(key)] = 0;
        self.take(key).is_some()
    }
}

#[derive(Clone, Debug)]
enum Op {
    Set(u8),
    Get(u8),
    Remove(u8),
    Clear,
}

fn op(keys: u8) -> impl Strategy<Value = Op> {
    prop_oneof![
        50 => (0..keys).prop_map(Op::Set),
        50 => (0..keys).prop_map(Op::Get),
        10 => (0..keys).prop_map(Op::Remove),
        1 => Just(Op::Clear),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(500))]

    #[test]
    fn evicts_exactly_like_w_tinylfu(
        ops in proptest::collection::vec(op(40), 1..800),
        capacity in 0usize..16,
    ) {
        let now = Instant::ZERO;
        let mut store = MemoryBackend::<u8, u8, Fixed>::with_hasher(None, Fixed)
            .with_eviction(TinyLfu::new(capacity));
        let mut reference = Reference::new(capacity);
        for op in ops {
            match op {
                Op::Set(k) => {
                    store.set(k, k, Deadline::NEVER, now).unwrap();
                    reference.set(k);
                }
                Op::Get(k) => {
                    let hit = store.get(&k, now).unwrap().is_some();
                    prop_assert_eq!(hit, reference.access(k), "get {}", k);
                }
                Op::Remove(k) => {
                    let removed = store.remove(&k, now).unwrap();
                    prop_assert_eq!(removed, reference.remove(k), "remove {}", k);
                }
                Op::Clear => {
                    store.clear().unwrap();
                    reference.clear();
                }
            }
            prop_assert_eq!(store.len(now).unwrap(), reference.total());
            prop_assert_eq!(store.reclaimed().evictions, reference.evictions);
            // Every queue holds the same keys in the same order as the reference's.
            for half in 0..2 {
                for (q, region) in [Region::Window, Region::Probation, Region::Protected]
                    .into_iter()
                    .enumerate()
                {
                    let order: Vec<u8> = store
                        .eviction
                        .queues
                        .order(Queue::new(half, region))
                        .into_iter()
                        .map(|index| store.nodes[index as usize].key)
                        .collect();
                    let expected: Vec<u8> = reference.queues[half][q].iter().copied().collect();
                    prop_assert_eq!(order, expected, "half {} queue {:?}", half, region);
                }
            }
        }
        for k in 0..40 {
            let held = store.get(&k, now).unwrap().is_some();
            prop_assert_eq!(held, reference.find(k).is_some(), "key {}", k);
        }
    }
}
