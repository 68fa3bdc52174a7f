//! The memory backend's operations: they keep the table, the nodes, the wheel and the
//! eviction policy in step, and send every entry that leaves through one place.

use core::borrow::Borrow;
use core::convert::Infallible;
use core::hash::{BuildHasher, Hash};

use crate::backend::{Backend, Entry, Lookup, Reclaimed};
use crate::time::{Deadline, Instant, Ttl};

use super::eviction::Eviction;
use super::listener::{RemovalCause, RemovalListener};
use super::node::Node;
use super::weigher::Weigher;
use super::wheel::WheelLink;
use super::{MAX_ENTRIES, MemoryBackend, RECLAIM_BUDGET, VICTIM_RECLAIM_BUDGET};
use crate::key_hash::KeyHash;

impl<K, E, H, P, W, L: RemovalListener<K, E>> MemoryBackend<K, E, H, P, W, L> {
    /// Every entry that leaves the store passes here exactly once, with its cause: the
    /// [`Reclaimed`] counts and the listener hang off this one place.
    fn report(&mut self, key: K, value: E, cause: RemovalCause) {
        match cause {
            RemovalCause::Expired => self.expired += 1,
            RemovalCause::Evicted => self.evicted += 1,
            RemovalCause::Removed
            | RemovalCause::Replaced
            | RemovalCause::Cleared
            | RemovalCause::Rejected => {}
        }
        self.listener.on_removal(key, value, cause);
    }
}

/// `otherwise`, unless the entry had expired by `now`: then its deadline is why it left.
fn cause_at(deadline: Deadline, now: Instant, otherwise: RemovalCause) -> RemovalCause {
    if deadline.is_expired(now) {
        RemovalCause::Expired
    } else {
        otherwise
    }
}

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

    /// Takes the node at `index` out of the table, the wheel and the policy, moving the
    /// last node into its place.
    fn detach(&mut self, index: u32, hash: u64) -> Node<K, E> {
        self.wheel.unlink(self.nodes.as_mut_slice(), index);
        if let Ok(entry) = self.table.find_entry(hash, |&i| i == index) {
            entry.remove();
        }
        let last = (self.nodes.len() - 1) as u32;
        let node = self.nodes.swap_remove(index as usize);
        self.eviction.removed(index, last);
        if let Some(idle) = &mut self.idle {
            idle.removed(index);
        }
        if index != last {
            self.wheel.relocate(self.nodes.as_mut_slice(), last, index);
            let moved = self.hasher.hash_one(&self.nodes[index as usize].key);
            if let Some(slot) = self.table.find_mut(moved, |&i| i == last) {
                *slot = index;
            }
        }
        let weight = self.weigher.weigh(&node.key, &node.value);
        self.lose_weight(weight);
        node
    }

    fn remove_at(&mut self, index: u32, hash: u64, cause: RemovalCause) {
        let node = self.detach(index, hash);
        self.report(node.key, node.value, cause);
    }

    fn remove_index(&mut self, index: u32, cause: RemovalCause) {
        let hash = self.hasher.hash_one(&self.nodes[index as usize].key);
        self.remove_at(index, hash, cause);
    }

    /// Reclaims due entries, at most `budget` units of wheel work.
    fn reclaim(&mut self, now: Instant, mut budget: usize) {
        while self.reclaim_one(now, &mut budget) {}
    }

    /// Removes one entry the wheel finds expired, within `budget` units of wheel work:
    /// whether there was one.
    #[inline]
    fn reclaim_one(&mut self, now: Instant, budget: &mut usize) -> bool {
        while let Some(index) = self
            .wheel
            .pop_expired(self.nodes.as_mut_slice(), now, budget)
        {
            let deadline = self.nodes[index as usize].deadline;
            if deadline.is_expired(now) {
                self.remove_index(index, RemovalCause::Expired);
                return true;
            }
            if !deadline.is_never() {
                // Read since it was linked (time-to-idle): due later now.
                self.wheel.insert(self.nodes.as_mut_slice(), index);
            }
        }
        false
    }

    /// The deadline an entry written at `now` with `own` expires at.
    fn deadline_of(&self, own: Deadline, now: Instant) -> Deadline {
        match &self.idle {
            Some(idle) => idle.deadline(own, now),
            None => own,
        }
    }

    /// Evicts until `weight` more fits under `limit` and one more node fits, for an
    /// entry whose key hashes to `incoming`. If evicting the last victim alone makes
    /// room and the policy gives its position to the entry (see
    /// [`Eviction::replaced`]), returns that position and the victim's weight: the
    /// victim is still there, for [`overwrite`](Self::overwrite) to evict.
    fn make_room(
        &mut self,
        incoming: u64,
        limit: usize,
        weight: usize,
        now: Instant,
    ) -> Option<(u32, usize)> {
        while !self.nodes.is_empty()
            && (self.weight.saturating_add(weight) > limit || self.nodes.len() >= MAX_ENTRIES)
        {
            // An expired entry goes before a live victim: what the insert's budget left
            // due is searched first, within a bound of its own, so that an insert
            // still never stalls behind a large slot's cascade.
            let mut budget = VICTIM_RECLAIM_BUDGET;
            if self.wheel.may_be_due(now) && self.reclaim_one(now, &mut budget) {
                continue;
            }
            let (nodes, hasher) = (&self.nodes, &self.hasher);
            let hash_of = |index: u32| hasher.hash_one(&nodes[index as usize].key);
            let Some(victim) = self.eviction.victim(incoming, &hash_of) else {
                // A policy that tracks nothing is only over the position limit: any will do.
                let deadline = self.nodes[0].deadline;
                self.remove_index(0, cause_at(deadline, now, RemovalCause::Evicted));
                continue;
            };
            let node = &self.nodes[victim as usize];
            let victim_weight = self.weigher.weigh(&node.key, &node.value);
            let rest = self.weight.saturating_sub(victim_weight);
            if rest.saturating_add(weight) <= limit && self.eviction.replaced(victim, incoming) {
                return Some((victim, victim_weight));
            }
            let deadline = node.deadline;
            self.remove_index(victim, cause_at(deadline, now, RemovalCause::Evicted));
        }
        None
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
        let weight = self.weigher.weigh(&key, &value);
        let hash = self.hasher.hash_one(&key);
        if let Some(index) = self.find(hash, &key) {
            if self.nodes[index as usize].deadline.is_expired(now) {
                self.remove_at(index, hash, RemovalCause::Expired);
            } else if weight > capacity {
                // The old value is replaced by one that can never be stored.
                self.remove_at(index, hash, RemovalCause::Replaced);
                self.report(key, value, RemovalCause::Rejected);
                return Ok(());
            } else {
                let node = &self.nodes[index as usize];
                let old_weight = self.weigher.weigh(&node.key, &node.value);
                let total = self
                    .weight
                    .saturating_sub(old_weight)
                    .saturating_add(weight);
                if total <= self.limit(capacity, weight) {
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
        if weight > capacity {
            self.report(key, value, RemovalCause::Rejected);
            return Ok(());
        }
        let limit = self.limit(capacity, weight);
        if let Some(victim) = self.make_room(hash, limit, weight, now) {
            self.overwrite(victim, hash, (key, value, weight), deadline, now);
            return Ok(());
        }
        if self.weight.saturating_add(weight) > limit {
            // The pool's other stores alone are over its budget (see `limit`).
            self.report(key, value, RemovalCause::Rejected);
            return Ok(());
        }
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
        for index in self.wheel.drain_current(self.nodes.as_mut_slice(), now) {
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

#[cfg(test)]
mod tests;
