//! W-TinyLFU (Einziger, Friedman and Manes, "TinyLFU: A Highly Efficient Cache
//! Admission Policy", ACM ToS 2017), with a window sized by a running split test.
//!
//! New entries enter a small *window*. When it overflows, its oldest entry is a
//! candidate for *main*, a segmented queue (probation, then protected once read
//! again), and must beat main's next victim on estimated frequency, from a [`Sketch`]
//! of recent accesses, inserts included. So a burst of one-time keys (a scan) passes
//! through the window without flushing main, while a key seen often gets in.
//!
//! A hit only counts a read in the entry's byte (up to 3), as SIEVE sets its visited
//! bit: no queue moves, no sketch update, so a hit costs about what SIEVE's does. The
//! queues are FIFOs with second chances (CLOCK): when the policy next looks at an entry
//! that was read, at its queue's end, it adds the reads to the sketch and moves the
//! entry on (back into the window, or from probation to protected) instead of letting
//! it go. That approximates the LRU order of Caffeine's queues.
//!
//! The best window is small for frequency-biased workloads and large for
//! recency-biased ones. Caffeine finds it with a hill climber that compares one
//! sample's hit rate with the last; on these traces that mistook the workload's own
//! drift for the effect of its steps. Here the key space is split in two halves by
//! hash, each a W-TinyLFU of half the entries, one with a smaller window than the
//! other, swapping roles every sample; both see the same drift, so their hit rates
//! compare fairly. After each pair of samples the choice moves towards the role that
//! hit more, if by more than chance (see [`Split`]). The shards of a thread-safe cache
//! decide together, through a `WindowChoice`.
//!
//! A large cache (128 Ki entries or more; for shards, the first to fill times their
//! number) decides too rarely for those steps to cross a range of window sizes that
//! all hit alike past the split test's farthest probe (P3 at 200,000 entries: within
//! a point from 1% to 20%, 5 points better at 70%), so it sizes its window by
//! miniature simulation instead: a sample of its keys replayed through small caches
//! with windows from 1% to 70%, the best of which is the choice (see [`Simulation`]).
//! Of the shards, the first to fill simulates for all.

mod choice;
mod evidence;
#[cfg(test)]
mod model;
mod queues;
mod simulation;
mod sketch;
mod split;
mod window_choice;

#[cfg(target_has_atomic = "ptr")]
pub use window_choice::WindowChoice;

use queues::{Queue, Queues, Region};
use simulation::Simulation;
use sketch::Sketch;
use split::Split;
use window_choice::Sizing;

use super::eviction::Eviction;

/// Protected's share of main, in percent.
const PROTECTED: usize = 80;
/// A candidate this frequent may win against an equal or more frequent victim, at
/// random, 1 time in 128: otherwise keys crafted to collide with a hot victim's
/// counters could keep every new entry out.
const FLOODING: u8 = 6;

/// The W-TinyLFU policy, with an adaptive window.
///
/// It costs a bounded store 9 bytes per entry in queues (links, and a byte for the
/// queue and the reads), and a sketch of 8 to 16 bytes per entry (4-bit counters, 4
/// per key, in a power-of-two table). A cache of 128 Ki entries or more also keeps six
/// miniature caches of about 1 to 2 Ki entries each, and replays 1 of its accesses in
/// 64 or fewer through them (in a sharded cache, one shard does, for all, on its own
/// keys: all of them if it holds under 4 Ki).
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
    split: Split,
    /// How many entries the store held when it last had to evict: its size when full.
    full: usize,
    /// Xorshift state for the admission's coin.
    coin: u32,
    /// Whether the store was full once: then the policy chose how to size its window.
    began: bool,
    /// The miniature simulation that sizes the window, in a large cache.
    simulation: Option<alloc::boxed::Box<Simulation>>,
    /// The simulation's sample mask, here so that a hit need not follow the box; all
    /// ones without a simulation.
    sampled: u64,
}

/// The next state of a xorshift generator: the admission's coin.
fn flip(coin: &mut u32) -> u32 {
    let mut x = *coin;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    *coin = x;
    x
}

/// The half of the key space `hash` falls in.
#[inline]
fn half_of(hash: u64) -> usize {
    (hash >> 63) as usize
}

impl TinyLfu {
    /// A policy for a store of at most `capacity` (0 stores nothing).
    pub const fn new(capacity: usize) -> Self {
        TinyLfu {
            capacity,
            queues: Queues::new(),
            sketch: Sketch::new(),
            split: Split::new(),
            full: 0,
            coin: 0x2545_f491,
            began: false,
            simulation: None,
            sampled: u64::MAX,
        }
    }

    /// A policy whose window keeps `share` millionths of each half's entries.
    fn fixed(capacity: usize, share: u64) -> Self {
        TinyLfu {
            split: Split::fixed(share),
            began: true,
            ..TinyLfu::new(capacity)
        }
    }

    /// Chooses, once full, how the window is sized: by a miniature simulation in a
    /// large cache (one policy simulates for all that share the choice), by the split
    /// test otherwise. A policy's size when full is its share of a pooled capacity.
    #[cold]
    #[inline(never)]
    fn begin(&mut self) {
        self.began = true;
        let whole = (self.full as u64).saturating_mul(self.split.sharers() as u64);
        match self.split.sizing(whole >= simulation::LEAST_WHOLE) {
            Sizing::SplitTest => {}
            Sizing::Follow => self.split.follow(),
            Sizing::Simulation => {
                self.split.follow();
                if let Some(simulation) = Simulation::of(self.full, whole) {
                    self.sampled = simulation.mask;
                    self.simulation = Some(alloc::boxed::Box::new(simulation));
                }
            }
        }
    }

    /// Replays an access to the simulation, if there is one and it samples `hash`: one
    /// test on the hit path, as without a simulation no hash but 0 passes the mask.
    #[inline]
    fn simulate(&mut self, hash: u64) {
        if hash & self.sampled == 0 {
            self.replay(hash);
        }
    }

    /// Off the hit path: 1 of the cache's accesses in 64 or fewer comes here.
    #[cold]
    #[inline(never)]
    fn replay(&mut self, hash: u64) {
        if let Some(simulation) = &mut self.simulation
            && let Some(share) = simulation.access(hash)
        {
            self.split.take_up(share);
        }
    }

    /// Chooses the window size together with the other policies that join `choice`:
    /// the shards of one cache, each seeing a slice of its requests (see
    /// [`WindowChoice`]).
    #[cfg(target_has_atomic = "ptr")]
    pub fn with_window_choice(mut self, choice: &alloc::sync::Arc<WindowChoice>) -> Self {
        self.join(choice);
        self
    }

    #[cfg(target_has_atomic = "ptr")]
    pub(in crate::memory) fn join(&mut self, choice: &alloc::sync::Arc<WindowChoice>) {
        self.split
            .decide_with(window_choice::Sharing::joined(choice));
    }

    /// A new entry at `index`, pushed at the end or in a victim's position (`reused`):
    /// counted in the sketch and the split test, and the newest of its window.
    #[inline]
    fn enter(&mut self, index: u32, hash: u64, reused: bool) {
        self.simulate(hash);
        let half = half_of(hash);
        self.sketch
            .ensure(self.queues.total() + usize::from(!reused), self.capacity);
        self.sketch.increment(hash);
        if self.full > 0 {
            let sample = self.queues.total().max(self.full);
            self.split.miss(half, sample);
        }
        let window = Queue::new(half, Region::Window);
        if reused {
            self.queues.reuse(index, window);
        } else {
            self.queues.push(index, window);
        }
        // Over its target (filling up, or after the window shrank), the window's
        // oldest joins main unopposed, as in Caffeine: so main regrows after removals,
        // and a window that shrinks gives its entries to main rather than losing them.
        if self.queues.len(window) > self.window_target(half)
            && let Some(oldest) = self.queues.oldest(window)
        {
            self.queues
                .move_to_newest(oldest, Queue::new(half, Region::Probation));
        }
    }

    /// The entries a half's queues are sized against: half of those the store held
    /// when last full (its capacity in entries, with unit weights), or of all it holds
    /// until it fills.
    fn half_size(&self) -> usize {
        self.queues.total().max(self.full).div_ceil(2)
    }

    fn window_target(&self, half: usize) -> usize {
        self.split.window(half, self.half_size())
    }

    fn protected_target(&self, half: usize) -> usize {
        self.half_size().saturating_sub(self.window_target(half)) * PROTECTED / 100
    }

    /// Whether the window's `candidate` should replace main's `victim`.
    fn admit(&mut self, candidate: u64, victim: u64) -> bool {
        let candidate = self.sketch.frequency(candidate);
        if candidate > self.sketch.frequency(victim) {
            return true;
        }
        candidate >= FLOODING && flip(&mut self.coin) & 127 == 0
    }

    /// Adds the reads of `index` since the policy last looked to the sketch; whether
    /// there were any.
    #[inline]
    fn settle(&mut self, index: u32, hash_of: &dyn Fn(u32) -> u64) -> bool {
        let visits = self.queues.take_visits(index);
        if visits > 0 {
            self.count_visits(hash_of(index), visits);
        }
        visits > 0
    }

    /// Out of line, so that the unread entry's path stays small where `settle` is
    /// inlined.
    #[inline(never)]
    fn count_visits(&mut self, hash: u64, visits: u8) {
        for _ in 0..visits {
            self.sketch.increment(hash);
        }
    }

    /// The oldest entry of the window of `half` that was not read since the policy last
    /// looked; those read go back to the window's newest end.
    #[inline(always)]
    fn window_candidate(&mut self, half: usize, hash_of: &dyn Fn(u32) -> u64) -> Option<u32> {
        let window = Queue::new(half, Region::Window);
        loop {
            let oldest = self.queues.oldest(window)?;
            if !self.settle(oldest, hash_of) {
                return Some(oldest);
            }
            self.queues.move_to_newest(oldest, window);
        }
    }

    /// Main's next victim in `half`: the oldest entry of probation not read since the
    /// policy last looked (those read move to protected), else of protected (those
    /// read go back to its newest end).
    #[inline(always)]
    fn main_victim(&mut self, half: usize, hash_of: &dyn Fn(u32) -> u64) -> Option<u32> {
        let (probation, protected) = (
            Queue::new(half, Region::Probation),
            Queue::new(half, Region::Protected),
        );
        while let Some(oldest) = self.queues.oldest(probation) {
            if !self.settle(oldest, hash_of) {
                return Some(oldest);
            }
            self.queues.move_to_newest(oldest, protected);
            self.demote(half, hash_of);
        }
        loop {
            let oldest = self.queues.oldest(protected)?;
            if !self.settle(oldest, hash_of) {
                return Some(oldest);
            }
            self.queues.move_to_newest(oldest, protected);
        }
    }

    /// Moves protected's oldest entries back to probation while it holds more than its
    /// share; one read since the policy last looked keeps an entry in protected.
    #[inline(never)]
    fn demote(&mut self, half: usize, hash_of: &dyn Fn(u32) -> u64) {
        let protected = Queue::new(half, Region::Protected);
        let mut chances = self.queues.len(protected);
        while self.queues.len(protected) > self.protected_target(half) {
            let Some(oldest) = self.queues.oldest(protected) else {
                return;
            };
            let read = chances > 0 && self.settle(oldest, hash_of);
            chances = chances.saturating_sub(1);
            let to = if read {
                protected
            } else {
                Queue::new(half, Region::Probation)
            };
            self.queues.move_to_newest(oldest, to);
        }
    }
}

impl Eviction for TinyLfu {
    #[inline]
    fn capacity(&self) -> Option<usize> {
        Some(self.capacity)
    }

    fn inserted(&mut self, index: u32, hash: u64) {
        self.enter(index, hash, false);
    }

    /// Takes the new entry into the victim's position.
    fn replaced(&mut self, index: u32, hash: u64) -> bool {
        self.enter(index, hash, true);
        true
    }

    /// Counts the read in the entry's byte, and a hit for the split test.
    #[inline]
    fn accessed(&mut self, index: u32, hash: u64) {
        self.queues.visit(index);
        self.simulate(hash);
        if self.full > 0 {
            self.split.hit(half_of(hash));
        }
    }

    fn removed(&mut self, index: u32, last: u32) {
        self.queues.removed(index, last);
    }

    /// Evicts from the incoming key's half, unless it holds none, or fewer entries
    /// than the other by more than a little: then the other gives way, so that the
    /// halves stay even. With the half's window full, the window's oldest unread entry
    /// contests main's next victim, and the less frequent goes; otherwise (the window
    /// may grow) main's next victim goes.
    fn victim(&mut self, incoming: u64, hash_of: &dyn Fn(u32) -> u64) -> Option<u32> {
        self.full = self.queues.total();
        if !self.began {
            self.begin();
        }
        let mut half = half_of(incoming);
        let slack = 1 + self.full / 64;
        let (mine, other) = (self.queues.half_len(half), self.queues.half_len(1 - half));
        let window_len = self.queues.len(Queue::new(half, Region::Window));
        if mine == 0 || mine + slack < other {
            half = 1 - half;
        } else if window_len > 0 && window_len >= self.window_target(half) {
            let candidate = self.window_candidate(half, hash_of)?;
            let Some(victim) = self.main_victim(half, hash_of) else {
                return Some(candidate);
            };
            if self.admit(hash_of(candidate), hash_of(victim)) {
                self.queues
                    .move_to_newest(candidate, Queue::new(half, Region::Probation));
                return Some(victim);
            }
            return Some(candidate);
        }
        match self.main_victim(half, hash_of) {
            Some(victim) => Some(victim),
            None => self.window_candidate(half, hash_of),
        }
    }

    fn cleared(&mut self) {
        self.queues.clear();
        self.sketch.clear();
        // The split stays: what it learnt of the workload outlives a clear.
        self.split.restart();
        self.full = 0;
    }
}
