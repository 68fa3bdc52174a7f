//! Computations that run outside single-flight (solo): single-flight is off, a
//! computation asks for its own key, a caller may not wait, or the key's refresh is
//! running. Nobody can join them, but a write of their key must still keep their value
//! out of the cache, as it keeps out a detached flight's: a computation that began
//! before a `remove` read what the removal was meant to drop.

use std::hash::{BuildHasher, Hash};

use foldhash::fast::RandomState;

/// Keys are counted in this many buckets, by hash: a write of one key keeps out the
/// values of solo computations of every key in its bucket (a later miss computes them
/// again), never of other buckets.
const BUCKETS: usize = 16;

/// Solo computations and the writes that detach them, by bucket of keys.
pub(crate) struct Solos {
    /// Solo computations under way (counted only where a write must know).
    #[cfg(feature = "async")]
    running: [u32; BUCKETS],
    /// Writes (removals, inserts over a computation, clears) so far.
    writes: [u32; BUCKETS],
    hasher: RandomState,
}

impl Default for Solos {
    fn default() -> Self {
        Solos {
            #[cfg(feature = "async")]
            running: [0; BUCKETS],
            writes: [0; BUCKETS],
            hasher: RandomState::default(),
        }
    }
}

/// What a solo computation took when it began: its bucket, and the bucket's writes.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Ticket {
    bucket: usize,
    writes: u32,
}

impl Solos {
    fn bucket<Q: Hash + ?Sized>(&self, key: &Q) -> usize {
        (self.hasher.hash_one(key) % BUCKETS as u64) as usize
    }

    /// A solo computation of `key` begins; [`end`](Self::end) it.
    #[cfg(feature = "async")]
    pub(crate) fn begin<Q: Hash + ?Sized>(&mut self, key: &Q) -> Ticket {
        let ticket = self.ticket(key);
        self.running[ticket.bucket] += 1;
        ticket
    }

    #[cfg(feature = "async")]
    pub(crate) fn end(&mut self, ticket: Ticket) {
        let running = &mut self.running[ticket.bucket];
        *running = running.saturating_sub(1);
    }

    /// A ticket for a solo computation of `key` that nobody needs to know is running.
    pub(crate) fn ticket<Q: Hash + ?Sized>(&self, key: &Q) -> Ticket {
        let bucket = self.bucket(key);
        Ticket {
            bucket,
            writes: self.writes[bucket],
        }
    }

    /// Whether no write of its bucket came since `ticket` was taken.
    pub(crate) fn may_store(&self, ticket: Ticket) -> bool {
        self.writes[ticket.bucket] == ticket.writes
    }

    /// Whether a solo computation of a key in `key`'s bucket is under way.
    #[cfg(feature = "async")]
    pub(crate) fn running<Q: Hash + ?Sized>(&self, key: &Q) -> bool {
        self.running[self.bucket(key)] > 0
    }

    /// A write of `key`: solo computations of its bucket under way may not store.
    pub(crate) fn written<Q: Hash + ?Sized>(&mut self, key: &Q) {
        let bucket = self.bucket(key);
        self.writes[bucket] = self.writes[bucket].wrapping_add(1);
    }

    /// A write of every key (a clear).
    pub(crate) fn all_written(&mut self) {
        for writes in &mut self.writes {
            *writes = writes.wrapping_add(1);
        }
    }
}

#[cfg(all(test, feature = "async"))]
mod tests {
    use super::*;

    #[test]
    fn a_write_keeps_out_its_buckets_solo_values_and_no_others() {
        let mut solos = Solos::default();
        let other = (1..1_000u32)
            .find(|k| solos.bucket(k) != solos.bucket(&0))
            .unwrap();
        let (zero, one) = (solos.begin(&0u32), solos.begin(&other));
        assert!(solos.running(&0u32) && solos.running(&other));
        solos.written(&0u32);
        assert!(!solos.may_store(zero));
        assert!(solos.may_store(one));
        // Begun after the write: newer than it.
        assert!(solos.may_store(solos.ticket(&0u32)));
        solos.all_written();
        assert!(!solos.may_store(one));
        solos.end(zero);
        solos.end(one);
        assert!(!solos.running(&0u32) && !solos.running(&other));
    }
}
