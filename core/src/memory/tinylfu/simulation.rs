//! How large the window should be, for a large cache, by miniature simulation
//! (Waldspurger, Saemundsson, Ahmad and Park, "Cache Modeling and Optimization using
//! Miniature Simulations", USENIX ATC 2017): the keys whose hash falls in a sample,
//! replayed through small W-TinyLFU caches, one per window share, each the whole cache
//! scaled down by the sampling rate. Each one's hit ratio estimates the whole cache's
//! with its share, so the best share is the choice.
//!
//! The split test moves the choice a step at a time, towards the side that hits more;
//! where hit ratios are flat over a range of shares (P3 at 200,000 entries: within a
//! point from 1% to 20%, 5 points better at 70%) it cannot tell which way to go, and a
//! large cache decides too rarely to walk far. A simulation sees every share at once.
//! It costs six caches of about 1 to 2 Ki entries (about 40 bytes each once full: 250
//! to 500 KB) and, for 1 access in 64 or fewer, an access to each; so only a cache of
//! [`LEAST_WHOLE`] entries or more simulates. A shard of a thread-safe cache that
//! simulates for the others samples its own keys, all of them if it holds fewer than
//! 4 Ki (into miniatures as large as itself): its accesses then cost up to seven times
//! as much, and the others' nothing.

use alloc::vec::Vec;

use hashbrown::HashTable;

use super::TinyLfu;
use crate::memory::eviction::Eviction;

/// The window shares simulated, in millionths: a geometric range, 1% to 70%.
const SHARES: [u64; 6] = [10_000, 30_000, 80_000, 200_000, 400_000, 700_000];
const _: () = assert!(
    SHARES[0] == super::choice::FIRST_SHARE,
    "a simulation starts from the first choice"
);
/// About as many entries as each miniature cache holds: the policy's size over a
/// power of two, from just over half this to just over this (a policy under twice
/// this: its own size). More would cost a large cache's hits memory traffic, fewer
/// its choices accuracy.
const MINIATURE: usize = 2_048;
/// The fewest accesses per sampled one: the six replays then cost an access a tenth
/// of a miniature access, on average.
const SPARSEST: usize = 64;
/// The chosen share gives way to the best when it trails it by more than 1/64 of its
/// hits over the last two periods, at two period ends in a row.
const MARGIN: u64 = 64;
/// The smallest cache that simulates (in `u64`: over a 16-bit `usize`).
pub(super) const LEAST_WHOLE: u64 = MINIATURE as u64 * SPARSEST as u64;

/// Small caches over a sample of the keys, one per share of [`SHARES`].
#[derive(Clone, Debug)]
pub(super) struct Simulation {
    /// Keys whose hash has these low bits clear are sampled: bits the shard router
    /// does not use (it picks by bits 32 and up), so a shard's keys are sampled as
    /// any others.
    pub(super) mask: u64,
    /// One cache per share of [`SHARES`], in order.
    caches: Vec<Miniature>,
    /// Sampled accesses in this period.
    accesses: usize,
    /// Sampled accesses per period: as many as a miniature holds.
    period: usize,
    /// Periods simulated: the first, while the caches fill, decides nothing.
    periods: usize,
    /// The share chosen, as an index of [`SHARES`]: at first the policy's first
    /// choice, 1%.
    chosen: usize,
    /// Whether the chosen share trailed the best by the margin at the last period's
    /// end: it gives way when it trails at two ends in a row.
    behind: bool,
    /// Each miniature's hits in the period before the last, which the choice weighs
    /// with the last. Not a longer memory: one that kept 7/8 of each period's hits
    /// (tried before) moved to a large window several periods late, after the bursts
    /// of reuse that a large window catches had passed. Not the last period alone:
    /// two quiet ones in a row could then move the choice.
    previous: [u64; SHARES.len()],
}

impl Simulation {
    /// A simulation for a policy of `capacity` entries, or `None` if the policy should
    /// not simulate: `whole` is the capacity of the cache it is part of.
    pub(super) fn of(capacity: usize, whole: u64) -> Option<Self> {
        if whole < LEAST_WHOLE || capacity == 0 {
            return None;
        }
        // A power of two, so that a mask samples; 1 when this policy holds only a
        // fraction of the whole cache (the shards of a thread-safe one), which then
        // samples by shard.
        let rate = (capacity / MINIATURE).max(1).next_power_of_two();
        let entries = capacity / rate;
        Some(Simulation {
            mask: (rate - 1) as u64,
            caches: SHARES
                .iter()
                .map(|&share| Miniature::new(entries, share))
                .collect(),
            accesses: 0,
            period: entries,
            periods: 0,
            chosen: 0,
            behind: false,
            previous: [0; SHARES.len()],
        })
    }

    /// Whether the key of `hash` is in the sample.
    #[cfg(test)]
    fn samples(&self, hash: u64) -> bool {
        hash & self.mask == 0
    }

    /// Replays an access to a sampled key; at the end of a period, the share to take
    /// up if it changed.
    pub(super) fn access(&mut self, hash: u64) -> Option<u64> {
        for cache in &mut self.caches {
            cache.access(hash);
        }
        self.accesses += 1;
        if self.accesses < self.period {
            return None;
        }
        self.accesses = 0;
        self.end_period()
    }

    /// Compares the hits of the last two periods; the share to take up if it changed.
    fn end_period(&mut self) -> Option<u64> {
        self.periods += 1;
        let latest: [u64; SHARES.len()] =
            core::array::from_fn(|i| core::mem::take(&mut self.caches[i].hits));
        // The first period's hits are the caches filling: they decide nothing.
        if self.periods < 2 {
            return None;
        }
        let hits: [u64; SHARES.len()] = core::array::from_fn(|i| self.previous[i] + latest[i]);
        self.previous = latest;
        let best = (0..hits.len()).max_by_key(|&i| hits[i])?;
        // A margin, so that shares that hit alike do not take turns; and two period
        // ends in a row behind, as a switch disturbs the cache (a window that shrinks
        // pushes its entries into main, one that grows must fill again): a lead that
        // does not outlast one end does not pay for it.
        let held = hits[self.chosen];
        let behind = best != self.chosen && hits[best] > held + held / MARGIN;
        if behind && self.behind {
            self.chosen = best;
            self.behind = false;
            return Some(SHARES[best]);
        }
        self.behind = behind;
        None
    }
}

/// A W-TinyLFU cache of sampled key hashes, with a window of a fixed share.
#[derive(Clone, Debug)]
struct Miniature {
    /// Positions in `keys`, by the key's remixed hash.
    table: HashTable<u32>,
    /// The sampled keys held (their hashes in the whole cache), by position.
    keys: Vec<u64>,
    /// W-TinyLFU over the positions, with a fixed window.
    policy: TinyLfu,
    /// The most keys held.
    capacity: usize,
    /// Hits in this period.
    hits: u64,
}

/// A second hash of a sampled key's hash, for the miniature's table and policy: the
/// sampled keys share the bits that chose them, and the policy splits by the top bit.
fn remix(hash: u64) -> u64 {
    let mut z = hash ^ 0x9e37_79b9_7f4a_7c15;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

impl Miniature {
    /// An empty cache of `capacity` keys, with a window of `share` millionths.
    fn new(capacity: usize, share: u64) -> Self {
        Miniature {
            table: HashTable::with_capacity(capacity),
            keys: Vec::with_capacity(capacity),
            policy: TinyLfu::fixed(capacity, share),
            capacity,
            hits: 0,
        }
    }

    /// Looks `key` up, and stores it on a miss, evicting as the policy says.
    fn access(&mut self, key: u64) {
        let hash = remix(key);
        let keys = &self.keys;
        if let Some(&index) = self.table.find(hash, |&i| keys[i as usize] == key) {
            self.policy.accessed(index, hash);
            self.hits += 1;
            return;
        }
        if self.keys.len() < self.capacity {
            let index = self.keys.len() as u32;
            self.keys.push(key);
            let keys = &self.keys;
            self.table
                .insert_unique(hash, index, |&i| remix(keys[i as usize]));
            self.policy.inserted(index, hash);
            return;
        }
        let keys = &self.keys;
        let Some(victim) = self.policy.victim(hash, &|i| remix(keys[i as usize])) else {
            return;
        };
        let old = remix(self.keys[victim as usize]);
        if let Ok(entry) = self.table.find_entry(old, |&i| i == victim) {
            entry.remove();
        }
        // TinyLfu always takes the victim's position.
        let taken = self.policy.replaced(victim, hash);
        debug_assert!(taken);
        self.keys[victim as usize] = key;
        let keys = &self.keys;
        self.table
            .insert_unique(hash, victim, |&i| remix(keys[i as usize]));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_large_cache_simulates() {
        let least = LEAST_WHOLE as usize;
        assert!(Simulation::of(least - 1, LEAST_WHOLE - 1).is_none());
        let alone = Simulation::of(least, LEAST_WHOLE).unwrap();
        assert_eq!(alone.mask, SPARSEST as u64 - 1);
        assert_eq!(alone.period, MINIATURE);
        let large = Simulation::of(1_000_000, 1_000_000).unwrap();
        assert_eq!((large.mask, large.period), (511, 1_953));
        // A shard of a large cache samples its own keys, all of them if it is small.
        let shard = Simulation::of(3_125, 200_000).unwrap();
        assert_eq!((shard.mask, shard.period), (0, 3_125));
    }

    #[test]
    fn a_miniature_holds_its_capacity_and_hits_what_it_holds() {
        let mut cache = Miniature::new(100, 10_000);
        for key in 0..1_000u64 {
            cache.access(key);
        }
        assert_eq!(cache.keys.len(), 100);
        assert_eq!(cache.table.len(), 100);
        assert_eq!(cache.hits, 0);
        let held: Vec<u64> = cache.keys.clone();
        for &key in &held {
            cache.access(key);
        }
        assert_eq!(cache.hits, 100);
        for (index, &key) in cache.keys.iter().enumerate() {
            let found = cache
                .table
                .find(remix(key), |&i| cache.keys[i as usize] == key);
            assert_eq!(found, Some(&(index as u32)));
        }
    }

    /// Replays `accesses` (keys, as hashes the sample takes) and returns the last share
    /// chosen.
    fn replay(simulation: &mut Simulation, accesses: impl Iterator<Item = u64>) -> Option<u64> {
        let mut chosen = None;
        for key in accesses {
            let hash = key << 16;
            assert!(simulation.samples(hash));
            chosen = simulation.access(hash).or(chosen);
        }
        chosen
    }

    /// Phases of new keys, each set read three times over and then never again: a
    /// small window lets none of them into main, whose older keys were read as often,
    /// while a window that holds a whole set hits on its second and third reads.
    fn phases(entries: u64, first: u64) -> impl Iterator<Item = u64> {
        let set = entries * 6 / 10;
        (first..first + 30).flat_map(move |phase| {
            (0..3).flat_map(move |_| (0..set).map(move |key| phase * set + key))
        })
    }

    /// Hot keys, 90% of the capacity's worth, each read between two keys seen once:
    /// only a main large enough for the hot set keeps it.
    fn hot_and_once(entries: u64, first: u64) -> impl Iterator<Item = u64> {
        let hot = entries * 9 / 10;
        (0..30 * entries).flat_map(move |i| [i % hot, first + 2 * i, first + 2 * i + 1])
    }

    /// Ends a period in which the miniatures hit `hits` times each, in share order.
    fn end_with(simulation: &mut Simulation, hits: [u64; 6]) -> Option<u64> {
        for (cache, hits) in simulation.caches.iter_mut().zip(hits) {
            cache.hits = hits;
        }
        simulation.end_period()
    }

    #[test]
    fn the_chosen_share_gives_way_once_it_trails_at_two_period_ends_in_a_row() {
        let mut simulation = Simulation::of(LEAST_WHOLE as usize, LEAST_WHOLE).unwrap();
        let large = [100, 100, 100, 100, 100, 200];
        let medium = [100, 100, 100, 300, 100, 100];
        assert_eq!(end_with(&mut simulation, large), None, "warming up");
        assert_eq!(end_with(&mut simulation, large), None, "behind once");
        assert_eq!(end_with(&mut simulation, large), Some(SHARES[5]));
        // A burst for 20% puts 70% behind at one end, not the next: it holds.
        assert_eq!(end_with(&mut simulation, [0, 0, 0, 400, 0, 0]), None);
        assert_eq!(end_with(&mut simulation, [0, 0, 0, 0, 0, 400]), None);
        assert_eq!(simulation.chosen, 5);
        // Behind at two ends in a row (not at the first, which still counts the 400
        // for 70%), it gives way.
        assert_eq!(end_with(&mut simulation, medium), None);
        assert_eq!(end_with(&mut simulation, medium), None);
        assert_eq!(end_with(&mut simulation, medium), Some(SHARES[3]));
        // Behind one share, then another: the second, the best, is chosen.
        assert_eq!(end_with(&mut simulation, [0, 0, 0, 0, 2_000, 0]), None);
        assert_eq!(
            end_with(&mut simulation, [0, 0, 0, 0, 0, 4_000]),
            Some(SHARES[5])
        );
        // A share that leads the chosen one by less than the margin does not replace
        // it (202 hits over two periods, against 200 and a margin of 3).
        let close = [100, 100, 100, 100, 101, 100];
        for _ in 0..60 {
            assert_eq!(end_with(&mut simulation, close), None);
        }
        assert_eq!(simulation.chosen, 5);
    }

    #[test]
    fn the_choice_weighs_the_last_two_periods() {
        let mut simulation = Simulation::of(LEAST_WHOLE as usize, LEAST_WHOLE).unwrap();
        let small = [200, 180, 160, 140, 120, 100];
        let large = [100, 100, 100, 100, 100, 200];
        for _ in 0..40 {
            assert_eq!(end_with(&mut simulation, small), None);
        }
        // However long 1% led before: once 70% leads over the last two periods, at two
        // ends in a row, it takes over.
        assert_eq!(end_with(&mut simulation, large), None, "even with 1%");
        assert_eq!(end_with(&mut simulation, large), None, "ahead once");
        assert_eq!(end_with(&mut simulation, large), Some(SHARES[5]));
        // Two periods with few hits, in which 8% leads, weigh as little as they hold:
        // next to a period of many hits for 70%, they do not move the window.
        let busy = [900, 900, 900, 900, 900, 1_000];
        let quiet = [30, 30, 60, 30, 30, 20];
        for period in [busy, busy, quiet, quiet, busy, busy] {
            assert_eq!(end_with(&mut simulation, period), None);
        }
        assert_eq!(simulation.chosen, 5);
    }

    #[test]
    fn the_choice_follows_the_workload_both_ways() {
        let mut simulation = Simulation::of(LEAST_WHOLE as usize, LEAST_WHOLE).unwrap();
        let entries = simulation.period as u64;
        let large = replay(&mut simulation, phases(entries, 1)).expect("a choice");
        assert!(large >= 200_000, "chose {large}");
        let small = replay(&mut simulation, hot_and_once(entries, 1 << 30)).expect("a choice");
        assert!(small <= 30_000, "chose {small}");
    }
}
