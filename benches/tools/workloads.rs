//! Synthetic access sequences for hit-ratio runs, deterministic from a seed: the
//! hit-ratio bench and the hit-ratio regression test replay the same ones.
#![allow(dead_code)]

/// SplitMix64: a small, fast, well-mixed generator, enough for workloads.
pub(crate) struct SplitMix(u64);

impl SplitMix {
    pub(crate) fn new(seed: u64) -> Self {
        SplitMix(seed)
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        mix(self.0)
    }

    /// Uniform in `[0, 1)`.
    pub(crate) fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// The SplitMix64 finalizer: a bijection, so distinct ranks stay distinct keys.
pub(crate) fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// `length` accesses over `keys` keys whose popularity follows Zipf's law with exponent
/// `alpha` (rank `r` drawn with probability proportional to `1 / r^alpha`). Ranks are
/// scattered over the key space, so that no policy gains from key order.
pub(crate) fn zipf(keys: u64, alpha: f64, length: usize, seed: u64) -> Vec<u64> {
    zipf_ranks(keys, alpha, length, seed)
        .into_iter()
        .map(|rank| mix(rank ^ seed))
        .collect()
}

/// `length` ranks under `keys`, rank `r` drawn with probability proportional to
/// `1 / r^alpha`.
fn zipf_ranks(keys: u64, alpha: f64, length: usize, seed: u64) -> Vec<u64> {
    let mut cumulative = Vec::with_capacity(keys as usize);
    let mut total = 0.0;
    for rank in 1..=keys {
        total += 1.0 / (rank as f64).powf(alpha);
        cumulative.push(total);
    }
    let mut random = SplitMix::new(seed);
    (0..length)
        .map(|_| {
            let target = random.next_f64() * total;
            let rank = cumulative.partition_point(|&c| c < target) as u64;
            rank.min(keys - 1)
        })
        .collect()
}

/// `length` accesses for a cache of `capacity`: one in ten goes to a hot set of
/// `capacity / 2` keys (uniformly), the rest are a scan of fresh keys, each read once.
/// A scan-resistant policy keeps the hot set and hits on close to 10% of the accesses;
/// LRU keeps flushing it.
pub(crate) fn scan_mix(capacity: usize, length: usize, seed: u64) -> Vec<u64> {
    let hot = (capacity / 2).max(1) as u64;
    let mut random = SplitMix::new(seed);
    let mut fresh = 1u64 << 40;
    (0..length)
        .map(|_| {
            if random.next_u64().is_multiple_of(10) {
                mix(random.next_u64() % hot)
            } else {
                fresh += 1;
                mix(fresh)
            }
        })
        .collect()
}

/// `length` accesses in phases of `phase` accesses, each uniform over a working set of
/// `set` keys that no other phase uses: recency matters, and frequency learnt in one
/// phase is worthless in the next.
pub(crate) fn shifting(set: u64, phase: usize, length: usize, seed: u64) -> Vec<u64> {
    let mut random = SplitMix::new(seed);
    (0..length)
        .map(|n| {
            let base = (n / phase) as u64 * set;
            mix(base + random.next_u64() % set)
        })
        .collect()
}

/// `length` accesses to sets of `set` new keys, each set read in order twice over and
/// then never again: every key is as rare as any other, so only a cache that keeps the
/// newest `set` keys by recency (a window larger than a set) catches the second reads.
pub(crate) fn read_twice(set: u64, length: usize) -> Vec<u64> {
    assert!(set >= 1, "sets of at least one key");
    (0..length as u64)
        .map(|n| mix(n / (2 * set) * set + n % set))
        .collect()
}

/// `length` accesses whose popularity follows Zipf's law with exponent `alpha` over
/// `keys` ranks, as [`zipf`], but drifting: every `drift` accesses (at least 1) a new
/// key takes the top rank and every other key moves one rank down. So a key is at its
/// hottest when new and fades as it ages, as in a feed: recency matters more than the
/// frequency a key once had. Each key gets about `drift` accesses in all.
pub(crate) fn drifting(keys: u64, alpha: f64, drift: usize, length: usize, seed: u64) -> Vec<u64> {
    assert!(drift >= 1, "a drift of at least one access");
    zipf_ranks(keys, alpha, length, seed)
        .into_iter()
        .enumerate()
        .map(|(n, rank)| mix(((n / drift) as u64 + keys - rank) ^ seed))
        .collect()
}

/// `length` accesses: each, with probability `1 / every`, a draw of Zipf 0.9 over 1M
/// keys, and otherwise the next key of a loop over `keys` keys, in order, again and
/// again (`every` 0: the loop alone). A loop longer than the cache defeats recency
/// (LRU hits nothing); every looped key is equally frequent, so a policy does best by
/// holding one set of them still.
pub(crate) fn looping(keys: u64, every: u64, length: usize, seed: u64) -> Vec<u64> {
    assert!(keys >= 1, "a loop of at least one key");
    let popular = if every > 0 {
        zipf(1_000_000, 0.9, length, seed)
    } else {
        Vec::new()
    };
    // Its own stream: the Zipf draws come from `seed`'s.
    let mut random = SplitMix::new(mix(seed));
    let mut at = 0;
    (0..length)
        .map(|n| {
            if every > 0 && random.next_u64().is_multiple_of(every) {
                // Apart from the loop's keys.
                popular[n] ^ (1 << 63)
            } else {
                at = (at + 1) % keys;
                mix(at ^ seed)
            }
        })
        .collect()
}
