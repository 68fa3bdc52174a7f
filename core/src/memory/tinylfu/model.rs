//! The memory backend under [`TinyLfu`] against a literal W-TinyLFU: per half of the
//! key space, three queues of keys, oldest first, moved as the algorithm says. The
//! reference shares only the sketch and the split test (each tested on its own), so
//! this checks the position-linked queues, the halves, the admission and the window's
//! moves, through removals that relocate entries.

use alloc::collections::VecDeque;
use core::hash::{BuildHasher, Hasher};

use proptest::prelude::*;

use super::sketch::Sketch;
use super::split::Split;
use super::{FLOODING, PROTECTED, TinyLfu, half_of};
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

/// W-TinyLFU on queues of keys: `queues[half][region]`, oldest first.
struct Reference {
    capacity: usize,
    queues: [[VecDeque<u8>; 3]; 2],
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

    fn shift(&mut self, half: usize, from: usize, to: usize) {
        if let Some(key) = self.queues[half][from].pop_front() {
            self.queues[half][to].push_back(key);
        }
    }

    fn record(&mut self, half: usize, hit: bool) {
        if self.full > 0 {
            let sample = self.total().max(self.full);
            self.split.record(half, hit, sample);
        }
    }

    /// A read or an in-place write of a held key.
    fn access(&mut self, key: u8) -> bool {
        let Some(q) = self.take(key) else {
            return false;
        };
        let half = half_of(hash(key));
        if self.sketch.increment(hash(key)) {
            self.record(half, true);
        }
        let to = if q == WINDOW { WINDOW } else { PROTECTED_Q };
        self.queues[half][to].push_back(key);
        if q == PROBATION {
            while self.queues[half][PROTECTED_Q].len() > self.protected_target(half) {
                self.shift(half, PROTECTED_Q, PROBATION);
            }
        }
        true
    }

    fn flip(&mut self) -> u32 {
        let mut x = self.coin;
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        self.coin = x;
        x
    }

    fn evict(&mut self, incoming: u8) {
        self.full = self.total();
        let mut half = half_of(hash(incoming));
        let slack = 1 + self.full / 64;
        let main = |r: &Self, half: usize| {
            [PROBATION, PROTECTED_Q]
                .into_iter()
                .find(|&q| !r.queues[half][q].is_empty())
        };
        let (mine, other) = (self.half_len(half), self.half_len(1 - half));
        let gone = if mine == 0 || mine + slack < other {
            half = 1 - half;
            let q = main(self, half).unwrap_or(WINDOW);
            self.queues[half][q].pop_front()
        } else {
            let window = self.queues[half][WINDOW].len();
            match main(self, half) {
                main if window == 0 || window < self.window_target(half) => {
                    self.queues[half][main.unwrap_or(WINDOW)].pop_front()
                }
                None => self.queues[half][WINDOW].pop_front(),
                Some(q) => {
                    let (candidate, victim) =
                        (self.queues[half][WINDOW][0], self.queues[half][q][0]);
                    let (c, v) = (
                        self.sketch.frequency(hash(candidate)),
                        self.sketch.frequency(hash(victim)),
                    );
                    if c > v || (c >= FLOODING && self.flip() & 127 == 0) {
                        self.shift(half, WINDOW, PROBATION);
                        self.queues[half][q].pop_front()
                    } else {
                        self.queues[half][WINDOW].pop_front()
                    }
                }
            }
        };
        assert!(gone.is_some());
        self.evictions += 1;
    }

    fn set(&mut self, key: u8) {
        if self.access(key) || self.capacity == 0 {
            return;
        }
        if self.total() >= self.capacity {
            self.evict(key);
        }
        let half = half_of(hash(key));
        self.sketch.ensure(self.total() + 1, self.capacity);
        if self.sketch.increment(hash(key)) {
            self.record(half, false);
        }
        self.queues[half][WINDOW].push_back(key);
        if self.queues[half][WINDOW].len() > self.window_target(half) {
            self.shift(half, WINDOW, PROBATION);
        }
    }
}

#[derive(Clone, Debug)]
enum Op {
    Set(u8),
    Get(u8),
    Remove(u8),
}

fn op(keys: u8) -> impl Strategy<Value = Op> {
    prop_oneof![
        5 => (0..keys).prop_map(Op::Set),
        5 => (0..keys).prop_map(Op::Get),
        1 => (0..keys).prop_map(Op::Remove),
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
                    prop_assert_eq!(removed, reference.take(k).is_some(), "remove {}", k);
                }
            }
            prop_assert_eq!(store.len(now).unwrap(), reference.total());
            prop_assert_eq!(store.reclaimed().evictions, reference.evictions);
        }
        for k in 0..40 {
            let held = store.get(&k, now).unwrap().is_some();
            prop_assert_eq!(held, reference.find(k).is_some(), "key {}", k);
        }
    }
}
