//! A key hashed once, before a shard's lock, and reused by the store behind it.

use core::hash::{BuildHasher, Hash};

/// What every hasher is asked to hash to tell it from others: two hashers that hash
/// it alike are taken to hash everything alike.
const PROBE: u64 = 0x6a77_6d2d_6361_6368;

/// The fingerprint of `hasher`: its hash of a fixed probe, mixed with its type's name,
/// so that hashers of two types that happen to agree on the probe still differ.
pub(crate) fn fingerprint<H: BuildHasher>(hasher: &H) -> u64 {
    // FNV-1a over the name: the same on every run, whatever `H` does.
    let name = core::any::type_name::<H>()
        .bytes()
        .fold(0xcbf2_9ce4_8422_2325, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
        });
    hasher.hash_one(PROBE) ^ name
}

/// A hasher that a router and the stores behind it share, so a key hashed once to pick
/// a shard need not be hashed again under the shard's lock: build each store with a
/// clone of [`hasher`](Self::hasher) and look up with [`Lookup::get_entry_hashed`].
///
/// A store uses a [`KeyHash`] only if the hasher's fingerprint (its hash of a fixed
/// probe, and its type) matches its own, and hashes the key itself otherwise; and it
/// still compares keys. So a hash from another hasher costs time, never a wrong entry.
/// The hash must be the looked-up key's: another key's sends the store to the wrong
/// place, and the lookup misses.
///
/// [`Lookup::get_entry_hashed`]: crate::backend::Lookup::get_entry_hashed
///
/// ```
/// use jwm_cache_core::{Backend, Deadline, Instant, Lookup, MemoryBackend, SharedHasher};
///
/// let shared = SharedHasher::new(foldhash::fast::RandomState::default());
/// let mut store = MemoryBackend::<u64, u64, _>::with_hasher(None, shared.hasher().clone());
/// store.set(7, 49, Deadline::NEVER, Instant::ZERO).unwrap();
/// let hash = shared.hash(&7u64); // e.g. to pick a shard
/// let entry = store.get_entry_hashed(&7, hash, Instant::ZERO).unwrap();
/// assert_eq!(entry.map(|e| *e.value), Some(49));
/// ```
#[derive(Clone, Debug)]
pub struct SharedHasher<H> {
    hasher: H,
    fingerprint: u64,
}

impl<H: BuildHasher> SharedHasher<H> {
    /// Shares `hasher`.
    pub fn new(hasher: H) -> Self {
        let fingerprint = fingerprint(&hasher);
        SharedHasher {
            hasher,
            fingerprint,
        }
    }

    /// `key`'s hash, marked with this hasher's fingerprint.
    #[inline]
    pub fn hash<Q: Hash + ?Sized>(&self, key: &Q) -> KeyHash {
        KeyHash {
            value: self.hasher.hash_one(key),
            fingerprint: self.fingerprint,
        }
    }

    /// The hasher, to build the stores that share it.
    pub fn hasher(&self) -> &H {
        &self.hasher
    }
}

impl<H: BuildHasher + Default> Default for SharedHasher<H> {
    fn default() -> Self {
        Self::new(H::default())
    }
}

/// A key's hash from a [`SharedHasher`], with the fingerprint of that hasher.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KeyHash {
    value: u64,
    fingerprint: u64,
}

impl KeyHash {
    /// The hash itself: what a router picks a shard by.
    #[inline]
    pub fn value(self) -> u64 {
        self.value
    }

    /// The hash, if it came from a hasher with this `fingerprint`.
    #[inline]
    pub(crate) fn if_hashed_by(self, fingerprint: u64) -> Option<u64> {
        (self.fingerprint == fingerprint).then_some(self.value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::{Backend, Lookup};
    use crate::memory::MemoryBackend;
    use crate::time::{Deadline, Instant};
    use foldhash::fast::{FixedState, RandomState};

    #[test]
    fn a_store_uses_a_shared_hash_and_hashes_a_foreign_one_itself() {
        // Fixed seeds, so whether 8's probe could meet 7 is settled once, not per run.
        let shared = SharedHasher::new(FixedState::with_seed(1));
        let mut store = MemoryBackend::<u64, u64, _>::with_hasher(None, shared.hasher().clone());
        let now = Instant::ZERO;
        for k in 0..100 {
            store.set(k, k * 10, Deadline::NEVER, now).unwrap();
        }
        let found = |store: &mut MemoryBackend<u64, u64, _>, key, hash| {
            store
                .get_entry_hashed(&key, hash, now)
                .unwrap()
                .map(|entry| *entry.value)
        };
        assert_eq!(found(&mut store, 7, shared.hash(&7u64)), Some(70));
        // The store takes a shared hash as given: another key's sends it elsewhere.
        assert_eq!(found(&mut store, 7, shared.hash(&8u64)), None);
        // Another hasher's is not used: the store hashes the key itself.
        let foreign = SharedHasher::new(FixedState::with_seed(2));
        assert_eq!(found(&mut store, 7, foreign.hash(&8u64)), Some(70));
    }

    #[test]
    fn a_hash_is_used_only_by_a_store_with_the_same_hasher() {
        let shared = SharedHasher::new(RandomState::default());
        let same = fingerprint(shared.hasher());
        let other = fingerprint(&RandomState::default());
        let hash = shared.hash(&7u64);
        assert_eq!(
            hash.if_hashed_by(same),
            Some(shared.hasher().hash_one(7u64))
        );
        assert_ne!(same, other);
        assert_eq!(hash.if_hashed_by(other), None);
    }

    #[test]
    fn hashers_of_two_types_differ_even_if_they_hash_alike() {
        use core::hash::{BuildHasherDefault, Hasher};
        #[derive(Default)]
        struct Zero;
        impl Hasher for Zero {
            fn finish(&self) -> u64 {
                0
            }
            fn write(&mut self, _: &[u8]) {}
        }
        #[derive(Default)]
        struct AlsoZero;
        impl Hasher for AlsoZero {
            fn finish(&self) -> u64 {
                0
            }
            fn write(&mut self, _: &[u8]) {}
        }
        let zero = fingerprint(&BuildHasherDefault::<Zero>::default());
        let also_zero = fingerprint(&BuildHasherDefault::<AlsoZero>::default());
        assert_ne!(zero, also_zero);
        assert_eq!(zero, fingerprint(&BuildHasherDefault::<Zero>::default()));
    }
}
