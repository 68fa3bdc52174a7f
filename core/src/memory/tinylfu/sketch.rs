//! How often each key was seen lately: a count-min sketch of 4-bit counters that
//! halves itself as it fills, after Caffeine's `FrequencySketch`.
//!
//! A key's four counters lie in one 64-byte block of the table, so an increment or an
//! estimate touches one cache line. Every ten increments per word (`period`), all
//! counters halve: old popularity fades, and the 4 bits never need more.

use alloc::vec;
use alloc::vec::Vec;

/// Counters per table word.
const COUNTERS: u32 = 16;
/// The largest count a counter holds.
const MOST: u64 = 15;
/// Each counter's low bit, to count the odd ones a halving rounds down.
const LOW_BITS: u64 = 0x1111_1111_1111_1111;
/// What a counter keeps of its bits once shifted right by one.
const HALVED: u64 = 0x7777_7777_7777_7777;
/// Words per block: one 64-byte cache line.
const BLOCK: usize = 8;

/// One cache line of counters; a key's four all lie in one.
#[derive(Clone, Copy, Debug, Default)]
#[repr(align(64))]
struct Block([u64; BLOCK]);

/// A frequency sketch: about one 64-bit word (16 counters) per key counted.
#[derive(Clone, Debug)]
pub(super) struct Sketch {
    /// Empty until the first increment; grows with the number of entries held.
    table: Vec<Block>,
    /// Increments since the last halving.
    additions: usize,
    /// Increments between two halvings: ten per word.
    period: usize,
}

impl Sketch {
    pub(super) const fn new() -> Self {
        Sketch {
            table: Vec::new(),
            additions: 0,
            period: 0,
        }
    }

    fn words(&self) -> usize {
        self.table.len() * BLOCK
    }

    /// Makes room for counting `keys` keys, of at most `most`: a power of two of words,
    /// one per key, at least one block. The table doubles as the keys outgrow it, and
    /// goes to `most` once `keys` reaches half of it (as Caffeine sizes its sketch when
    /// the cache is half full). Growing starts the counts over. Not faster: a store in
    /// a shared pool (a `SyncCache` shard) has the whole cache's `most` and holds a
    /// fraction of it, so a sketch sized ahead would cost it several words per entry.
    #[inline]
    pub(super) fn ensure(&mut self, keys: usize, most: usize) {
        if keys > self.words() {
            self.grow(keys, most);
        }
    }

    #[cold]
    #[inline(never)]
    fn grow(&mut self, keys: usize, most: usize) {
        let words = if keys >= most / 2 { most } else { keys };
        let words = words.min(most).max(keys).max(BLOCK).next_power_of_two();
        if words > self.words() {
            self.table = vec![Block::default(); words / BLOCK];
            self.additions = 0;
            self.period = 10 * words;
        }
    }

    /// The block of `hash`, and the bits that place its four counters there.
    #[inline(always)]
    fn place(&self, hash: u64) -> (usize, u32) {
        // Remixed: a sharded cache picks a key's shard by bits 32 and up, so within
        // one shard those bits alone would name only a few blocks. An empty table
        // gives a block that `get` finds missing.
        let block = (hash.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 32) as usize
            & self.table.len().wrapping_sub(1);
        // The counter bits come from the other half of the hash, remixed.
        let bits = (hash as u32).wrapping_mul(0x9e37_79b9) ^ (hash >> 47) as u32;
        (block, bits)
    }

    /// Counter `i` (0 to 3) of the key whose bits are `bits`: its word in the block,
    /// one of a pair, and the shift of its 4 bits there.
    #[inline(always)]
    fn counter(bits: u32, i: usize) -> (usize, u32) {
        let h = bits >> (i * 8);
        ((h & 1) as usize + i * 2, (h >> 1) % COUNTERS * 4)
    }

    /// The estimated number of recent sightings of `hash`, at most 15.
    #[inline]
    pub(super) fn frequency(&self, hash: u64) -> u8 {
        let (block, bits) = self.place(hash);
        let Some(Block(words)) = self.table.get(block) else {
            return 0;
        };
        let mut least = MOST;
        for i in 0..4 {
            let (word, shift) = Self::counter(bits, i);
            least = least.min((words[word] >> shift) & MOST);
        }
        least as u8
    }

    /// Counts one sighting of `hash`; halves every counter once the table has taken
    /// ten increments per word.
    #[inline]
    pub(super) fn increment(&mut self, hash: u64) {
        let (block, bits) = self.place(hash);
        let Some(Block(words)) = self.table.get_mut(block) else {
            return;
        };
        let mut added = 0;
        for i in 0..4 {
            let (word, shift) = Self::counter(bits, i);
            // 1 unless the counter is full.
            let room = u64::from((words[word] >> shift) & MOST != MOST);
            words[word] += room << shift;
            added |= room;
        }
        self.additions += added as usize;
        if self.additions >= self.period {
            self.halve();
        }
    }

    /// Halves every counter, and the count of additions by as much as was lost.
    #[cold]
    fn halve(&mut self) {
        let mut odd = 0;
        for word in self.table.iter_mut().flat_map(|Block(words)| words) {
            odd += (*word & LOW_BITS).count_ones() as usize;
            *word = (*word >> 1) & HALVED;
        }
        self.additions = self.additions.saturating_sub(odd / 4) / 2;
    }

    pub(super) fn clear(&mut self) {
        self.table.fill(Block::default());
        self.additions = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spread(n: u64) -> u64 {
        n.wrapping_mul(0x9e37_79b9_7f4a_7c15).rotate_left(17)
    }

    #[test]
    fn counts_up_to_fifteen() {
        let mut sketch = Sketch::new();
        sketch.ensure(64, usize::MAX);
        for n in 1..=20 {
            sketch.increment(spread(1));
            assert_eq!(sketch.frequency(spread(1)), n.min(15));
        }
    }

    #[test]
    fn doubles_with_the_keys_then_goes_to_the_most_at_half() {
        let mut sketch = Sketch::new();
        sketch.ensure(5, 1_000);
        assert_eq!(sketch.words(), BLOCK, "at least one block");
        sketch.ensure(65, 1_000);
        assert_eq!(sketch.words(), 128);
        sketch.ensure(128, 1_000);
        assert_eq!(sketch.words(), 128);
        sketch.ensure(129, 1_000);
        assert_eq!(sketch.words(), 256);
        // Past half the most: straight to it.
        sketch.ensure(500, 1_000);
        assert_eq!(sketch.words(), 1_024);
        sketch.ensure(1_000, 1_000);
        assert_eq!(sketch.words(), 1_024);
        // A store holding a small part of a large pool: a word or two per key.
        let mut shard = Sketch::new();
        shard.ensure(1_600, 1 << 20);
        assert_eq!(shard.words(), 2_048);
    }

    #[test]
    fn keys_map_to_the_counters_they_always_had() {
        // The layout before blocks were cache lines, word by word: a change here would
        // move every key's counters, and every hit ratio with them.
        fn flat(hash: u64, words: usize) -> [(usize, u32); 4] {
            let blocks = words / BLOCK;
            let block =
                ((hash.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 32) as usize & (blocks - 1)) * BLOCK;
            let bits = (hash as u32).wrapping_mul(0x9e37_79b9) ^ (hash >> 47) as u32;
            core::array::from_fn(|i| {
                let h = bits >> (i * 8);
                (block + (h & 1) as usize + i * 2, (h >> 1) % COUNTERS * 4)
            })
        }
        for words in [8, 64, 1 << 12, 1 << 20] {
            let mut sketch = Sketch::new();
            sketch.ensure(words, words);
            for n in 0..2_000 {
                let hash = spread(n) ^ n << 40;
                let (block, bits) = sketch.place(hash);
                let counters: [(usize, u32); 4] = core::array::from_fn(|i| {
                    let (word, shift) = Sketch::counter(bits, i);
                    (block * BLOCK + word, shift)
                });
                assert_eq!(counters, flat(hash, words), "{hash:#x} over {words} words");
            }
        }
    }

    #[test]
    fn each_block_is_one_cache_line() {
        let mut sketch = Sketch::new();
        sketch.ensure(1 << 12, 1 << 12);
        // An unaligned block would straddle two lines: two misses per estimate.
        assert_eq!(sketch.table.as_ptr() as usize % 64, 0);
        assert_eq!(core::mem::size_of::<Block>(), 64);
    }

    #[test]
    fn an_empty_sketch_counts_nothing() {
        let mut sketch = Sketch::new();
        sketch.increment(7);
        assert_eq!(sketch.frequency(7), 0);
    }

    #[test]
    fn halving_fades_old_counts() {
        let mut sketch = Sketch::new();
        sketch.ensure(64, 64);
        for _ in 0..8 {
            sketch.increment(spread(1));
        }
        // Enough other keys to fill the sample and halve once.
        for n in 2..(10 * 64 + 2) {
            sketch.increment(spread(n));
        }
        let left = sketch.frequency(spread(1));
        assert!((3..=5).contains(&left), "{left}");
    }

    #[test]
    fn keys_seen_once_rarely_look_frequent() {
        let mut sketch = Sketch::new();
        sketch.ensure(1024, usize::MAX);
        for n in 0..512 {
            sketch.increment(spread(n));
        }
        let frequent = (0..512)
            .filter(|&n| sketch.frequency(spread(n)) > 2)
            .count();
        assert!(
            frequent < 8,
            "{frequent} of 512 keys seen once look frequent"
        );
    }

    #[test]
    fn keys_of_one_shard_spread_over_every_block() {
        // Hashes that agree on bits 32..44, as the keys of one shard of 4096 do.
        let mut sketch = Sketch::new();
        sketch.ensure(1 << 12, 1 << 12);
        let blocks = sketch.table.len();
        let mut used = alloc::vec![false; blocks];
        let mut x = 0x2545_f491_4f6c_dd1du64;
        for _ in 0..blocks * 8 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let hash = (x & !(0xfff << 32)) | (0x5a5 << 32);
            used[sketch.place(hash).0] = true;
        }
        let share = used.iter().filter(|&&u| u).count() * 100 / blocks;
        assert!(share >= 95, "{share}% of the blocks used");
    }
}
