//! The memory backend under [`TinyLfu`] against a literal W-TinyLFU: three queues of
//! keys, oldest first, moved as the algorithm says. The reference shares only the
//! sketch and the climber (tested on their own), so this checks the position-linked
//! queues, the admission and the window's moves, through removals that relocate
//! entries.

use alloc::collections::VecDeque;
use core::hash::{BuildHasher, Hasher};

use proptest::prelude::*;

use super::climber::{Climber, WHOLE};
use super::sketch::Sketch;
use super::{FIRST_WINDOW, FLOODING, MOST_MOVES, PROTECTED, SAMPLE, TinyLfu};
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

/// W-TinyLFU as Caffeine describes it, on queues of keys.
struct Reference {
    capacity: usize,
    /// Window, probation, protected: oldest first.
    queues: [VecDeque<u8>; 3],
    sketch: Sketch,
    climber: Climber,
    share: i64,
    full: usize,
    coin: u32,
    evictions: u64,
}

const WINDOW: usize = 0;
const PROBATION: usize = 1;
const PROTECTED_Q: usize = 2;

impl Reference {
    fn new(capacity: usize) -> Self {
        Reference {
            capacity,
            queues: [VecDeque::new(), VecDeque::new(), VecDeque::new()],
            sketch: Sketch::new(),
            climber: Climber::new(),
            share: FIRST_WINDOW,
            full: 0,
            coin: 0x2545_f491,
            evictions: 0,
        }
    }

    fn total(&self) -> usize {
        self.queues.iter().map(VecDeque::len).sum()
    }

    fn size(&self) -> usize {
        self.total().max(self.full)
    }

    fn window_target(&self) -> usize {
        (self.size() * self.share as usize / WHOLE as usize).max(1)
    }

    fn protected_target(&self) -> usize {
        self.size().saturating_sub(self.window_target()) * PROTECTED / 100
    }

    fn find(&self, key: u8) -> Option<(usize, usize)> {
        (0..3).find_map(|q| Some((q, self.queues[q].iter().position(|&k| k == key)?)))
    }

    fn take(&mut self, key: u8) -> Option<usize> {
        let (q, i) = self.find(key)?;
        self.queues[q].remove(i);
        Some(q)
    }

    /// Moves the oldest of `from` to the newest of `to`.
    fn shift(&mut self, from: usize, to: usize) {
        if let Some(key) = self.queues[from].pop_front() {
            self.queues[to].push_back(key);
        }
    }

    fn demote(&mut self) {
        while self.queues[PROTECTED_Q].len() > self.protected_target() {
            self.shift(PROTECTED_Q, PROBATION);
        }
    }

    fn climb(&mut self) {
        let Some(amount) = self.climber.adjustment(SAMPLE * self.size()) else {
            return;
        };
        let share = self.share + amount;
        if !(0..WHOLE).contains(&share) {
            self.climber.turn();
        }
        self.share = share.clamp(0, WHOLE - 1);
        for _ in 0..MOST_MOVES {
            let (window, target) = (self.queues[WINDOW].len(), self.window_target());
            if window > target {
                self.shift(WINDOW, PROBATION);
            } else if window < target && self.total() > window {
                let from = if self.queues[PROBATION].is_empty() {
                    PROTECTED_Q
                } else {
                    PROBATION
                };
                self.shift(from, WINDOW);
            } else {
                break;
            }
        }
        self.demote();
    }

    /// A read or an in-place write of a held key.
    fn access(&mut self, key: u8) -> bool {
        let Some(q) = self.take(key) else {
            return false;
        };
        self.sketch.increment(hash(key));
        if self.full > 0 {
            self.climber.record(true);
        }
        let to = if q == WINDOW { WINDOW } else { PROTECTED_Q };
        self.queues[to].push_back(key);
        if q == PROBATION {
            self.demote();
        }
        self.climb();
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

    fn evict(&mut self) {
        self.full = self.total();
        let main = [PROBATION, PROTECTED_Q]
            .into_iter()
            .find(|&q| !self.queues[q].is_empty());
        let window = self.queues[WINDOW].len();
        let gone = if window == 0 || window < self.window_target() {
            let q = main.unwrap_or(WINDOW);
            self.queues[q].pop_front()
        } else {
            let candidate = self.queues[WINDOW][0];
            match main {
                None => self.queues[WINDOW].pop_front(),
                Some(q) => {
                    let victim = self.queues[q][0];
                    let (c, v) = (
                        self.sketch.frequency(hash(candidate)),
                        self.sketch.frequency(hash(victim)),
                    );
                    if c > v || (c >= FLOODING && self.flip() & 127 == 0) {
                        self.shift(WINDOW, PROBATION);
                        self.queues[q].pop_front()
                    } else {
                        self.queues[WINDOW].pop_front()
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
            self.evict();
        }
        self.sketch.ensure(self.total() + 1, self.capacity);
        self.sketch.increment(hash(key));
        if self.full > 0 {
            self.climber.record(false);
        }
        self.queues[WINDOW].push_back(key);
        if self.queues[WINDOW].len() > self.window_target() {
            self.shift(WINDOW, PROBATION);
        }
        self.climb();
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
        ops in proptest::collection::vec(op(24), 1..600),
        capacity in 0usize..10,
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
        for k in 0..24 {
            let held = store.get(&k, now).unwrap().is_some();
            prop_assert_eq!(held, reference.find(k).is_some(), "key {}", k);
        }
    }
}
