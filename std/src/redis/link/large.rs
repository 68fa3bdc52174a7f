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
//! or stored under a name lets it go. Up to 1,024 names are kept, by their 64-bit
//! hashes (a name pushed out pauses the backend once more, at most).

use std::hash::BuildHasher;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering::Relaxed};

use foldhash::fast::FixedState;

/// Slots of the table: each holds a name's 64-bit hash, or 0.
const SLOTS: usize = 1_024;
/// A name's slots: the first its hash picks, and the next ones. When all hold other
/// names, the first is taken over (that name may then pause the backend once more).
const BUCKET: usize = 4;

/// The names read apart, by their hashes in a fixed table: no lock on a lookup, and a
/// bounded size.
pub(crate) struct LargeNames {
    /// How many slots hold a name, never fewer: a lookup reads only this, unless some do.
    held: AtomicUsize,
    slots: [AtomicU64; SLOTS],
}

impl Default for LargeNames {
    fn default() -> Self {
        LargeNames {
            held: AtomicUsize::new(0),
            slots: [const { AtomicU64::new(0) }; SLOTS],
        }
    }
}

impl LargeNames {
    /// Whether `name` is read apart.
    #[inline]
    pub(crate) fn holds(&self, name: &str) -> bool {
        if self.held.load(Relaxed) == 0 {
            return false;
        }
        let hash = digest(name);
        self.bucket(hash).any(|slot| slot.load(Relaxed) == hash)
    }

    /// Reads `name` apart from now on.
    pub(crate) fn remember(&self, name: &str) {
        let hash = digest(name);
        if self.bucket(hash).any(|slot| slot.load(Relaxed) == hash) {
            return;
        }
        // Counted first, so that the count is never below the slots held.
        self.held.fetch_add(1, Relaxed);
        for slot in self.bucket(hash) {
            match slot.compare_exchange(0, hash, Relaxed, Relaxed) {
                Ok(_) => return,
                // Another thread remembered it just now, and counted it.
                Err(held) if held == hash => {
                    self.held.fetch_sub(1, Relaxed);
                    return;
                }
                Err(_) => {}
            }
        }
        // Every slot holds another name: the first gives way (its count is ours).
        if let Some(first) = self.bucket(hash).next()
            && first.swap(hash, Relaxed) != 0
        {
            self.held.fetch_sub(1, Relaxed);
        }
    }

    /// `name` holds a small value, or none: read it with the others again.
    pub(crate) fn forget(&self, name: &str) {
        if self.held.load(Relaxed) == 0 {
            return;
        }
        let hash = digest(name);
        for slot in self.bucket(hash) {
            if slot.compare_exchange(hash, 0, Relaxed, Relaxed).is_ok() {
                self.held.fetch_sub(1, Relaxed);
            }
        }
    }

    /// Remembers or forgets `name` by the size of a value read or stored under it.
    pub(crate) fn learn(&self, name: &str, len: usize) {
        match len > super::super::LARGE_VALUE_BYTES {
            true => self.remember(name),
            false => self.forget(name),
        }
    }

    fn bucket(&self, hash: u64) -> impl Iterator<Item = &AtomicU64> {
        let first = hash as usize % SLOTS;
        (0..BUCKET).map(move |n| &self.slots[(first + n) % SLOTS])
    }
}

/// `name`'s hash, never 0 (an empty slot).
fn digest(name: &str) -> u64 {
    FixedState::with_seed(0).hash_one(name).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::redis::LARGE_VALUE_BYTES;

    #[test]
    fn names_are_remembered_by_size_each_apart() {
        let large = LargeNames::default();
        assert!(!large.holds("p:f:1"));
        large.learn("p:f:1", LARGE_VALUE_BYTES + 1);
        large.learn("p:f:1", LARGE_VALUE_BYTES + 1);
        assert!(large.holds("p:f:1") && !large.holds("p:f:2"));
        assert_eq!(large.held.load(Relaxed), 1, "counted once");
        // Another name read small lets nothing of this one go.
        for n in 2..2_000 {
            large.learn(&format!("p:f:{n}"), 10);
        }
        assert!(large.holds("p:f:1"));
        large.learn("p:f:1", LARGE_VALUE_BYTES);
        assert!(!large.holds("p:f:1"));
        assert_eq!(
            large.held.load(Relaxed),
            0,
            "none left: lookups read one word"
        );
        // However many, the table stays its size, and the latest are held.
        for n in 0..10_000 {
            large.remember(&format!("p:f:{n}"));
        }
        assert!((9_990..10_000).all(|n| large.holds(&format!("p:f:{n}"))));
        let taken = large.slots.iter().filter(|s| s.load(Relaxed) != 0).count();
        assert_eq!(large.held.load(Relaxed), taken);
    }
}
