//! How entries leave the store: removed, reclaimed when expired, or evicted to make
//! room, each reported once with its cause.

use core::hash::{BuildHasher, Hash};

use crate::time::{Deadline, Instant};

use crate::memory::eviction::Eviction;
use crate::memory::listener::{RemovalCause, RemovalListener};
use crate::memory::node::Node;
use crate::memory::weigher::{Weigher, counted};
use crate::memory::{MAX_ENTRIES, MemoryBackend, VICTIM_RECLAIM_BUDGET};

impl<K, E, H, P, W, L: RemovalListener<K, E>> MemoryBackend<K, E, H, P, W, L> {
    /// Every entry that leaves the store passes here exactly once, with its cause: the
    /// [`Reclaimed`] counts and the listener hang off this one place.
    pub(super) fn report(&mut self, key: K, value: E, cause: RemovalCause) {
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

/// Whether an entry of `weight` can never be stored under `capacity`: it alone weighs
/// more, or the capacity is 0, which stores nothing, entries that weigh 0 included.
pub(super) fn never_fits(weight: usize, capacity: usize) -> bool {
    weight > capacity || capacity == 0
}

/// Whether `more` weight on top of `held` goes over `limit`: a sum past `usize::MAX`
/// does (saturated, it would look equal to a limit of `usize::MAX`, and the total held
/// would drift from the true sum).
pub(super) fn over(held: usize, more: usize, limit: usize) -> bool {
    held.checked_add(more).is_none_or(|total| total > limit)
}

/// `otherwise`, unless the entry had expired by `now`: then its deadline is why it left.
pub(super) fn cause_at(deadline: Deadline, now: Instant, otherwise: RemovalCause) -> RemovalCause {
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
    /// Takes the node at `index` out of the table, the wheel and the policy, moving the
    /// last node into its place.
    pub(super) fn detach(&mut self, index: u32, hash: u64) -> Node<K, E> {
        let last = (self.nodes.len() - 1) as u32;
        // The user's code first, the weigher and the moved key's `Hash`: if either
        // panics, the store is as it was, with no weight counted twice or slot left
        // pointing past the end.
        let weight = {
            let node = &self.nodes[index as usize];
            counted(&self.weigher, &node.key, &node.value)
        };
        let moved = (index != last).then(|| self.hasher.hash_one(&self.nodes[last as usize].key));
        self.wheel.unlink(self.nodes.as_mut_slice(), index);
        if let Ok(entry) = self.table.find_entry(hash, |&i| i == index) {
            entry.remove();
        }
        let node = self.nodes.swap_remove(index as usize);
        self.eviction.removed(index, last);
        if let Some(idle) = &mut self.idle {
            idle.removed(index);
        }
        if let Some(moved) = moved {
            self.wheel.relocate(self.nodes.as_mut_slice(), last, index);
            if let Some(slot) = self.table.find_mut(moved, |&i| i == last) {
                *slot = index;
            }
        }
        // Empty, it holds nothing: a weigher that weighed an entry more when it came in
        // than now (against its contract) leaves no weight behind to refuse every insert.
        let weight = if self.nodes.is_empty() {
            self.weight
        } else {
            weight
        };
        self.lose_weight(weight);
        node
    }

    pub(super) fn remove_at(&mut self, index: u32, hash: u64, cause: RemovalCause) {
        let node = self.detach(index, hash);
        self.report(node.key, node.value, cause);
    }

    pub(super) fn remove_index(&mut self, index: u32, cause: RemovalCause) {
        let hash = self.hasher.hash_one(&self.nodes[index as usize].key);
        self.remove_at(index, hash, cause);
    }

    /// Reclaims due entries, at most `budget` units of wheel work.
    pub(super) fn reclaim(&mut self, now: Instant, mut budget: usize) {
        while self.reclaim_one(now, &mut budget) {}
    }

    /// Removes one entry the wheel finds expired, within `budget` units of wheel work:
    /// whether there was one.
    #[inline]
    pub(super) fn reclaim_one(&mut self, now: Instant, budget: &mut usize) -> bool {
        while let Some(index) = self
            .wheel
            .pop_expired(self.nodes.as_mut_slice(), now, budget)
        {
            let deadline = self.nodes[index as usize].deadline;
            if deadline.is_expired(now) {
                self.remove_expired(index);
                return true;
            }
            if !deadline.is_never() {
                // Read since it was linked (time-to-idle): due later now.
                self.wheel.insert(self.nodes.as_mut_slice(), index);
            }
        }
        false
    }

    /// Removes the expired entry at `index`, which the wheel just let go. Out of line,
    /// so that every write's check that nothing is due stays small where it is inlined.
    #[inline(never)]
    fn remove_expired(&mut self, index: u32) {
        // Linked again, in the next slot to reclaim, while the removal runs the user's
        // code (the key's `Hash`, the weigher): if that panics, the entry is still in
        // the wheel, and reclaimed later.
        self.wheel.insert(self.nodes.as_mut_slice(), index);
        self.remove_index(index, RemovalCause::Expired);
    }

    /// Evicts until `weight` more fits under `limit` and one more node fits, for an
    /// entry whose key hashes to `incoming`. If evicting the last victim alone makes
    /// room and the policy gives its position to the entry (see
    /// [`Eviction::replaced`]), returns that position and the victim's weight: the
    /// victim is still there, for [`overwrite`](Self::overwrite) to evict.
    pub(super) fn make_room(
        &mut self,
        incoming: u64,
        limit: usize,
        weight: usize,
        now: Instant,
    ) -> Option<(u32, usize)> {
        while !self.nodes.is_empty()
            && (over(self.weight, weight, limit) || self.nodes.len() >= MAX_ENTRIES)
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
            let victim_weight = counted(&self.weigher, &node.key, &node.value);
            let rest = self.weight.saturating_sub(victim_weight);
            if !over(rest, weight, limit) && self.eviction.replaced(victim, incoming) {
                return Some((victim, victim_weight));
            }
            let deadline = node.deadline;
            self.remove_index(victim, cause_at(deadline, now, RemovalCause::Evicted));
        }
        None
    }
}
