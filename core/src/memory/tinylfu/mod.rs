//! W-TinyLFU (Einziger, Friedman and Manes, "TinyLFU: A Highly Efficient Cache
//! Admission Policy", ACM ToS 2017), with Caffeine's adaptive window.
//!
//! New entries enter a small LRU *window*. When it overflows, its oldest entry is a
//! candidate for *main*, a segmented LRU (probation, then protected once read again),
//! and must beat main's next victim on estimated frequency, from a [`Sketch`] of
//! recent accesses, misses included. So a burst of one-time keys (a scan) passes
//! through the window without flushing main, while a key seen often gets in. A hill
//! climber moves the split between window and main towards whichever hits more, so
//! recency-biased workloads get a large window and frequency-biased ones a small one.

mod climber;
#[cfg(test)]
mod model;
mod queues;
mod sketch;

use climber::{Climber, WHOLE};
use queues::{Queues, Region};
use sketch::Sketch;

use super::eviction::Eviction;

/// The window's share of the entries to begin with: 1%, as Caffeine's.
const FIRST_WINDOW: i64 = WHOLE / 100;
/// Protected's share of main.
const PROTECTED: usize = 80;
/// Requests per sample of the climber, per entry: Caffeine's 10.
const SAMPLE: usize = 10;
/// The most entries one adjustment of the window moves between queues.
const MOST_MOVES: usize = 1_000;
/// A candidate this frequent may win against an equal or more frequent victim, at
/// random, 1 time in 128: otherwise keys crafted to collide with a hot victim's
/// counters could keep every new entry out.
const FLOODING: u8 = 6;

/// The W-TinyLFU policy, with an adaptive window: the memory backend's default once
/// a capacity is set.
///
/// It costs a bounded store 9 bytes per entry in queues, and a sketch of 8 bytes per
/// entry (4-bit counters, 4 per key) that grows with the entries held.
///
/// ```
/// use jwm_cache_core::{Backend, Deadline, Instant, Lookup, MemoryBackend, TinyLfu};
///
/// let mut store = MemoryBackend::<u32, u32>::new().with_eviction(TinyLfu::new(100));
/// let now = Instant::ZERO;
/// // Key 0 is read often; keys 1.. are each written once and never read.
/// store.set(0, 0, Deadline::NEVER, now).unwrap();
/// for k in 1..1_000 {
///     store.get(&0, now).unwrap();
///     store.set(k, k, Deadline::NEVER, now).unwrap();
/// }
/// assert_eq!(store.get(&0, now).unwrap(), Some(&0));
/// assert_eq!(store.stored(), 100);
/// ```
#[derive(Clone, Debug)]
pub struct TinyLfu {
    capacity: usize,
    queues: Queues,
    sketch: Sketch,
    climber: Climber,
    /// The window's share of the entries, in millionths.
    window_share: i64,
    /// How many entries the store held when it last had to evict: its size when full.
    full: usize,
    /// Xorshift state for the admission's coin.
    coin: u32,
}

impl TinyLfu {
    /// A policy for a store of at most `capacity` (0 stores nothing).
    pub const fn new(capacity: usize) -> Self {
        TinyLfu {
            capacity,
            queues: Queues::new(),
            sketch: Sketch::new(),
            climber: Climber::new(),
            window_share: FIRST_WINDOW,
            full: 0,
            coin: 0x2545_f491,
        }
    }

    /// The entries the queues are sized against: as many as when the store was last
    /// full (its capacity in entries, with unit weights), or all held until it fills.
    fn size(&self) -> usize {
        self.queues.total().max(self.full)
    }

    fn window_target(&self) -> usize {
        ((self.size() as u128 * self.window_share as u128 / WHOLE as u128) as usize).max(1)
    }

    fn protected_target(&self) -> usize {
        self.size().saturating_sub(self.window_target()) * PROTECTED / 100
    }

    /// Whether the window's `candidate` should replace main's `victim`.
    fn admit(&mut self, candidate: u64, victim: u64) -> bool {
        let candidate = self.sketch.frequency(candidate);
        if candidate > self.sketch.frequency(victim) {
            return true;
        }
        candidate >= FLOODING && self.flip() & 127 == 0
    }

    fn flip(&mut self) -> u32 {
        let mut x = self.coin;
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        self.coin = x;
        x
    }

    /// Moves the protected queue's oldest entries back to probation while it is over
    /// its share.
    fn demote_protected(&mut self) {
        let target = self.protected_target();
        while self.queues.len(Region::Protected) > target {
            let Some(oldest) = self.queues.oldest(Region::Protected) else {
                return;
            };
            self.queues.move_to_newest(oldest, Region::Probation);
        }
    }

    /// After each sample of requests, lets the climber move the window's share, and
    /// moves entries between the window and main towards it.
    fn climb(&mut self) {
        let Some(amount) = self.climber.adjustment(SAMPLE * self.size()) else {
            return;
        };
        let share = self.window_share + amount;
        if !(0..WHOLE).contains(&share) {
            // Against a wall: the next step goes the other way.
            self.climber.turn();
        }
        self.window_share = share.clamp(0, WHOLE - 1);
        let target = self.window_target();
        for _ in 0..MOST_MOVES {
            let window = self.queues.len(Region::Window);
            if window > target {
                let oldest = self.queues.oldest(Region::Window);
                self.make_newest(oldest, Region::Probation);
            } else if window < target {
                let oldest = self.queues.oldest(Region::Probation);
                let oldest = oldest.or(self.queues.oldest(Region::Protected));
                if oldest.is_none() {
                    break;
                }
                self.make_newest(oldest, Region::Window);
            } else {
                break;
            }
        }
        self.demote_protected();
    }

    fn make_newest(&mut self, index: Option<u32>, region: Region) {
        if let Some(index) = index {
            self.queues.move_to_newest(index, region);
        }
    }
}

impl Eviction for TinyLfu {
    #[inline]
    fn capacity(&self) -> Option<usize> {
        Some(self.capacity)
    }

    fn inserted(&mut self, index: u32, hash: u64) {
        self.sketch.ensure(self.queues.total() + 1, self.capacity);
        self.sketch.increment(hash);
        if self.full > 0 {
            self.climber.record(false);
        }
        self.queues.push(index, Region::Window);
        // Filling up, or after the window shrank: its overflow joins main unopposed.
        if self.queues.len(Region::Window) > self.window_target() {
            let oldest = self.queues.oldest(Region::Window);
            self.make_newest(oldest, Region::Probation);
        }
        self.climb();
    }

    #[inline]
    fn accessed(&mut self, index: u32, hash: u64) {
        self.sketch.increment(hash);
        if self.full > 0 {
            self.climber.record(true);
        }
        match self.queues.region(index) {
            Region::Window => self.queues.move_to_newest(index, Region::Window),
            Region::Probation => {
                self.queues.move_to_newest(index, Region::Protected);
                self.demote_protected();
            }
            Region::Protected => self.queues.move_to_newest(index, Region::Protected),
        }
        self.climb();
    }

    fn removed(&mut self, index: u32, last: u32) {
        self.queues.removed(index, last);
    }

    /// With the window full, its oldest entry contests main's next victim, and the
    /// less frequent goes; otherwise (the window may grow) main's next victim goes.
    fn victim(&mut self, hash_of: &dyn Fn(u32) -> u64) -> Option<u32> {
        self.full = self.queues.total();
        let main = self.queues.oldest(Region::Probation);
        let main = main.or(self.queues.oldest(Region::Protected));
        let window = self.queues.len(Region::Window);
        if window == 0 || window < self.window_target() {
            return main.or(self.queues.oldest(Region::Window));
        }
        let candidate = self.queues.oldest(Region::Window)?;
        let Some(victim) = main else {
            return Some(candidate);
        };
        if self.admit(hash_of(candidate), hash_of(victim)) {
            self.queues.move_to_newest(candidate, Region::Probation);
            Some(victim)
        } else {
            Some(candidate)
        }
    }

    fn cleared(&mut self) {
        self.queues.clear();
        self.sketch.clear();
        // The window's share stays: what it learnt of the workload outlives a clear.
        self.climber.clear();
        self.full = 0;
    }
}
