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

use std::collections::HashSet;
use std::hash::BuildHasher;
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::sync::{Mutex, PoisonError};

use foldhash::fast::FixedState;

/// The most names remembered; past it they are all forgotten (each then costs one
/// more pause, at most, to learn again).
const MOST: usize = 1_024;

/// The names read apart, by a hash of the name: a collision only reads a small value on
/// the second connection.
#[derive(Default)]
pub(crate) struct LargeNames {
    /// Whether any name is remembered: a lookup reads only this, unless one is.
    any: AtomicBool,
    names: Mutex<HashSet<u64>>,
}

impl LargeNames {
    /// Whether `name` is read apart.
    #[inline]
    pub(crate) fn holds(&self, name: &str) -> bool {
        self.any.load(Relaxed) && self.lock().contains(&digest(name))
    }

    /// Reads `name` apart from now on.
    pub(crate) fn remember(&self, name: &str) {
        let mut names = self.lock();
        if names.len() >= MOST {
            names.clear();
        }
        names.insert(digest(name));
        self.any.store(true, Relaxed);
    }

    /// `name` holds a small value, or none: read it with the others again.
    pub(crate) fn forget(&self, name: &str) {
        if !self.any.load(Relaxed) {
            return;
        }
        let mut names = self.lock();
        names.remove(&digest(name));
        if names.is_empty() {
            self.any.store(false, Relaxed);
        }
    }

    /// Remembers or forgets `name` by the size of a value read or stored under it.
    pub(crate) fn learn(&self, name: &str, len: usize) {
        match len > super::super::LARGE_VALUE_BYTES {
            true => self.remember(name),
            false => self.forget(name),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashSet<u64>> {
        self.names.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

fn digest(name: &str) -> u64 {
    FixedState::with_seed(0).hash_one(name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::redis::LARGE_VALUE_BYTES;

    #[test]
    fn names_are_remembered_by_size_and_bounded() {
        let large = LargeNames::default();
        assert!(!large.holds("p:f:1"));
        large.learn("p:f:1", LARGE_VALUE_BYTES + 1);
        assert!(large.holds("p:f:1") && !large.holds("p:f:2"));
        large.learn("p:f:1", LARGE_VALUE_BYTES);
        assert!(!large.holds("p:f:1"));
        assert!(!large.any.load(Relaxed), "none left: lookups read one flag");
        for n in 0..=MOST {
            large.remember(&format!("p:f:{n}"));
        }
        assert!(large.lock().len() <= MOST);
        assert!(large.holds(&format!("p:f:{MOST}")), "the latest is kept");
    }
}
