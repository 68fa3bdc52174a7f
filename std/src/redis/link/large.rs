//! Names whose values are read apart: those known or suspected to hold a value too
//! large for the lookups' connection.
//!
//! A lookup cannot know its value's size before the reply. A value of tens of MiB
//! takes longer than the timeout to arrive, and on the connection lookups share it
//! holds up every lookup behind it, times out, and pauses the backend for every key,
//! each time it is read. So a name is read on the second connection (the one large
//! stores take), where its failure is its own, once this process has stored a large
//! value under it, read one whole from it, or seen its lone read time out (which may
//! also be a stalled server: that first failure pauses as before). A small value read
//! or stored under a name lets it go.

use std::hash::BuildHasher;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering::Relaxed};

use foldhash::fast::FixedState;

/// Names are remembered as bits of a table indexed by a hash of the name: no lock on a
/// lookup, and a bounded size. Two names that share a bit share its state: a small
/// value is then read apart, or a large one read with the others until it times out
/// again, once.
const WORDS: usize = 64;

/// The names read apart, as bits (see [`WORDS`]).
pub(crate) struct LargeNames {
    /// How many bits are set: a lookup reads only this, unless some are.
    set: AtomicUsize,
    bits: [AtomicU64; WORDS],
}

impl Default for LargeNames {
    fn default() -> Self {
        LargeNames {
            set: AtomicUsize::new(0),
            bits: [const { AtomicU64::new(0) }; WORDS],
        }
    }
}

impl LargeNames {
    /// Whether `name` is read apart.
    #[inline]
    pub(crate) fn holds(&self, name: &str) -> bool {
        if self.set.load(Relaxed) == 0 {
            return false;
        }
        let (word, bit) = place(name);
        self.bits[word].load(Relaxed) & bit != 0
    }

    /// Reads `name` apart from now on.
    pub(crate) fn remember(&self, name: &str) {
        let (word, bit) = place(name);
        if self.bits[word].fetch_or(bit, Relaxed) & bit == 0 {
            self.set.fetch_add(1, Relaxed);
        }
    }

    /// `name` holds a small value, or none: read it with the others again.
    pub(crate) fn forget(&self, name: &str) {
        if !self.holds(name) {
            return;
        }
        let (word, bit) = place(name);
        if self.bits[word].fetch_and(!bit, Relaxed) & bit != 0 {
            self.set.fetch_sub(1, Relaxed);
        }
    }

    /// Remembers or forgets `name` by the size of a value read or stored under it.
    pub(crate) fn learn(&self, name: &str, len: usize) {
        match len > super::super::LARGE_VALUE_BYTES {
            true => self.remember(name),
            false => self.forget(name),
        }
    }
}

/// The word and bit that stand for `name`.
fn place(name: &str) -> (usize, u64) {
    let hash = FixedState::with_seed(0).hash_one(name);
    ((hash >> 6) as usize % WORDS, 1 << (hash & 63))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::redis::LARGE_VALUE_BYTES;

    #[test]
    fn names_are_remembered_by_size() {
        let large = LargeNames::default();
        assert!(!large.holds("p:f:1"));
        large.learn("p:f:1", LARGE_VALUE_BYTES + 1);
        large.learn("p:f:1", LARGE_VALUE_BYTES + 1);
        assert!(large.holds("p:f:1") && !large.holds("p:f:2"));
        assert_eq!(large.set.load(Relaxed), 1, "counted once");
        large.learn("p:f:1", LARGE_VALUE_BYTES);
        assert!(!large.holds("p:f:1"));
        assert_eq!(
            large.set.load(Relaxed),
            0,
            "none left: lookups read one word"
        );
        // However many, the table stays its size; each name remembered is held.
        for n in 0..10_000 {
            large.remember(&format!("p:f:{n}"));
        }
        assert!((0..10_000).all(|n| large.holds(&format!("p:f:{n}"))));
        assert!(large.set.load(Relaxed) <= WORDS * 64);
    }
}
