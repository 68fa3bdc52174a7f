//! `PersistentHash` for hash maps and sets, independent of iteration order.
//!
//! Each entry is digested on its own; the sorted digests are then written after the
//! length. Sorting (rather than XOR or a sum) keeps the combination collision-resistant.

use alloc::vec::Vec;
#[cfg(feature = "std")]
use std::collections::{HashMap as StdHashMap, HashSet as StdHashSet};

use super::{Digest, KeyHasher, PersistentHash};

fn hash_unordered<T: PersistentHash>(
    len: usize,
    items: impl Iterator<Item = T>,
    hasher: &mut KeyHasher,
) {
    let mut digests: Vec<Digest> = Vec::with_capacity(len);
    for item in items {
        let mut entry = KeyHasher::new();
        item.persistent_hash(&mut entry);
        match entry.finish() {
            Ok(digest) => digests.push(digest),
            Err(_) => hasher.mark_unhashable(),
        }
    }
    digests.sort_unstable();
    hasher.write_len(len);
    for digest in &digests {
        hasher.write_bytes(&digest.0);
    }
}

impl<K: PersistentHash, V: PersistentHash, S> PersistentHash for hashbrown::HashMap<K, V, S> {
    fn persistent_hash(&self, hasher: &mut KeyHasher) {
        hash_unordered(self.len(), self.iter(), hasher);
    }
}

impl<T: PersistentHash, S> PersistentHash for hashbrown::HashSet<T, S> {
    fn persistent_hash(&self, hasher: &mut KeyHasher) {
        hash_unordered(self.len(), self.iter(), hasher);
    }
}

#[cfg(feature = "std")]
impl<K: PersistentHash, V: PersistentHash, S> PersistentHash for StdHashMap<K, V, S> {
    fn persistent_hash(&self, hasher: &mut KeyHasher) {
        hash_unordered(self.len(), self.iter(), hasher);
    }
}

#[cfg(feature = "std")]
impl<T: PersistentHash, S> PersistentHash for StdHashSet<T, S> {
    fn persistent_hash(&self, hasher: &mut KeyHasher) {
        hash_unordered(self.len(), self.iter(), hasher);
    }
}
