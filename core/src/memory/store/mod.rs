//! The memory backend's operations: they keep the table, the nodes, the wheel and the
//! eviction policy in step. Every entry that leaves goes through [`leave`].

use core::borrow::Borrow;
use core::convert::Infallible;
use core::hash::{BuildHasher, Hash};

use crate::backend::{Backend, Entry, Lookup, Reclaimed};
use crate::time::{Deadline, Instant, Ttl};

use self::leave::{cause_at, never_fits, over};
use super::eviction::Eviction;
use super::listener::{RemovalCause, RemovalListener};
use super::node::Node;
use super::weigher::{Weigher, counted};
use super::wheel::WheelLink;
use super::{MemoryBackend, READ_RECLAIM_BUDGET, RECLAIM_BUDGET};
use crate::key_hash::KeyHash;

impl<K, E, H, P, W, L> MemoryBackend<K, E, H, P, W, L>
where
    K: Hash + Eq,
    H: BuildHasher,
    P: Eviction,
    W: Weigher<K, E>,
    L: RemovalListener<K, E>,
{
    fn find<Q: Eq + ?Sized>(&self, hash: u64, key: &Q) -> Option<u32>
    where
        K: Borrow<Q>,
    {
        let nodes = &self.nodes;
        self.table
            .find(hash, |&i| nodes[i as usize].key.borrow() == key)
            .copied()
    }

    /// The live entry under `key`, whose hash is `hash`, at `now`.
    #[inline(always)]
    fn entry_hashed<Q: Eq + ?Sized>(
        &mut self,
        key: &Q,
        hash: u64,
        now: Instant,
    ) -> Option<Entry<&E>>
    where
        K: Borrow<Q>,
    {
        // With an idle time, reads move deadlines, which the wheel pays for when the old
        // slots come due: reads pay their share, or with few writes to pay it the wheel
        // falls behind, and entries idle long ago stay held. Before the lookup: a removal
        // moves the last entry into its hole, and would move the index found.
        if self.idle.is_some() && self.wheel.may_be_due(now) {
            self.reclaim_after_reads(now);
        }
        let index = self.find(hash, key)?;
        if self.nodes[index as usize].deadline.is_expired(now) {
            // Hashed again: a removal must find the table's slot, and the store
            // vouches only for its own hash.
            self.remove_index(index, RemovalCause::Expired);
            return None;
        }
        // A policy without per-entry state compiles this away.
        self.eviction.accessed(index, hash);
        if let Some(idle) = &self.idle {
            // Only later: the wheel relinks the entry when its old slot comes due.
            let node = &mut self.nodes[index as usize];
            node.deadline = node.deadline.max(idle.extended(index, now));
        }
        let node = &self.nodes[index as usize];
        Some(Entry {
            value: &node.value,
            deadline: node.deadline,
        })
    }

    /// Reclaims due entries within a read's share of wheel work. Out of line, so that
    /// a hit stays small where it is inlined.
    #[inline(never)]
    fn reclaim_after_reads(&mut self, now: Instant) {
        self.reclaim(now, READ_RECLAIM_BUDGET);
    }

    /// The deadline an entry written at `now` with `own` expires at.
    fn deadline_of(&self, own: Deadline, now: Instant) -> Deadline {
        match &self.idle {
            Some(idle) => idle.deadline(own, now),
            None => own,
        }
    }

    /// Makes room in the table for one more index before anything else changes: that
    /// may hash every stored key again, and a key's `Hash` that panics there then
    /// finds nothing else changed. Growing into a new table leaves the old one whole;
    /// a rehash in place (after many removals) loses, in hashbrown, the indices it had
    /// not reached, whose entries can then no longer be found by key.
    #[inline]
    fn make_table_room(&mut self) {
        let (nodes, hasher) = (&self.nodes, &self.hasher);
        self.table
            .reserve(1, |&i| hasher.hash_one(&nodes[i as usize].key));
    }

    /// Evicts the victim at `index`, of `victim_weight`, and writes the new entry, of
    /// `weight`, in its position, which the policy already gave it: nothing else moves,
    /// where a removal moves the last entry into the hole.
    fn overwrite(
        &mut self,
        (index, victim_weight): (u32, usize),
        hash: u64,
        (key, value, weight): (K, E, usize),
        own: Deadline,
        now: Instant,
    ) {
        let old_hash = self.hasher.hash_one(&self.nodes[index as usize].key);
        self.make_table_room();
        self.wheel.unlink(self.nodes.as_mut_slice(), index);
        if let Ok(entry) = self.table.find_entry(old_hash, |&i| i == index) {
            entry.remove();
        }
        if let Some(idle) = &mut self.idle {
            idle.replaced(index, own);
        }
        let deadline = self.deadline_of(own, now);
        let node = Node {
            key,
            value,
            deadline,
            wheel: WheelLink::UNLINKED,
        };
        let old = core::mem::replace(&mut self.nodes[index as usize], node);
        self.lose_weight(victim_weight);
        self.gain_weight(weight);
        let (nodes, hasher) = (&self.nodes, &self.hasher);
        self.table
            .insert_unique(hash, index, |&i| hasher.hash_one(&nodes[i as usize].key));
        if !deadline.is_never() {
            self.wheel.insert(self.nodes.as_mut_slice(), index);
        }
        let cause = cause_at(old.deadline, now, RemovalCause::Evicted);
        self.report(old.key, old.value, cause);
    }

    /// Overwrites the live entry at `index` in place and returns the old value: the
    /// entry keeps its position and its place in the policy, which counts the write as
    /// an access.
    fn replace(&mut self, index: u32, hash: u64, value: E, own: Deadline, now: Instant) -> E {
        if let Some(idle) = &mut self.idle {
            idle.replaced(index, own);
        }
        let deadline = self.deadline_of(own, now);
        let node = &mut self.nodes[index as usize];
        let old = core::mem::replace(&mut node.value, value);
        if node.deadline != deadline {
            node.deadline = deadline;
            self.wheel.unlink(self.nodes.as_mut_slice(), index);
            if !deadline.is_never() {
                self.wheel.insert(self.nodes.as_mut_slice(), index);
            }
        }
        self.eviction.accessed(index, hash);
        old
    }
}

impl<K, E, H, P, W, L> Backend<K, E> for MemoryBackend<K, E, H, P, W, L>
where
    K: Hash + Eq,
    H: BuildHasher,
    P: Eviction,
    W: Weigher<K, E>,
    L: RemovalListener<K, E>,
{
    type Error = Infallible;
    const NAME: &'static str = "memory";

    fn set(
        &mut self,
        key: K,
        value: E,
        deadline: Deadline,
        now: Instant,
    ) -> Result<(), Infallible> {
        self.reclaim(now, RECLAIM_BUDGET);
        let capacity = self.eviction.capacity().unwrap_or(usize::MAX);
        let weight = counted(&self.weigher, &key, &value);
        // Without a capacity, weights bound nothing (they are only reported): a sum past
        // `usize::MAX`, easy on a 32-bit target, must not evict.
        let bounding = if self.eviction.capacity().is_some() || self.pool.is_some() {
            weight
        } else {
            0
        };
        let hash = self.hasher.hash_one(&key);
        if let Some(index) = self.find(hash, &key) {
            if self.nodes[index as usize].deadline.is_expired(now) {
                self.remove_at(index, hash, RemovalCause::Expired);
            } else if never_fits(weight, capacity) {
                // The old value is replaced by one that can never be stored.
                self.remove_at(index, hash, RemovalCause::Replaced);
                self.report(key, value, RemovalCause::Rejected);
                return Ok(());
            } else {
                let node = &self.nodes[index as usize];
                let old_weight = counted(&self.weigher, &node.key, &node.value);
                let held = self.weight.saturating_sub(old_weight);
                if !over(held, bounding, self.limit(capacity, bounding)) {
                    let old = self.replace(index, hash, value, deadline, now);
                    self.lose_weight(old_weight);
                    self.gain_weight(weight);
                    self.report(key, old, RemovalCause::Replaced);
                    return Ok(());
                }
                // Heavier and over capacity: room is made as for a new entry, so the
                // policy can never pick the entry being written as the victim.
                self.remove_at(index, hash, RemovalCause::Replaced);
            }
        }
        if never_fits(weight, capacity) {
            self.report(key, value, RemovalCause::Rejected);
            return Ok(());
        }
        let limit = self.limit(capacity, bounding);
        if let Some(victim) = self.make_room(hash, limit, bounding, now) {
            self.overwrite(victim, hash, (key, value, weight), deadline, now);
            return Ok(());
        }
        if over(self.weight, bounding, limit) {
            // The pool's other stores alone are over its budget (see `limit`).
            self.report(key, value, RemovalCause::Rejected);
            return Ok(());
        }
        self.make_table_room();
        let index = self.nodes.len() as u32;
        let own = deadline;
        let deadline = self.deadline_of(own, now);
        if let Some(idle) = &mut self.idle {
            idle.inserted(own);
        }
        self.nodes.push(Node {
            key,
            value,
            deadline,
            wheel: WheelLink::UNLINKED,
        });
        self.gain_weight(weight);
        let (nodes, hasher) = (&self.nodes, &self.hasher);
        self.table
            .insert_unique(hash, index, |&i| hasher.hash_one(&nodes[i as usize].key));
        if !deadline.is_never() {
            self.wheel.insert(self.nodes.as_mut_slice(), index);
        }
        self.eviction.inserted(index, hash);
        Ok(())
    }

    fn clear(&mut self) -> Result<(), Infallible> {
        self.table.clear();
        self.wheel.clear();
        self.eviction.cleared();
        if let Some(idle) = &mut self.idle {
            idle.cleared();
        }
        self.lose_weight(self.weight);
        // Taken out so each node can go through `report`; the allocation is kept.
        let mut nodes = core::mem::take(&mut self.nodes);
        for node in nodes.drain(..) {
            self.report(node.key, node.value, RemovalCause::Cleared);
        }
        self.nodes = nodes;
        (self.expired, self.evicted) = (0, 0);
        Ok(())
    }

    fn len(&mut self, now: Instant) -> Result<usize, Infallible> {
        self.reclaim(now, usize::MAX);
        for index in self.wheel.expired_current(self.nodes.as_mut_slice(), now) {
            self.remove_index(index, RemovalCause::Expired);
        }
        Ok(self.nodes.len())
    }

    fn capacity(&self) -> Option<usize> {
        match &self.pool {
            Some(pool) => Some(pool.share()),
            None => self.eviction.capacity(),
        }
    }

    fn time_to_idle(&self) -> Option<Ttl> {
        MemoryBackend::time_to_idle(self)
    }

    /// Turns time-to-idle off. Entries already held go back to their own deadlines:
    /// only ever later, which the wheel links them at once their slot comes due. (One
    /// that idled out but was not yet reclaimed lives again until its own deadline: call
    /// it before the first write, as the builders do.)
    fn keep_deadlines_as_written(&mut self) {
        if let Some(idle) = self.idle.take() {
            for (node, own) in self.nodes.iter_mut().zip(idle.own()) {
                node.deadline = *own;
            }
        }
    }

    fn reclaimed(&self) -> Reclaimed {
        Reclaimed {
            expirations: self.expired,
            evictions: self.evicted,
            near_hits: 0,
        }
    }
}

/// Takes every borrowed form `Q` of the key that `HashMap` would: `K: Borrow<Q>`, so `Q`
/// hashes and compares as `K` does.
impl<K, Q, E, H, P, W, L> Lookup<K, Q, E> for MemoryBackend<K, E, H, P, W, L>
where
    K: Hash + Eq + Borrow<Q>,
    Q: Hash + Eq + ?Sized,
    H: BuildHasher,
    P: Eviction,
    W: Weigher<K, E>,
    L: RemovalListener<K, E>,
{
    #[inline(always)]
    fn get_entry(&mut self, key: &Q, now: Instant) -> Result<Option<Entry<&E>>, Infallible> {
        let hash = self.hasher.hash_one(key);
        Ok(self.entry_hashed(key, hash, now))
    }

    #[inline(always)]
    fn get_entry_hashed(
        &mut self,
        key: &Q,
        hash: KeyHash,
        now: Instant,
    ) -> Result<Option<Entry<&E>>, Infallible> {
        let hash = match hash.if_hashed_by(self.hasher_fingerprint) {
            Some(hash) => hash,
            None => self.hasher.hash_one(key),
        };
        Ok(self.entry_hashed(key, hash, now))
    }

    fn remove(&mut self, key: &Q, now: Instant) -> Result<bool, Infallible> {
        let hash = self.hasher.hash_one(key);
        let Some(index) = self.find(hash, key) else {
            return Ok(false);
        };
        let deadline = self.nodes[index as usize].deadline;
        self.remove_at(index, hash, cause_at(deadline, now, RemovalCause::Removed));
        Ok(!deadline.is_expired(now))
    }
}

mod leave;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod upkeep_tests;
